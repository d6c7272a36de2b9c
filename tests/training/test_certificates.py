"""Certificates: issued per passing result of an issuing project, revoked and re-issued when the result
changes, never twice on re-import; public verification (masked, 404, revoked, rate limit); PDF; register."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.cache import cache
from django.core.management import call_command
from openpyxl import load_workbook

from tests.factories import TeacherFactory
from tests.xlsx import write_xlsx
from training import rules
from training.certificates import ALPHABET, new_code
from training.models import Certificate, Project

RESULT_HEADERS = ["项目编号", "工号", "姓名", "考核结果", "完成日期", "认定学时"]


@pytest.fixture
def projects(db):
    common = dict(mode="集中面授", kind="必修", theme="学科教学", hours=D("30"), credits=D("12"),
                  start_on=dt.date(2026, 3, 1), end_on=dt.date(2026, 3, 5), organiser="市教师发展中心")
    return {
        "city": Project.objects.create(code="SP1", name="市级研修", level="市培", **common),
        "school": Project.objects.create(code="XB1", name="校本研修", level="校本", **common),
        "school_on": Project.objects.create(code="XB2", name="校本研修（发证）", level="校本", issues_certificates=True, **common),
    }


@pytest.fixture
def teachers(db):
    return [TeacherFactory(staff_no="A", name="张三"), TeacherFactory(staff_no="B", name="李四")]


def import_results(tmp_path, rows):
    call_command("import_results", write_xlsx(tmp_path / "r.xlsx", RESULT_HEADERS, rows))


def valid(staff_no=None):
    qs = Certificate.objects.filter(status="valid")
    return qs.filter(teacher__staff_no=staff_no) if staff_no else qs


def test_default_levels_and_project_override():
    assert rules.issues_certificates(level="县培", setting=None)
    assert not rules.issues_certificates(level="校本", setting=None)
    assert not rules.issues_certificates(level="师本", setting=None)
    assert rules.issues_certificates(level="师本", setting=True)
    assert not rules.issues_certificates(level="国培", setting=False)


def test_codes_are_random_long_and_without_look_alikes():
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) >= 10 and set(c) <= set(ALPHABET) for c in codes)
    assert not set("01ILO") & set(ALPHABET)


def test_results_imported_twice_with_grades_changed_leave_one_valid_certificate_per_pass(projects, teachers, tmp_path):
    first = [["SP1", "A", "张三", "合格", "2026-03-05", None], ["SP1", "B", "李四", "优秀", "2026-03-05", None],
             ["XB1", "A", "张三", "合格", "2026-03-05", None], ["XB2", "B", "李四", "合格", "2026-03-05", None]]
    import_results(tmp_path, first)
    import_results(tmp_path, first)
    assert Certificate.objects.count() == 3  # SP1 × 2 and XB2; XB1 (校本) issues none
    second = [["SP1", "A", "张三", "不合格", "2026-03-05", None], ["SP1", "B", "李四", "优秀", "2026-03-05", 10],
              ["XB1", "A", "张三", "合格", "2026-03-05", None], ["XB2", "B", "李四", "合格", "2026-03-05", None]]
    import_results(tmp_path, second)
    import_results(tmp_path, second)
    assert list(valid("A")) == []
    (b_city,) = valid("B").filter(project__code="SP1")
    assert (b_city.hours, b_city.credits) == (D("10.00"), D("4.00"))  # never stale hours
    assert Certificate.objects.filter(status="revoked").count() == 2  # A's, and B's old 30-hour one
    assert valid().count() == 2


def test_public_verification_masks_the_name_and_shows_status(client, projects, teachers, tmp_path):
    import_results(tmp_path, [["SP1", "A", "张三", "合格", "2026-03-05", None]])
    code = Certificate.objects.get().code
    page = client.get(f"/verify/{code}/").content.decode()
    assert "张*" in page and "张三" not in page and "市级研修" in page and "30" in page and "2026-03-05" in page
    assert '<span class="badge ok">有效</span>' in page
    assert client.get(f"/verify/{code.lower()}/").status_code == 200  # typed in lower case still matches
    import_results(tmp_path, [["SP1", "A", "张三", "不合格", "2026-03-05", None]])
    assert "已撤销" in client.get(f"/verify/{code}/").content.decode()
    assert client.get("/verify/ABCDEFGHJKMN/").status_code == 404


def test_verification_is_rate_limited(client, db):
    cache.clear()
    statuses = [client.get("/verify/ABCDEFGHJKMN/").status_code for _ in range(31)]
    assert statuses[:30] == [404] * 30 and statuses[30] == 429
    cache.clear()


def test_teacher_downloads_own_pdf_only(client, users, city, projects):
    from training.services import result_record

    for teacher in city["teachers"][:2]:
        result_record(project=projects["city"], teacher=teacher, grade="合格", completed_on=dt.date(2026, 3, 5),
                      certified_hours=None, actor=None)
    own = Certificate.objects.get(teacher=city["teachers"][0])
    other = Certificate.objects.get(teacher=city["teachers"][1])
    client.force_login(users["teacher"])
    response = client.get(f"/certificates/{own.code}.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert client.get(f"/certificates/{other.code}.pdf").status_code == 404
    page = client.get("/portal/certificates/").content.decode()
    assert own.code in page and other.code not in page


@pytest.mark.parametrize("role, status", [("anonymous", 302), ("teacher", 200), ("principal", 403), ("bureau", 403),
                                          ("auditor", 403)])
def test_my_certificates_page_per_role(client, users, role, status):
    if role != "anonymous":
        client.force_login(users[role])
    assert client.get("/portal/certificates/").status_code == status


def test_register_lists_every_certificate_ever_issued(projects, teachers, tmp_path):
    import_results(tmp_path, [["SP1", "A", "张三", "合格", "2026-03-05", None]])
    import_results(tmp_path, [["SP1", "A", "张三", "合格", "2026-03-05", 20]])
    path = tmp_path / "register.xlsx"
    call_command("certificate_register", "--year", "2026", "--output", str(path))
    rows = list(load_workbook(path)["证书"].iter_rows(values_only=True))
    assert rows[0] == ("证书编号", "项目编号", "工号", "姓名", "学时", "完成日期", "状态")
    assert sorted((r[1], r[2], r[4], r[6]) for r in rows[1:]) == [("SP1", "A", 20, "有效"), ("SP1", "A", 30, "已撤销")]
    assert all(isinstance(r[5], dt.datetime) for r in rows[1:])
