"""A teacher in a real browser: 0 / 72 on the portal, applies for a project, its result is imported, the credits show."""

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.helpers import SCREENSHOTS, log_in
from tests.xlsx import write_xlsx
from training.models import Enrolment, Project

pytestmark = pytest.mark.browser

RESULT_HEADERS = ["项目编号", "工号", "姓名", "考核结果", "完成日期", "认定学时"]


@pytest.fixture
def project(transactional_db):
    return Project.objects.create(
        code="P24", name="课堂教学能力提升", level="市培", mode="集中面授", kind="必修", theme="师德",
        hours=D("24"), credits=D("24"), start_on=dt.date(2026, 11, 1), end_on=dt.date(2026, 12, 10),
        organiser="市教育局", status="enrolling",
    )


def test_teacher_applies_and_sees_imported_credits(page, users, city, project, tmp_path):
    teacher = city["teachers"][0]
    log_in(page, "teacher")
    expect(page).to_have_url(re.compile(r"/portal/$"))  # the home page sends teachers to their portal
    annual = page.locator("#annual-credits")
    expect(annual.locator(".figure")).to_have_text("0")
    expect(annual.locator(".value")).to_have_text(re.compile(r"^0\s*/\s*72$"))
    expect(annual.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")

    # Apply from the training list.
    page.get_by_role("navigation").get_by_role("link", name="培训报名").click()
    expect(page).to_have_url(re.compile(r"/portal/projects/$"))
    row = page.locator("#open-projects tbody tr", has_text="课堂教学能力提升")
    row.get_by_role("button", name="报名").click()
    expect(page.locator(".messages")).to_contain_text("已报名“课堂教学能力提升”")
    mine = page.locator("#my-enrolments tbody tr", has_text="课堂教学能力提升（P24）")
    expect(mine).to_contain_text("已报名")
    expect(row.get_by_role("button", name="报名")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "browser-teacher-projects.png"), full_page=True)
    assert Enrolment.objects.get(project=project, teacher=teacher).state == "applied"

    # The organiser's results come in through the import command; the portal shows the credits.
    workbook = write_xlsx(tmp_path / "results.xlsx", RESULT_HEADERS,
                          [["P24", teacher.staff_no, teacher.name, "合格", dt.date(2026, 11, 20), None]])
    call_command("import_results", workbook)
    page.get_by_role("navigation").get_by_role("link", name="我的学分").click()
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(annual.locator(".figure")).to_have_text("24")
    expect(annual.locator(".value")).to_have_text(re.compile(r"^24\s*/\s*72$"))
    expect(annual.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "33")  # 24 of 72
    page.screenshot(path=str(SCREENSHOTS / "browser-teacher-portal.png"), full_page=True)
