"""Organisers on screens (SPEC §1 "3+1"): a principal takes attendance for a session of the school's 校本
project and records results in bulk; a district user imports the results of its 县培 project."""

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.helpers import SCREENSHOTS, log_in
from tests.factories import TeacherFactory
from tests.xlsx import write_xlsx
from training.attendance import session_add
from training.models import Attendance, Project, Result
from training.services import enrolment_apply, enrolment_transition, project_transition

pytestmark = pytest.mark.browser

TODAY = timezone.localdate()


def _project(code, level, users, **owner):
    """A project set up as its organiser would: created, published, enrolment opened, the school's teachers
    nominated and approved, started, and two sessions held."""
    project = Project.objects.create(
        code=code, name=f"{level}研修{code}", level=level, mode="集中面授", kind="必修", theme="学科教学",
        hours=D("12"), start_on=TODAY - dt.timedelta(days=20), end_on=TODAY + dt.timedelta(days=10),
        organiser="东一小学", **owner)
    organiser = users["principal"] if level == "校本" else users["district"]
    for action in ("publish", "open_enrolment"):
        project_transition(project=project, action=action, actor=organiser)
    return project


def _admit(project, teachers, users):
    for teacher in teachers:
        enrolment = enrolment_apply(project=project, teacher=teacher, actor=users["principal"], today=TODAY)
        enrolment_transition(enrolment=enrolment, action="school_approve", actor=users["principal"])
        enrolment_transition(enrolment=enrolment, action="approve", actor=users["bureau"], today=TODAY)


@pytest.fixture
def school_project(users, city):
    teachers = [city["teachers"][0], TeacherFactory(staff_no="T4", name="赵四", school=city["schools"][0])]
    project = _project("XB-01", "校本", users, owner_school=city["schools"][0])
    _admit(project, teachers, users)
    project_transition(project=project, action="start", actor=users["principal"])
    session_add(project=project, held_on=TODAY - dt.timedelta(days=7), title="开班讲座", actor=users["principal"])
    session_add(project=project, held_on=TODAY - dt.timedelta(days=3), title="课例研讨", actor=users["principal"])
    return project


def test_principal_takes_attendance_and_records_results_in_bulk(page, users, school_project):
    log_in(page, "principal")
    page.goto(f"/organise/projects/{school_project.pk}/sessions/")
    expect(page.locator("#sessions")).to_contain_text("开班讲座")

    # Attendance for the first session: everyone present by default; 赵四 was absent.
    page.locator("#sessions tr", has_text="开班讲座").get_by_role("link", name="考勤").click()
    expect(page).to_have_url(re.compile(r"/organise/sessions/\d+/attendance/$"))
    expect(page.get_by_label("张一 出勤")).to_be_checked()
    page.get_by_label("赵四 出勤").uncheck()
    page.get_by_role("button", name="保存考勤").click()
    expect(page.locator(".messages")).to_contain_text("考勤已保存：出勤 1 人")
    expect(page.get_by_label("赵四 出勤")).not_to_be_checked()
    assert dict(Attendance.objects.values_list("enrolment__teacher__staff_no", "present")) == {"T1": True, "T4": False}
    page.screenshot(path=str(SCREENSHOTS / "browser-organiser-attendance.png"), full_page=True)

    # The overview: 1 of 2 sessions held for 张一, none for 赵四, who is on the no-show list.
    page.goto(f"/organise/projects/{school_project.pk}/attendance/")
    expect(page.locator("#attendance-rates")).to_contain_text("50%")
    expect(page.locator("#no-shows")).to_contain_text("赵四")

    # Results for the whole list in one POST.
    page.goto(f"/organise/projects/{school_project.pk}/sessions/")
    page.get_by_role("link", name="登记考核结果").click()
    page.get_by_label("张一 考核结果").select_option("合格")
    page.get_by_label("赵四 考核结果").select_option("未完成")
    page.get_by_role("button", name="保存考核结果").click()
    expect(page.locator(".messages")).to_contain_text("考核结果已保存：变更 2 人")
    page.screenshot(path=str(SCREENSHOTS / "browser-organiser-results.png"), full_page=True)
    assert dict(Result.objects.values_list("enrolment__teacher__staff_no", "grade")) == {"T1": "合格", "T4": "未完成"}
    assert Result.objects.get(grade="合格").recorded_by == users["principal"]

    # On a phone the grid scrolls inside its box; the page itself never scrolls sideways.
    page.set_viewport_size({"width": 375, "height": 800})
    for path in ("results/", "sessions/", "attendance/"):
        page.goto(f"/organise/projects/{school_project.pk}/{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    page.screenshot(path=str(SCREENSHOTS / "browser-organiser-phone.png"), full_page=True)


def test_district_imports_the_results_of_its_county_project(page, users, city, tmp_path):
    project = _project("XP-01", "县培", users, owner_district=city["districts"][0])
    _admit(project, [city["teachers"][0]], users)
    workbook = write_xlsx(tmp_path / "results.xlsx", ["项目编号", "工号", "姓名", "考核结果", "完成日期", "认定学时"], [
        ["XP-01", "T1", "张一", "优秀", f"{TODAY:%Y-%m-%d}", None],
        ["XP-01", "T1", "张一", "合格", f"{TODAY:%Y-%m-%d}", None],
    ])
    log_in(page, "district")
    page.goto("/organise/results/import/")
    page.locator('input[name="file"]').set_input_files(workbook)
    page.get_by_role("button", name="上传并校验").click()
    expect(page.locator("#import-errors")).to_contain_text("第3行 工号: 与第2行重复")
    assert not Result.objects.exists()
    page.get_by_role("button", name="只导入有效行").click()
    expect(page.locator(".messages")).to_contain_text("导入完成")
    page.screenshot(path=str(SCREENSHOTS / "browser-district-results-import.png"), full_page=True)
    result = Result.objects.get()
    assert (result.grade, result.recorded_by, result.enrolment.project.code) == ("优秀", users["district"], "XP-01")
