"""The teachers.xlsx import in the admin, in a real browser: log in, upload, preview row errors, import valid rows."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bureau.choices import Role
from bureau.models import Teacher
from bureau.services import user_assign_role
from tests.bureau.test_import_teachers import row
from tests.factories import SchoolFactory, UserFactory
from tests.xlsx import TEACHER_HEADERS, write_xlsx

pytestmark = pytest.mark.browser

PASSWORD = "pw-for-tests"  # UserFactory's
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", "/tmp"))


@pytest.fixture
def bureau_staff(transactional_db):
    SchoolFactory(code="S1", name="东一小学")
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    user = UserFactory(username="bureau_staff")
    user_assign_role(user=user, role=Role.BUREAU, actor=root)
    return user


def assert_admin_css_loaded(page):
    """The admin stylesheet came from the live server: the header has its coloured background."""
    background = page.locator("#header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert background not in ("", "transparent", "rgba(0, 0, 0, 0)"), background


def test_bureau_staff_imports_teachers_skipping_the_invalid_row(page, bureau_staff, tmp_path):
    workbook = write_xlsx(
        tmp_path / "teachers.xlsx",
        TEACHER_HEADERS,
        [row(), row(工号="A002", 姓名="错行", 性别="X", 身份证号=None)],
    )

    # Log in through the admin login page; it sends us on to the teachers list.
    page.goto("/admin/bureau/teacher/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    page.locator("#id_username").press_sequentially(bureau_staff.username)
    page.locator("#id_password").press_sequentially(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/admin/bureau/teacher/$"))
    assert_admin_css_loaded(page)

    # Upload: every row is checked and the errors are shown before anything is written.
    page.get_by_role("link", name="从 Excel 导入").click()
    expect(page).to_have_url(re.compile(r"/admin/bureau/teacher/import/$"))
    page.locator('input[name="file"]').set_input_files(workbook)
    page.get_by_role("button", name="上传并校验").click()
    expect(page.locator("#import-errors")).to_contain_text("第3行 性别")
    expect(page.locator("#import-summary")).to_contain_text("未写入任何数据")
    page.screenshot(path=str(SCREENSHOTS / "browser-import-preview.png"), full_page=True)
    assert not Teacher.objects.filter(staff_no__in=["A001", "A002"]).exists()

    # Import the valid rows only: back on the list, with the new teacher in it.
    page.get_by_role("button", name="只导入有效行").click()
    expect(page).to_have_url(re.compile(r"/admin/bureau/teacher/$"))
    expect(page.locator(".messagelist")).to_contain_text("导入完成")
    expect(page.locator("#result_list")).to_contain_text("周敏")
    expect(page.locator("#result_list")).not_to_contain_text("错行")
    assert_admin_css_loaded(page)
    page.screenshot(path=str(SCREENSHOTS / "browser-import.png"), full_page=True)
    assert list(Teacher.objects.values_list("staff_no", "name")) == [("A001", "周敏")]
