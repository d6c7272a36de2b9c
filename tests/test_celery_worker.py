"""Tasks in a real Celery worker on Redis against the real PostgreSQL test database (REL-1, CR-2)."""

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app as celery_app
from credits.models import LedgerEntry
from tests.factories import TeacherFactory
from training.models import Enrolment, Project, Result
from training.tasks import post_result

ROOT = Path(__file__).resolve().parent.parent
BROKER = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def worker(transactional_db):
    """A worker process (2 processes, prefork) on the test database; the app here sends to Redis."""
    settings = connection.settings_dict
    db_url = f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    env = {**os.environ, "DATABASE_URL": db_url, "CELERY_BROKER_URL": BROKER, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    previous = {k: celery_app.conf[k] for k in ("broker_url", "result_backend", "task_always_eager")}
    _repoint(broker_url=BROKER, result_backend=BROKER, task_always_eager=False)
    celery_app.control.purge()
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=2", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "-n", f"test-{os.getpid()}@localhost"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(timeout=1):
            assert process.poll() is None, process.stdout.read().decode()
            assert time.monotonic() < deadline, "worker did not start"
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)
        _repoint(**previous)


def _repoint(**conf):
    """Point this process's Celery app at another broker: drop its cached pools and result backend."""
    celery_app.conf.update(**conf)
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    celery_app._local = threading.local()


def test_post_result_runs_in_a_worker_and_twice_at_once_posts_once(worker):
    project = Project.objects.create(
        code="P1", name="学科教学", level="市培", mode="集中面授", kind="必修", theme="学科教学", hours=D("24"),
        start_on=dt.date(2026, 5, 1), end_on=dt.date(2026, 5, 3), organiser="市教师发展中心",
    )
    enrolment = Enrolment.objects.create(project=project, teacher=TeacherFactory(), state="completed")
    result = Result.objects.create(enrolment=enrolment, grade="优秀", completed_on=dt.date(2026, 5, 3))
    first, second = post_result.delay(result.pk), post_result.delay(result.pk)
    posted = sorted([first.get(timeout=60), second.get(timeout=60)])
    assert posted == [0, 1]
    assert LedgerEntry.objects.filter(source_key=f"result:{enrolment.pk}").count() == 1
    # a retry after the fact (e.g. a redelivered message) changes nothing
    assert post_result.delay(result.pk).get(timeout=60) == 0
    assert LedgerEntry.objects.count() == 1


def test_report_job_runs_in_a_worker_and_a_repeat_changes_nothing(worker):
    from credits.models import ComplianceReport
    from credits.reports import report_start
    from credits.tasks import build_report

    TeacherFactory(staff_no="W1")
    report = report_start(year=2026, kind="live", actor=None)
    first, second = build_report.delay(report.pk), build_report.delay(report.pk)
    assert first.get(timeout=120) == second.get(timeout=120) == report.pk
    report = ComplianceReport.objects.get(pk=report.pk)
    assert (report.status, report.progress, report.summary["subject"]) == ("done", 100, 1)
    assert report.workbook.name.endswith(".xlsx")
    finished = report.finished_at
    build_report.delay(report.pk).get(timeout=60)
    report.refresh_from_db()
    assert report.finished_at == finished


def test_an_export_job_runs_in_a_worker_and_a_repeat_changes_nothing(worker):
    """The generic background export (issue 18 item 3): two deliveries of one job, one file."""
    from bureau.exports import export_start
    from bureau.models import ExportJob
    from bureau.services import user_assign_role
    from bureau.tasks import run_export
    from tests.factories import UserFactory

    TeacherFactory(staff_no="W1")
    admin = UserFactory(username="root-export", is_superuser=True, is_staff=True)
    user = UserFactory(username="auditor-export")
    user_assign_role(user=user, role="auditor", actor=admin)
    job = export_start(kind="compliance", user=user, params={"year": 2026}, title="全市达标工作簿",
                       filename="compliance-2026.xlsx")
    first, second = run_export.delay(job.pk), run_export.delay(job.pk)
    assert first.get(timeout=120) == second.get(timeout=120) == job.pk
    job = ExportJob.objects.get(pk=job.pk)
    assert (job.status, job.progress, job.rows, job.error) == ("done", 100, 1, "")
    assert job.file.name.endswith(".xlsx") and job.file.size > 0
    finished = job.finished_at
    run_export.delay(job.pk).get(timeout=60)
    job.refresh_from_db()
    assert job.finished_at == finished
