"""SEC-6 at the edges: names stored before the rule with a control character (Word's Shift+Enter, written
straight into the database as legacy rows are) go through every workbook the product writes, without an
error and without the character in the file; a transcript of a teacher named 王:/\\?*[]' downloads; no
download header carries a control character (gunicorn would refuse it)."""

import datetime as dt
import io
import re
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from bureau.models import District, School, Teacher
from credits.models import ComplianceReport
from credits.reports import report_build, report_start
from credits.services import ledger_adjust
from tests.backbone.test_roster import comply, make
from tests.bureau.test_sec6_text import assert_clean_xlsx, assert_valid_title
from tests.credits.test_claims import media  # noqa: F401 (a fixture)
from tests.exchange.test_plan import teacher as exchange_teacher
from tests.export_helpers import export_content
from tests.factories import SchoolFactory
from training.models import Certificate, Project
from training.services import result_record

VT = "\x0b"
YEAR = 2026


def legacy_names(teacher, school=None, district=None):
    """As rows stored before SEC-6 would be: .update() runs no validation."""
    Teacher.objects.filter(pk=teacher.pk).update(name=f"王{VT}小明")
    if school is not None:
        School.objects.filter(pk=school.pk).update(name=f"东一{VT}小学")
    if district is not None:
        District.objects.filter(pk=district.pk).update(name=f"城东{VT}区")


def values(data: bytes) -> set:
    book = load_workbook(io.BytesIO(data))
    return {v for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row}


def check(data: bytes, *expected) -> None:
    assert_clean_xlsx(data)
    found = values(data)
    for text in expected:
        assert text in found, text


@pytest.fixture
def legacy_city(city, users):
    t1, s1, d1 = city["teachers"][0], city["schools"][0], city["districts"][0]
    for teacher in city["teachers"]:
        ledger_adjust(teacher_id=teacher.pk, entry_date=dt.date(YEAR, 4, 1), hours=D(10), credits=D(10),
                      reason="测试", actor=users["bureau"])
    legacy_names(t1, s1, d1)
    return city


def test_compliance_workbook_from_the_command(legacy_city, tmp_path):
    path = tmp_path / "c.xlsx"
    call_command("compliance_report", "--year", str(YEAR), "--output", str(path))
    check(path.read_bytes(), "王小明", "东一小学", "城东区")


def test_compliance_workbook_from_the_web_and_the_report_job(client, users, legacy_city, settings, tmp_path):
    client.force_login(users["auditor"])
    check(export_content(client, reverse("credits:compliance-xlsx") + f"?year={YEAR}"), "王小明", "东一小学", "城东区")

    settings.MEDIA_ROOT = tmp_path
    report = report_build(report_id=report_start(year=YEAR, kind="live", actor=None).pk)
    assert ComplianceReport.objects.get(pk=report.pk).status == "done"
    check(report.workbook.open("rb").read(), "王小明", "东一小学")


# openpyxl's own write-only sheet generator, left behind by the failure, complains when collected.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.django_db(transaction=True)  # as in production: the run's cursor is WITH HOLD, outside a transaction
def test_a_workbook_that_fails_reports_its_own_error_and_leaves_the_connection_usable(
        legacy_city, users, monkeypatch, settings, tmp_path):
    """The writer made to fail mid-sheet on the legacy names' control characters (as openpyxl did before
    SEC-6; xlsxwriter would escape them, so the cleaning step is made to refuse them): the job and the
    command report the writer's error, and the connection (the run's streaming cursor, its temporary
    table) is left usable."""
    import bureau.spreadsheets
    from bureau.text import has_control_characters

    class WriterRefused(ValueError):
        pass

    def refuse(text):
        if has_control_characters(text):
            raise WriterRefused
        return text

    monkeypatch.setattr(bureau.spreadsheets, "clean_for_xml", refuse)
    with pytest.raises(WriterRefused):
        call_command("compliance_report", "--year", str(YEAR), "--output", str(tmp_path / "c.xlsx"))
    assert Teacher.objects.count() == 3  # the connection still works

    settings.MEDIA_ROOT = tmp_path
    report = report_start(year=YEAR, kind="live", actor=None)
    with pytest.raises(WriterRefused):
        report_build(report_id=report.pk)
    report.refresh_from_db()
    assert (report.status, report.error) == ("failed", "WriterRefused")


def test_ledger_workbook(client, users, legacy_city):
    client.force_login(users["auditor"])
    check(export_content(client, reverse("credits:ledger-xlsx") + f"?year={YEAR}"), "王小明")


def test_transcript_for_the_teacher_and_for_staff(client, users, legacy_city):
    client.force_login(users["teacher"])  # the teacher is T1, the legacy name
    own = client.get(reverse("credits:transcript-xlsx"))
    assert own.status_code == 200
    assert_clean_xlsx(own.content)
    assert load_workbook(io.BytesIO(own.content)).sheetnames == ["王 小明学分档案"]
    client.force_login(users["bureau"])
    staff = client.get(reverse("credits:teacher-transcript-xlsx", args=["T1"]))
    assert staff.status_code == 200
    assert_clean_xlsx(staff.content)


