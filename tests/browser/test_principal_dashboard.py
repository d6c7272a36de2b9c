"""The CR-7 flag banner in a real browser: shown to the principal of a flagged school, absent for a compliant one."""

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from credits.services import ledger_adjust
from tests.browser.helpers import SCREENSHOTS, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def s2_compliant(users, city):
    """S1's only teacher (T1) has no credits: S1 is flagged. S2's only teacher (T2) has 80 credits in 2026."""
    ledger_adjust(teacher_id=city["teachers"][1].pk, entry_date=dt.date(2026, 4, 1), hours=D(80), credits=D(80),
                  reason="测试", actor=users["bureau"])
    return city["schools"][1]


def test_principal_of_a_flagged_school_sees_the_banner(page, users, city, s2_compliant):
    log_in(page, "principal")
    expect(page).to_have_url(re.compile(r"/school/$"))  # the home page sends principals to their dashboard
    expect(page.get_by_role("heading", level=1)).to_have_text("东一小学 · 2026 年度学分达标")
    banner = page.locator("#flag-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("学分达标预警")
    expect(banner).to_contain_text("未达标教师 1 人，占应考核教师的 100%")
    expect(page.locator("#short-teachers")).to_contain_text("张一")
    page.screenshot(path=str(SCREENSHOTS / "browser-principal-dashboard.png"), full_page=True)


def test_compliant_school_shows_no_banner_to_bureau_staff(page, users, city, s2_compliant):
    log_in(page, "bureau")
    page.goto(f"/dashboard/school/{s2_compliant.pk}/?year=2026")
    expect(page.get_by_role("heading", level=1)).to_have_text("东二小学 · 2026 年度学分达标")
    expect(page.locator("#short-count")).to_have_text("0")
    expect(page.locator("#short-teachers")).to_contain_text("全部应考核教师均已达标")
    expect(page.locator("#flag-banner")).to_have_count(0)
    expect(page.get_by_text("学分达标预警")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "browser-staff-school-dashboard.png"), full_page=True)
