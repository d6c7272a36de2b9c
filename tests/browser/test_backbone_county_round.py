"""A district runs a county backbone round from opening to award on screens (BB-3 amended): open the round
with a subject quota; teachers apply and the principal recommends (services, as they would on their own
pages); notice; an objection from the public notice page holds its candidate until resolved; scores typed;
the shortlist keeps the quota; one trainee passes, one is dropped; the award puts the one who passed on
the roster."""

import datetime as dt
import re
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from backbone.models import Application, RosterEntry, SelectionRound
from backbone.services import application_apply, application_recommend
from bureau.choices import Role
from bureau.services import user_assign_role
from credits.services import ledger_adjust
from tests.browser.helpers import SCREENSHOTS, log_in, log_out, open_from_menu
from tests.factories import TeacherFactory, UserFactory

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOTICE_MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)  # the notice runs to Friday 27 November
REVIEW_MONDAY = dt.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def applicants(users, city):
    """Three qualified teachers of 东一小学 (district D1): two of 语文, one of 数学, with accounts."""
    people = {}
    for staff_no, name, subject in [("A1", "赵语文", "语文"), ("B2", "钱语文", "语文"), ("C3", "孙数学", "数学")]:
        teacher = TeacherFactory(staff_no=staff_no, name=name, subject=subject, school=city["schools"][0],
                                 title="一级教师", education="本科", birth_date=dt.date(1988, 5, 1),
                                 employed_on=dt.date(2012, 9, 1))
        for year in (2024, 2025):
            ledger_adjust(teacher_id=teacher.pk, entry_date=dt.date(year, 4, 1), hours=D(72), credits=D(72),
                          reason="测试", actor=users["bureau"])
        user = UserFactory(username=f"t-{staff_no}")
        user_assign_role(user=user, role=Role.TEACHER, teacher=teacher, actor=users["superuser"])
        people[name] = user
    return people


def _step(page, name):
    page.get_by_role("button", name=name).click()


def test_district_runs_a_county_round_from_opening_to_award(page, users, applicants):
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of the shortlist and the award
    with time_machine.travel(NOTICE_MONDAY, tick=True):
        log_in(page, "district")
        open_from_menu(page, "骨干教师")
        expect(page).to_have_url(re.compile(r"/backbone/manage/$"))
        form = page.locator("#open-round")
        form.get_by_label("类别").select_option("骨干教师")
        form.get_by_label("认定名额").fill("2")
        form.get_by_label("每校推荐名额").fill("3")
        form.locator('input[name="quota-0-subject"]').fill("语文")
        form.locator('input[name="quota-0-places"]').fill("1")
        form.get_by_role("button", name="发起评选").click()
        expect(page.locator(".messages")).to_contain_text("已发起2026年县级骨干教师评选")
        round_ = SelectionRound.objects.get()
        assert round_.district == users["district"].profile.district
        expect(page.locator("body")).to_contain_text("名额分配：语文 1 个")

        # Teachers apply and the principal recommends, on their own pages (tested elsewhere).
        for user in applicants.values():
            application = application_apply(round_=round_, actor=user)
            application_recommend(application=application, recommend=True, actor=users["principal"])

        page.reload()
        _step(page, "发布公示")
        expect(page.locator(".messages")).to_contain_text("公示期至 2026-11-27")
        expect(page.locator("#round-status")).to_have_text("公示中")
        log_out(page)

        # Anyone reads the notice and objects, without an account.
        page.goto(f"/backbone/notice/{round_.pk}/")
        objection_form = page.locator("#objection-form")
        objection_form.get_by_label("针对的人选").select_option(label="钱语文（东一小学）")
        objection_form.get_by_label(re.compile("异议内容")).fill("该教师的公开课材料与他人雷同。")
        objection_form.get_by_role("button", name="提交异议").click()
        expect(page.locator(".messages")).to_contain_text("异议已收到")
        page.screenshot(path=str(SCREENSHOTS / "browser-backbone-notice-objection.png"), full_page=True)

    with time_machine.travel(REVIEW_MONDAY, tick=True):
        log_in(page, "district")
        page.goto(f"/backbone/manage/{round_.pk}/")
        held = Application.objects.get(teacher__name="钱语文")
        expect(page.locator(f"#application-{held.pk}")).to_contain_text("异议待处理")
        _step(page, "公示期满，开始评审")
        expect(page.locator("#round-status")).to_have_text("评审中")

        page.get_by_role("link", name="评分").click()
        for name, score in [("赵语文", "90"), ("钱语文", "85"), ("孙数学", "80")]:
            page.get_by_label(f"{name} 得分").fill(score)
        _step(page, "保存得分")
        expect(page.locator(".messages")).to_contain_text("已保存得分（3 人有变化）")
        page.get_by_role("link", name="← 返回评选").click()

        _step(page, "确定入围名单")  # held by the open objection
        expect(page.locator(".messages")).to_contain_text("公示异议尚未处理（钱语文）")
        objection = page.locator("#objections .step").first
        objection.get_by_label("核查结论").fill("经核查，材料为本人原创，异议不成立。")
        objection.get_by_role("button", name="异议不成立").click()
        expect(page.locator(".messages")).to_contain_text("异议不成立，钱语文继续参加评选")

        _step(page, "确定入围名单")
        expect(page.locator(".messages")).to_contain_text("2 人为培养对象")
        expect(page.locator("#round-status")).to_have_text("培养中")
        # The 语文 quota of one place holds: 钱语文 (85) is out, 孙数学 (80) is in.
        rows = page.locator("#candidates")
        expect(rows.locator("tr", has_text="赵语文")).to_contain_text("培养对象")
        expect(rows.locator("tr", has_text="孙数学")).to_contain_text("培养对象")
        expect(rows.locator("tr", has_text="钱语文")).to_contain_text("未入选")

        passing = rows.locator("tr", has_text="赵语文")
        passing.get_by_role("button", name="合格", exact=True).click()
        expect(page.locator(".messages")).to_contain_text("赵语文的培养考核：合格")
        dropped = page.locator("#candidates tr", has_text="孙数学")
        dropped.get_by_label("孙数学 考核理由").fill("培养期满考核不合格")
        dropped.get_by_role("button", name="不合格，淘汰").click()
        expect(page.locator("#candidates tr", has_text="孙数学")).to_contain_text("培养淘汰")

        _step(page, "认定并发放证书")
        expect(page.locator(".messages")).to_contain_text("已认定 1 人")
        expect(page.locator("#round-status")).to_have_text("已认定")
        expect(page.locator("#entries")).to_contain_text("赵语文")
        expect(page.locator("#entries")).to_contain_text("2031-11-30")
        page.screenshot(path=str(SCREENSHOTS / "browser-backbone-county-awarded.png"), full_page=True)

        # The roster shows the new entry.
        open_from_menu(page, "骨干教师", "骨干名册")
        row = page.locator("tr", has_text="赵语文")
        expect(row).to_contain_text("2026XD1G0001")
        expect(row).to_contain_text("有效")

    entry = RosterEntry.objects.get()
    assert (entry.teacher.name, entry.tier, entry.type, entry.status) == ("赵语文", "县级", "骨干教师", "active")
    assert Application.objects.get(teacher__name="孙数学").outcome_note == "培养期满考核不合格"
