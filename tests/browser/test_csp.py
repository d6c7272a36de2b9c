"""SEC-5 in a real browser: the content security policy is sent, and the pages that run scripts (charts, the
report progress, confirmations, the admin, Swagger UI) still work under it with no violation (the `page`
fixture fails any test on a violation)."""

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from credits.services import ledger_adjust
from tests.browser.helpers import PASSWORD, log_in

pytestmark = pytest.mark.browser

CHART_DRAWN = "id => { const c = document.getElementById(id); return !!(window.Chart && Chart.getChart(c)); }"


def test_policy_header_is_sent_and_an_inline_script_is_refused(page, db):
    response = page.goto("/accounts/login/")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    # the policy is enforced: an injected inline script does not run, and Chromium reports the refusal
    page.evaluate("""() => { const s = document.createElement("script"); s.textContent = "window.injected = 1";
                             document.body.appendChild(s); }""")
    assert page.evaluate("() => window.injected") is None
    page.wait_for_timeout(300)  # the console message arrives asynchronously
    assert page.csp_violations, "Chromium did not report the refused inline script"
    page.csp_violations.clear()


def test_school_dashboard_chart_is_drawn(page, users, city):
    ledger_adjust(teacher_id=city["teachers"][0].pk, entry_date=dt.date(2026, 4, 1), hours=D(10), credits=D(10),
                  reason="测试", actor=users["bureau"])
    log_in(page, "principal")
    expect(page).to_have_url(re.compile(r"/school/$"))
    page.wait_for_function(CHART_DRAWN, arg="trend")


def test_report_progress_city_chart_and_close_confirmation(page, users, city):
    log_in(page, "bureau")
    page.goto("/reports/?year=2026")
    page.get_by_role("button", name="立即生成实时报告").click()
    expect(page.locator("#status")).to_contain_text("已完成")
    expect(page.locator("#done")).to_be_visible()
    page.get_by_role("link", name="查看看板").click()
    page.wait_for_function(CHART_DRAWN, arg="districts")
    page.goto("/reports/?year=2026")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="年度关账").click()
    assert asked and "确认关账" in asked[0]
    expect(page).to_have_url(re.compile(r"/reports/\?year=2026$"))  # dismissed: nothing was posted


def test_admin_pages_work_under_the_policy(page, users, city):
    page.goto("/admin/login/")
    page.locator('input[name="username"]').fill("root")
    page.locator('input[name="password"]').fill(PASSWORD)
    page.get_by_role("button", name=re.compile("登录")).click()
    expect(page.locator("#site-name")).to_be_visible()
    page.goto("/admin/bureau/teacher/")
    expect(page.locator("#result_list")).to_contain_text("张一")
    page.goto(f"/admin/bureau/teacher/{city['teachers'][0].pk}/change/")
    expect(page.locator("#teacher_form")).to_be_visible()
    assert page.evaluate("() => typeof django !== 'undefined' && typeof django.jQuery === 'function'")
    page.goto("/admin/bureau/school/add/")
    expect(page.locator("#school_form")).to_be_visible()


def test_swagger_ui_renders_under_the_policy(page, users):
    log_in(page, "bureau")
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("教师发展平台 API")
    expect(page.locator(".opblock").first).to_be_visible()