# What gunicorn lets through in a header value: no control character but tab.
HEADER_VALUE = re.compile(r"[ \t\x21-\x7e\x80-\xff]*")


def test_transcript_of_a_legacy_staff_number_with_a_control_character(client, users, legacy_city):
    Teacher.objects.filter(pk=legacy_city["teachers"][0].pk).update(staff_no=f"T{VT}1")
    client.force_login(users["teacher"])
    response = client.get(reverse("credits:transcript-xlsx"))
    assert response.status_code == 200
    header = response["Content-Disposition"]
    assert HEADER_VALUE.fullmatch(header) and "transcript-T 1.xlsx" in header
    client.force_login(users["bureau"])
    staff = client.get(reverse("credits:teacher-transcript-xlsx", args=["T2"]))
    assert HEADER_VALUE.fullmatch(staff["Content-Disposition"]) and "transcript-T2.xlsx" in staff["Content-Disposition"]


def test_evidence_download_of_a_legacy_file_name_with_a_control_character(client, users, city, media):
    from credits.models import ClaimEvidence
    from tests.credits.test_claims import submit

    evidence = submit(users, city).evidence.get()
    ClaimEvidence.objects.filter(pk=evidence.pk).update(original_name=f"cert{VT}.pdf")
    client.force_login(users["teacher"])
    response = client.get(reverse("claims:evidence", args=[evidence.pk]))
    assert response.status_code == 200
    assert HEADER_VALUE.fullmatch(response["Content-Disposition"]) and "cert .pdf" in response["Content-Disposition"]


@pytest.mark.parametrize("name, title", [
    ("王:/\\?*[]'", "王'学分档案"),
    ("'王'", "王'学分档案"),
    ("欧阳" * 32, "欧阳" * 15 + "欧"),
])
def test_transcript_of_a_teacher_whose_name_is_no_sheet_title(client, users, city, name, title):
    Teacher.objects.filter(pk=city["teachers"][0].pk).update(name=name)
    client.force_login(users["teacher"])
    response = client.get(reverse("credits:transcript-xlsx"))
    assert response.status_code == 200
    (sheet,) = load_workbook(io.BytesIO(response.content)).sheetnames
    assert sheet == title
    assert_valid_title(sheet)


def test_certificate_register(city, tmp_path):
    project = Project.objects.create(
        code="P1", name="市级研修", level="市培", mode="集中面授", kind="必修", theme="师德", hours=D("20"), credits=D("20"),
        start_on=dt.date(YEAR, 3, 1), end_on=dt.date(YEAR, 3, 3), organiser="市教育局")
    teacher = city["teachers"][0]
    result_record(project=project, teacher=teacher, grade="合格", completed_on=dt.date(YEAR, 3, 3), certified_hours=None,
                  actor=None)
    assert Certificate.objects.filter(teacher=teacher).exists()
    legacy_names(teacher)
    Project.objects.filter(pk=project.pk).update(name=f"市级{VT}研修")
    path = tmp_path / "r.xlsx"
    call_command("certificate_register", "--output", str(path))
    check(path.read_bytes(), "王小明")


def test_exchange_plan_from_the_command_and_the_web(client, users, db, tmp_path):
    school = SchoolFactory(code="P1", name="甲小学", stage="小学")
    eligible = exchange_teacher(school, "T01")
    legacy_names(eligible, school)
    path = tmp_path / "e.xlsx"
    call_command("exchange_plan", "--year", str(YEAR), "--output", str(path))
    check(path.read_bytes(), "王小明", "东一小学")
    client.force_login(users["auditor"])
    response = client.get(f"/exchange/workbook.xlsx?year={YEAR}")
    assert response.status_code == 200
    check(response.content, "王小明", "东一小学")


def test_backbone_candidates(users, tmp_path):
    school = SchoolFactory(code="S9")
    candidate = make(school, "OK")
    for year in (2024, 2025):
        comply(candidate, year, users["bureau"])
    legacy_names(candidate, school)
    path = tmp_path / "b.xlsx"
    call_command("backbone_candidates", "--year", "2026", "--tier", "县级", "--type", "学科带头人", "--output", str(path))
    check(path.read_bytes(), "王小明")


def test_backbone_plan_workbook(client, users, db):
    client.force_login(users["auditor"])
    response = client.get(reverse("backbone:plan") + f"?year={YEAR}&format=xlsx")
    assert response.status_code == 200
    assert_clean_xlsx(response.content)


def test_roster_export_of_seed_demo(legacy_city, tmp_path):
    call_command("seed_demo", "--export", str(tmp_path))
    check(Path(tmp_path / "teachers.xlsx").read_bytes(), "王小明")
    check(Path(tmp_path / "schools.xlsx").read_bytes(), "东一小学", "城东区")
