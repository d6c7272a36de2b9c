"""The enrolment chain in a real browser: a teacher finds a project full and waits; the holder withdraws
and the waiting teacher is promoted; the principal approves in bulk; the organiser (a district, its own
县培) filters its enrolment page and admits in bulk; the teacher sees 已录取 and the calendar link."""

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import SCREENSHOTS, log_in, log_out
from tests.factories import TeacherFactory
from training.models import Enrolment, Project

pytestmark = pytest.mark.browser


@pytest.fixture
def project(transactional_db, city):
    return Project.objects.create(
        code="X24", name="县域新课标研修", level="县培", mode="集中面授", kind="必修", theme="学科教学",
        hours=D("24"), start_on=dt.date(2026, 12, 1), end_on=dt.date(2026, 12, 3), organiser="城东区教师发展中心",
        status="enrolling", capacity=2, owner_district=city["districts"][0],
    )


def test_waiting_list_bulk_decisions_and_the_organiser_page(page, users, city, project):
    s1 = city["schools"][0]
    holder = Enrolment.objects.create(project=project, teacher=TeacherFactory(school=s1, name="甲老师"))
    Enrolment.objects.create(project=project, teacher=TeacherFactory(school=s1, name="乙老师"))

    # The teacher finds the project full and joins the waiting list.
    log_in(page, "teacher")
    page.goto("/portal/projects/")
    row = page.locator("#open-projects tbody tr", has_text="县域新课标研修")
    row.get_by_role("button", name="名额已满，加入候补").click()
    expect(page.locator(".messages")).to_contain_text("已进入候补")
    expect(page.locator("#my-enrolments tbody tr", has_text="X24")).to_contain_text("候补中")
    log_out(page)

    # A seat frees (the principal rejects the holder, here through the service): the waiting teacher is promoted.
    from training.services import enrolment_transition
    enrolment_transition(enrolment=holder, action="reject", actor=users["principal"], reason="课务冲突")
    mine = Enrolment.objects.get(project=project, teacher=city["teachers"][0])
    assert mine.state == "applied"

    # The principal approves both pending enrolments at once.
    log_in(page, "principal")
    page.goto("/school/enrolments/")
    pending = page.locator("#pending-enrolments tbody tr")
    expect(pending).to_have_count(2)
    for checkbox in page.locator('#pending-enrolments input[type="checkbox"]').all():
        checkbox.check()
    page.get_by_role("button", name="勾选的全部通过").click()
    expect(page.locator(".messages")).to_contain_text("已处理 2 条报名")
    log_out(page)

    # The district (the project's organiser) filters its page and admits both.
    log_in(page, "district")
    page.goto("/organise/enrolments/")
    page.get_by_label("状态").select_option(label="学校已审核")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"state=school_approved"))
    rows = page.locator("#organise-enrolments tbody tr")
    expect(rows).to_have_count(2)
    for checkbox in page.locator('#organise-enrolments input[type="checkbox"]').all():
        checkbox.check()
    page.get_by_label("操作").select_option(label="录取")
    page.get_by_role("button", name="批量处理").click()
    expect(page.locator(".messages")).to_contain_text("已处理 2 条报名")
    expect(page).to_have_url(re.compile(r"state=school_approved"))
    page.screenshot(path=str(SCREENSHOTS / "browser-organise-enrolments.png"), full_page=True)
    log_out(page)

    # The teacher sees the admission, the notices and the calendar link.
    log_in(page, "teacher")
    page.goto("/portal/projects/")
    mine_row = page.locator("#my-enrolments tbody tr", has_text="X24")
    expect(mine_row).to_contain_text("已录取")
    expect(mine_row.get_by_role("link", name="加入日历")).to_have_attribute(
        "href", f"/portal/enrolments/{mine.pk}/calendar.ics")
    page.goto("/notices/")
    expect(page.locator("main")).to_contain_text("候补递补成功")
    expect(page.locator("main")).to_contain_text("已录取")
