"""Celery tasks of the credits part: thin (one service each), idempotent, safe to retry (REL-1)."""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from . import reports
from .models import ReportKind

RETRY = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "retry_jitter": True,
         "max_retries": 5}


@shared_task(bind=True, **RETRY)
def build_report(self, report_id: int) -> int:
    """Build one registered report (figures and workbook); a finished report is left as it is."""
    return reports.report_build(report_id=report_id).pk


@shared_task(bind=True, **RETRY)
def sweep_reports(self) -> int:
    """Every few minutes: report builds whose worker died are queued again (REL-1)."""
    return len(reports.reports_sweep(now=timezone.now(), queue=build_report.delay))


@shared_task(bind=True, **RETRY)
def refresh_current_year(self) -> int:
    """Nightly: the live figures of the current year for the dashboards."""
    report = reports.report_start(year=timezone.localdate().year, kind=ReportKind.LIVE, actor=None)
    return reports.report_build(report_id=report.pk).pk


@shared_task(bind=True, **RETRY)
def notify_flagged(self, year: int | None = None) -> int:
    """Notices to principals of flagged schools (CR-7), once per school and year."""
    return reports.notify_flagged_principals(year=year or timezone.localdate().year)
