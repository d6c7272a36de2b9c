"""The province report job in a real Celery worker on Redis, outside any transaction as in production."""

from openpyxl import load_workbook

from province.models import ProvinceReport
from province.reports import report_start
from province.tasks import build_province_report
from tests.factories import TeacherFactory, UserFactory
from tests.test_celery_worker import worker  # noqa: F401 (a fixture)


def test_province_job_runs_in_a_worker_and_a_repeat_changes_nothing(worker):  # noqa: F811
    from bureau.services import user_assign_role

    auditor = UserFactory(username="auditor")
    user_assign_role(user=auditor, role="auditor", actor=None)
    for staff_no in ("W2", "W1", "W3"):
        TeacherFactory(staff_no=staff_no)
    report = report_start(year=2026, actor=auditor)
    first, second = build_province_report.delay(report.pk), build_province_report.delay(report.pk)
    assert first.get(timeout=120) == second.get(timeout=120) == report.pk
    report = ProvinceReport.objects.get(pk=report.pk)
    assert (report.status, report.progress, report.teachers, report.with_id_numbers) == ("done", 100, 3, False)
    with report.workbook.open("rb") as handle:
        sheet = load_workbook(handle)["教师"]
        assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["W1", "W2", "W3"]
    finished = report.finished_at
    build_province_report.delay(report.pk).get(timeout=60)
    report.refresh_from_db()
    assert report.finished_at == finished
