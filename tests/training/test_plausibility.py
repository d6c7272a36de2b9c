"""CR-10: certified hours may not exceed the project's hours, at every entry point: the one writer
(result_record), the results import, the results grid and the admin."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from bureau.services import ApplicationError
from credits.models import LedgerEntry
from tests.factories import TeacherFactory
from tests.xlsx import write_xlsx
from training import rules
from training.admin import ResultForm
from training.models import Enrolment, Project, Result
from training.services import result_record

from .attendance_fixtures import TODAY, enrolment_of, owned  # noqa: F401
from .test_attendance_pages import grid_post

RESULT_HEADERS = ["项目编号", "工号", "姓名", "考核结果", "完成日期", "认定学时"]


@pytest.fixture
def project(db):
    return Project.objects.create(
        code="P72", name="全员培训", level="市培", mode="集中面授", kind="必修", theme="学科教学", hours=D("72"),
        credits=D("72"), start_on=dt.date(2026, 3, 1), end_on=dt.date(2026, 6, 30), organiser="市教师发展中心",
    )


@pytest.fixture
def teacher(db):
    return TeacherFactory(staff_no="T100", name="周敏")


def test_cr10_rule_edges():
    assert rules.certified_hours_refusal(certified=D("72"), project_hours=D("72")) is None
    assert rules.certified_hours_refusal(certified=None, project_hours=D("72")) is None
    assert rules.certified_hours_refusal(certified=D("72.01"), project_hours=D("72.00")) == (
        "72.01 超过项目学时 72，不能多于项目学时")


def test_cr10_500_certified_hours_on_a_72_hour_project_refused(project, teacher):
    with pytest.raises(ApplicationError, match="认定学时 500 超过项目学时 72"):
        result_record(project=project, teacher=teacher, grade="合格", completed_on=dt.date(2026, 6, 30),
                      certified_hours=D("500"), actor=None)
    assert not Result.objects.exists() and not LedgerEntry.objects.exists()


def test_cr10_exactly_72_certified_hours_accepted(project, teacher):
    result_record(project=project, teacher=teacher, grade="合格", completed_on=dt.date(2026, 6, 30),
                  certified_hours=D("72"), actor=None)
    assert list(LedgerEntry.objects.values_list("hours", "credits")) == [(D("72"), D("72"))]


def test_cr10_a_changed_result_cannot_raise_the_hours_above_the_project(project, teacher):
    result_record(project=project, teacher=teacher, grade="合格", completed_on=dt.date(2026, 6, 30),
                  certified_hours=D("40"), actor=None)
    with pytest.raises(ApplicationError):
        result_record(project=project, teacher=teacher, grade="优秀", completed_on=dt.date(2026, 6, 30),
                      certified_hours=D("80"), actor=None)
    assert Result.objects.get().certified_hours == D("40") and LedgerEntry.objects.count() == 1


def test_cr10_import_row_refused_with_its_reason(project, teacher, tmp_path, capsys):
    rows = [["P72", "T100", "周敏", "合格", "2026-06-30", 500]]
    with pytest.raises(CommandError):
        call_command("import_results", write_xlsx(tmp_path / "r.xlsx", RESULT_HEADERS, rows))
    assert "第2行 认定学时: 500 超过项目学时 72，不能多于项目学时" in capsys.readouterr().err
    assert not Result.objects.exists()
    rows = [["P72", "T100", "周敏", "合格", "2026-06-30", 72]]
    call_command("import_results", write_xlsx(tmp_path / "r.xlsx", RESULT_HEADERS, rows))
    assert Result.objects.get().certified_hours == D("72")


def test_cr10_import_skip_invalid_writes_the_plausible_rows(project, teacher, tmp_path):
    TeacherFactory(staff_no="T200", name="陈静")
    rows = [["P72", "T100", "周敏", "合格", "2026-06-30", 500], ["P72", "T200", "陈静", "合格", "2026-06-30", 72]]
    call_command("import_results", write_xlsx(tmp_path / "r.xlsx", RESULT_HEADERS, rows), "--skip-invalid")
    assert list(Result.objects.values_list("enrolment__teacher__staff_no", flat=True)) == ["T200"]


def test_cr10_results_grid_refuses_the_row(client, users, owned):  # noqa: F811
    client.force_login(users["principal"])
    project = owned["B1"]  # 24 hours
    url = reverse("training:results-grid", args=[project.pk])
    done = f"{TODAY:%Y-%m-%d}"
    page = client.post(url, grid_post(project, {"T1": ("合格", done, "25")})).content.decode()
    assert "认定学时 25 超过项目学时 24" in page and "本页未保存任何结果" in page
    assert not Result.objects.exists()
    client.post(url, grid_post(project, {"T1": ("合格", done, "24")}))
    assert Result.objects.get(enrolment=enrolment_of(project, "T1")).certified_hours == D("24")


def test_cr10_admin_form_shows_the_reason_on_the_field(project, teacher):
    enrolment = Enrolment.objects.create(project=project, teacher=teacher, state="completed")
    data = {"enrolment": enrolment.pk, "grade": "合格", "completed_on": "2026-06-30", "certified_hours": "500"}
    form = ResultForm(data=data)
    assert not form.is_valid()
    assert form.errors["certified_hours"] == ["500 超过项目学时 72，不能多于项目学时"]
    assert ResultForm(data={**data, "certified_hours": "72"}).is_valid()


def test_cr10_admin_add_page_refuses_without_writing(client, users, project, teacher):
    enrolment = Enrolment.objects.create(project=project, teacher=teacher, state="completed")
    client.force_login(users["bureau"])
    data = {"enrolment": enrolment.pk, "grade": "合格", "completed_on": "2026-06-30", "certified_hours": "500"}
    response = client.post(reverse("admin:training_result_add"), data)
    assert response.status_code == 200 and "超过项目学时 72" in response.content.decode()
    assert not Result.objects.exists()
