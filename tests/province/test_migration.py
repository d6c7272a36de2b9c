"""Migration province 0002: the province report's own job rows become bureau.ExportJob rows of kind
"province" (files kept, a running build marked failed, a row without a starter dropped with its file)."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from bureau.models import ExportJob
from bureau.services import user_assign_role
from tests.factories import UserFactory

BEFORE = [("province", "0001_province")]
AFTER = [("province", "0002_province_report_to_exportjob")]


@pytest.mark.django_db(transaction=True)
def test_rows_move_to_export_jobs_with_their_files(settings, tmp_path):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    settings.MEDIA_ROOT = tmp_path
    clerk, auditor = UserFactory(username="clerk"), UserFactory(username="auditor")
    user_assign_role(user=clerk, role="bureau", actor=None)
    user_assign_role(user=auditor, role="auditor", actor=None)
    started = timezone.now() - dt.timedelta(days=1)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        Report = executor.loader.project_state(BEFORE).apps.get_model("province", "ProvinceReport")

        def report(**values):
            return Report.objects.create(year=2026, **values)

        done = report(status="done", progress=100, with_id_numbers=True, created_by_id=clerk.pk, teachers=7,
                      finished_at=started)
        done.workbook.save("province-2026-1.xlsx", ContentFile(b"PK-done"), save=True)
        report(status="running", progress=40, created_by_id=auditor.pk, heartbeat_at=started)
        report(status="failed", progress=5, created_by_id=auditor.pk, error="RuntimeError")
        orphan = report(status="done", progress=100, with_id_numbers=True)
        orphan.workbook.save("province-2026-9.xlsx", ContentFile(b"PK-orphan"), save=True)
        orphan_name = orphan.workbook.name
        Report.objects.update(created_at=started)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(AFTER)
    jobs = list(ExportJob.objects.order_by("pk"))
    assert [(j.kind, j.created_by_id, j.status) for j in jobs] == [
        ("province", clerk.pk, "done"), ("province", auditor.pk, "failed"), ("province", auditor.pk, "failed")]
    full, running, failed = jobs
    assert full.params == {"year": 2026, "with_id_numbers": True} and full.rows == 7
    assert (full.filename, full.title) == ("province-2026-full.xlsx", "2026 年度上报省厅报表（含完整身份证号）")
    assert full.scope == {"role": "bureau", "district_id": None, "school_id": None}
    assert full.created_at == started and full.finished_at == started
    assert full.file.read() == b"PK-done"
    assert "请重新发起" in running.error and running.finished_at is not None and not running.file
    assert "RuntimeError" in failed.error and running.scope["role"] == "auditor"
    assert not default_storage.exists(orphan_name)  # no unreferenced workbook with full numbers is left
