"""Exchange (EX-5, EX-8) in a real browser: the principal proposes an eligible teacher, the district approves."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from exchange.models import Proposal
from exchange.services import plan_open
from tests.browser.helpers import SCREENSHOTS, log_in, log_out

pytestmark = pytest.mark.browser


@pytest.fixture
def plan(users, city):
    t1 = city["teachers"][0]
    # T1 is on the 2026 list: a primary school, at S1 since 2015 (≥ 6 years on 2026-08-31), a woman aged 41.
    assert (t1.school.stage, t1.gender) == ("小学", "女")
    assert t1.joined_school_on <= dt.date(2020, 8, 31) and t1.birth_date > dt.date(1976, 8, 31)
    return plan_open(year=2026, actor=users["bureau"])


def test_principal_proposes_and_district_approves(page, users, city, plan):
    s2 = city["schools"][1]
    # The principal proposes 张一 for 东二小学.
    log_in(page, "principal")
    page.get_by_role("navigation").get_by_role("link", name="交流轮岗").click()
    expect(page).to_have_url(re.compile(r"/exchange/school/$"))
    row = page.locator("#eligible tbody tr", has_text="张一")
    expect(row).to_contain_text("任职满6年")
    row.locator('select[name="form"]').select_option(label="片区内交流")
    row.locator('select[name="receiving_school"]').select_option(label="S2 东二小学")
    row.get_by_role("button", name="推荐").click()
    expect(page.locator(".messages")).to_contain_text("已提交 张一 的交流推荐")
    expect(page.locator("#eligible tbody tr", has_text="张一")).to_contain_text("已在名单")
    listed = page.locator("#proposals tbody tr", has_text="张一")
    expect(listed).to_contain_text("东二小学")
    expect(listed).to_contain_text("学校推荐")
    page.screenshot(path=str(SCREENSHOTS / "browser-exchange-school.png"), full_page=True)
    proposal = Proposal.objects.get()
    assert (proposal.status, proposal.form, proposal.receiving_school) == ("proposed", "cluster", s2)

    # The district approves it.
    log_out(page)
    log_in(page, "district")
    page.get_by_role("navigation").get_by_role("link", name="交流轮岗").click()
    expect(page).to_have_url(re.compile(r"/exchange/$"))
    pending = page.locator("#pending-proposals tbody tr", has_text="张一（T1）")
    expect(pending).to_contain_text("东一小学")
    expect(pending).to_contain_text("东二小学")
    pending.get_by_role("button", name="批准").click()
    expect(page.locator(".messages")).to_contain_text("已处理 张一")
    expect(page.locator("#pending-proposals")).to_have_count(0)  # nothing left to approve
    quota = page.locator("#school-quotas tbody tr", has_text="东一小学")
    expect(quota.locator("td").nth(5)).to_have_text("1")  # 已批准
    page.screenshot(path=str(SCREENSHOTS / "browser-exchange-overview.png"), full_page=True)
    proposal.refresh_from_db()
    assert proposal.status == "approved"
