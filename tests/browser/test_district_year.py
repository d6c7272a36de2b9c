"""Who organises what (SPEC §1) in a real browser: a district creates a 县培 project on its page, publishes it
and opens enrolment, then approves a teacher's school-approved enrolment on a screen; a principal creates a
校本 project and requests an exemption, which the district grants from its queue."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from credits.models import Exemption
from tests.browser.helpers import SCREENSHOTS, log_in, log_out, open_from_menu
from training.models import Enrolment, Project
from training.services import enrolment_apply, enrolment_transition

pytestmark = pytest.mark.browser


def fill_project(page, *, code: str, name: str, mode: str = "集中面授"):
    form = page.locator("#project-form")
    form.get_by_label("项目编号").fill(code)
    form.get_by_label("项目名称").fill(name)
    form.get_by_label("培训方式").select_option(mode)
    form.get_by_label("主题").select_option("学科教学")
    form.get_by_label("学时", exact=True).fill("24")
    form.get_by_label("开始日期").fill("2027-03-01")
    form.get_by_label("结束日期").fill("2027-03-03")
    form.get_by_label("承办单位").fill("区教师进修学校")
    form.get_by_label("名额").fill("30")
    form.get_by_role("button", name="新建项目").click()


def test_a_district_runs_its_county_project_and_approves_an_enrolment(page, users, city):
    log_in(page, "district")
    page.get_by_role("navigation").get_by_role("link", name="培训项目").click()
    expect(page).to_have_url(re.compile(r"/organise/projects/$"))
    fill_project(page, code="X2027-01", name="小学数学新课标全员培训")
    expect(page.locator(".messages")).to_contain_text("已新建项目“小学数学新课标全员培训”（草稿）")
    expect(page.locator("#project-status")).to_have_text("草稿")
    page.locator("#project-steps").get_by_role("button", name="发布").click()
    expect(page.locator("#project-status")).to_have_text("已发布")
    page.locator("#project-steps").get_by_role("button", name="开始报名").click()
    expect(page.locator("#project-status")).to_have_text("报名中")
    page.screenshot(path=str(SCREENSHOTS / "browser-district-project.png"), full_page=True)
    project = Project.objects.get(code="X2027-01")
    assert (project.level, project.owner_district_id, project.status) == ("县培", city["districts"][0].pk, "enrolling")

    # The teacher applies and the school approves (through the services: their pages have their own tests).
    enrolment = enrolment_apply(project=project, teacher=city["teachers"][0], actor=users["teacher"],
                                today=timezone.localdate())
    enrolment_transition(enrolment=enrolment, action="school_approve", actor=users["principal"])

    # The district opens the project's enrolments from the hub and approves (录取) on the screen.
    page.locator("#hub-enrolments").click()
    row = page.locator("#organise-enrolments tbody tr", has_text="张一")
    expect(row).to_contain_text("学校已审核")
    row.locator('input[name="ids"]').check()
    page.locator('select[name="action"]').select_option("approve")
    page.get_by_role("button", name="批量处理").click()
    expect(page.locator(".messages")).to_contain_text("已处理 1 条")
    assert Enrolment.objects.get(pk=enrolment.pk).state == "approved"


def test_a_principal_creates_a_school_project_and_requests_an_exemption(page, users, city):
    log_in(page, "principal")
    page.get_by_role("navigation").get_by_role("link", name="校本项目").click()
    expect(page).to_have_url(re.compile(r"/organise/projects/$"))
    fill_project(page, code="S2027-01", name="东一小学听评课校本研修", mode="校本研修")
    expect(page.locator(".messages")).to_contain_text("已新建项目“东一小学听评课校本研修”（草稿）")
    # On a phone the hub, the project list and its form fit the screen: nothing scrolls the page sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("a", has_text="本单位主办的培训项目").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / "browser-principal-projects-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    project = Project.objects.get(code="S2027-01")
    assert (project.level, project.owner_school_id) == ("校本", city["schools"][0].pk)

    open_from_menu(page, "审核", "免考核")
    expect(page).to_have_url(re.compile(r"/school/exemptions/$"))
    form = page.locator("#exemption-form")
    form.get_by_label("教师").select_option(label="T1 张一")
    form.get_by_label("类型").select_option("产假")
    form.get_by_label("原因").fill("2026年3月至8月产假")
    form.get_by_role("button", name="提交申请").click()
    expect(page.locator(".messages")).to_contain_text("等待区县审批")
    expect(page.locator("#school-exemptions tbody tr", has_text="张一")).to_contain_text("待审批")
    page.screenshot(path=str(SCREENSHOTS / "browser-principal-exemption.png"), full_page=True)

    # The district decides the request in its queue; the principal sees it granted.
    log_out(page)
    log_in(page, "district")
    open_from_menu(page, "审核", "免考核")
    row = page.locator("#pending-exemptions tbody tr", has_text="张一")
    expect(row).to_contain_text("产假")
    row.get_by_role("button", name="批准", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("已批准：张一")
    assert Exemption.objects.get().status == "granted"
    log_out(page)
    log_in(page, "principal")
    open_from_menu(page, "审核", "免考核")
    expect(page.locator("#school-exemptions tbody tr", has_text="张一")).to_contain_text("已批准")
