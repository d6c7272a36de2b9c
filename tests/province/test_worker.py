"""The province report job in a real Celery worker on Redis, outside any transaction as in production: the
shared export task (bureau.tasks.run_export) builds it; a repeat changes nothing."""

from openpyxl import load_workbook

from bureau.models import ExportJob
from bureau.tasks import run_export
from province.services import report_start
from tests.factories import TeacherFactory, UserFactory
from tests.test_celery_worker import worker  # noqa: F401 (a fixture)


def test_province_job_runs_in_a_worker_and_a_repeat_changes_nothing(worker):  # noqa: F811
    from bureau.services import user_assign_role

    auditor = UserFactory(username="auditor")
    user_assign_role(user=auditor, role="auditor", actor=None)
    for staff_no in ("W2", "W1", "W3"):
        TeacherFactory(staff_no=staff_no)
    job = report_start(year=2026, actor=auditor)
    first, second = run_export.delay(job.pk), run_export.delay(job.pk)
    assert first.get(timeout=120) == second.get(timeout=120) == job.pk
    job = ExportJob.objects.get(pk=job.pk)
    assert (job.kind, job.status, job.progress, job.rows, job.params) == (
        "province", "done", 100, 3, {"year": 2026, "with_id_numbers": False})
    with job.file.open("rb") as handle:
        sheet = load_workbook(handle)["教师"]
        assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["W1", "W2", "W3"]
    finished = job.finished_at
    run_export.delay(job.pk).get(timeout=60)
    job.refresh_from_db()
    assert job.finished_at == finished
