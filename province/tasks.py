"""Celery tasks of the province report: thin, idempotent, safe to retry (REL-1)."""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from . import reports

RETRY = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "retry_jitter": True,
         "max_retries": 5}


@shared_task(bind=True, **RETRY)
def build_province_report(self, report_id: int) -> int:
    """Build one registered province report; a finished one is left as it is."""
    return reports.report_build(report_id=report_id).pk


@shared_task(bind=True, **RETRY)
def sweep_province_reports(self) -> int:
    """Every few minutes: builds whose worker died are queued again (REL-1)."""
    return len(reports.reports_sweep(now=timezone.now(), queue=build_province_report.delay))
