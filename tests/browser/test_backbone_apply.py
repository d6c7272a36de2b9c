"""Backbone selection (BB-2) in a real browser: a teacher short of credits sees why; a qualified one applies."""

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from backbone.models import Application
from backbone.services import round_open
from bureau.choices import Role
from bureau.services import user_assign_role
from credits.services import ledger_adjust
from tests.browser.helpers import SCREENSHOTS, log_in
from tests.factories import TeacherFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def round_(users):
    return round_open(year=2026, tier="县级", type_="学科带头人", places=1, district=users["teacher"].teacher.school.district,
                      actor=users["bureau"])


@pytest.fixture
def qualified(users, city):
    """一级教师, 本科, 41 on 2026-08-31, teaching since 2007, 72 credits in 2024 and in 2025."""
    teacher = TeacherFactory(staff_no="T9", name="赵九", school=city["schools"][0], title="一级教师", education="本科",
                             birth_date=dt.date(1985, 3, 14), employed_on=dt.date(2007, 9, 1))
    for year in (2024, 2025):
        ledger_adjust(teacher_id=teacher.pk, entry_date=dt.date(year, 4, 1), hours=D(72), credits=D(72),
                      reason="测试", actor=users["bureau"])
    user = UserFactory(username="teacher2")
    user_assign_role(user=user, role=Role.TEACHER, teacher=teacher, actor=users["superuser"])
    return teacher


def test_teacher_short_of_credits_sees_the_reasons(page, users, round_):
    log_in(page, "teacher")
    page.get_by_role("navigation").get_by_role("link", name="骨干评选").click()
    expect(page).to_have_url(re.compile(r"/backbone/$"))
    block = page.locator(f"#round-{round_.pk}")
    expect(block.get_by_role("heading")).to_have_text("2026年县级学科带头人评选")
    reasons = block.locator(".not-qualified")
    expect(reasons).to_be_visible()
    expect(reasons).to_contain_text("暂不符合申报条件")
    expect(reasons.locator("li", has_text="2025年度学分未达标")).to_be_visible()
    expect(block.get_by_role("button", name="申报")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "browser-backbone-not-qualified.png"), full_page=True)


def test_qualified_teacher_applies(page, users, round_, qualified):
    log_in(page, "teacher2")
    page.get_by_role("navigation").get_by_role("link", name="骨干评选").click()
    block = page.locator(f"#round-{round_.pk}")
    expect(block).to_contain_text("符合申报条件")
    expect(block.locator(".not-qualified")).to_have_count(0)
    block.get_by_role("button", name="申报").click()
    expect(page.locator(".messages")).to_contain_text("已申报2026年县级学科带头人评选")
    expect(block.locator(".badge.ok")).to_have_text("已申报")
    expect(block.get_by_role("button", name="申报")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "browser-backbone-applied.png"), full_page=True)
    assert Application.objects.get(round=round_).teacher == qualified
