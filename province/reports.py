"""The province report job (SPEC §7 上报省厅): registered, built by a Celery task into storage with a
progress bar, downloaded when ready; the command writes the same workbook straight to a file.

SEC-3: the 身份证号 are masked unless the report is made for a user who may see them
(bureau.scoping.may_see_full_id_number); every report with full numbers names who asked in the audit trail.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile

from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bureau.choices import Role
from bureau.scoping import may_see_full_id_number, role_of
from bureau.services import ApplicationError, audit
from credits.compliance import ComplianceRun
from credits.models import ReportStatus

from .exports import write_province_workbook
from .models import ProvinceReport

logger = logging.getLogger(__name__)

# A running build with no progress for this long was left by a worker that died (REL-1).
STALE_AFTER = dt.timedelta(minutes=15)


def may_build(user) -> bool:
    """Bureau staff and auditors (an export: auditors read, and this writes nothing but the file)."""
    return role_of(user) in (Role.BUREAU, Role.AUDITOR)


def may_download(user, report: ProvinceReport) -> bool:
    return may_build(user) and (not report.with_id_numbers or may_see_full_id_number(user))


def visible_reports(user):
    """The reports a user may download: those with full 身份证号 only for who may see them (SEC-3)."""
    reports = ProvinceReport.objects.select_related("created_by")
    return reports if may_see_full_id_number(user) else reports.filter(with_id_numbers=False)


def id_numbers_release(*, year: int, actor, target: str) -> None:
    """SEC-3: the full 身份证号 go out only to a user who may see them, and the audit trail says who asked."""
    if actor is None or not may_see_full_id_number(actor):
        raise ApplicationError("导出完整身份证号须由持有“可查看完整身份证号”权限的市教育局用户发起。")
    audit(action="province.report.id_numbers_exported", actor=actor, year=year, target=target)


def report_start(*, year: int, actor) -> ProvinceReport:
    """Register a build for `actor`: full 身份证号 when the actor may see them, masked otherwise."""
    if not may_build(actor):
        raise ApplicationError("只有市教育局和审计人员可以生成上报省厅报表。")
    full = may_see_full_id_number(actor)
    with transaction.atomic():
        report = ProvinceReport.objects.create(year=year, with_id_numbers=full, created_by=actor,
                                               heartbeat_at=timezone.now())
        audit(action="province.report.started", actor=actor, obj=report, year=year, with_id_numbers=full)
        if full:
            id_numbers_release(year=year, actor=actor, target=f"province.provincereport:{report.pk}")
    return report


def _progress(report_id: int, fraction: float) -> None:
    # Only while running: a duplicate run finishing late must not move a finished report's bar back.
    ProvinceReport.objects.filter(pk=report_id, status=ReportStatus.RUNNING).update(
        progress=max(1, min(99, int(fraction * 100))), heartbeat_at=timezone.now()
    )


def report_build(*, report_id: int) -> ProvinceReport:
    """Compute and store the workbook. Re-running a finished report does nothing."""
    report = ProvinceReport.objects.get(pk=report_id)
    if report.status == ReportStatus.DONE:
        return report
    try:
        with ComplianceRun(report.year) as run:
            _progress(report.pk, 0.05)
            total = max(1, run.teacher_count())
            with tempfile.TemporaryFile() as handle:
                write_province_workbook(handle, run, full_id_numbers=report.with_id_numbers, by=report.created_by,
                                        on_progress=lambda done: _progress(report.pk, 0.05 + 0.9 * done / total))
                handle.seek(0)
                with transaction.atomic():
                    report = ProvinceReport.objects.select_for_update().get(pk=report.pk)
                    if report.status == ReportStatus.DONE:  # another worker got there first
                        return report
                    report.workbook.save(f"province-{report.year}-{report.pk}.xlsx", File(handle), save=False)
                    report.teachers = run.teacher_count()
                    report.status, report.progress, report.finished_at = ReportStatus.DONE, 100, timezone.now()
                    report.error = ""
                    report.save()
                    audit(action="province.report.built", actor=report.created_by, obj=report, year=report.year)
    except Exception as exc:
        logger.exception("province report %s for %s failed", report_id, report.year)
        ProvinceReport.objects.filter(pk=report_id).exclude(status=ReportStatus.DONE).update(
            status=ReportStatus.FAILED, error=type(exc).__name__
        )
        raise
    return report


def reports_sweep(*, now: dt.datetime, queue) -> list[int]:
    """Queue again every running build whose heartbeat stopped (its worker died), claimed with a
    conditional update so that two sweepers never queue one build twice."""
    stale = now - STALE_AFTER
    requeued = []
    candidates = ProvinceReport.objects.filter(status=ReportStatus.RUNNING).filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, created_at__lt=stale)
    )
    for report_id, heartbeat in candidates.values_list("pk", "heartbeat_at"):
        claimed = ProvinceReport.objects.filter(pk=report_id, status=ReportStatus.RUNNING, heartbeat_at=heartbeat)
        if claimed.update(heartbeat_at=now):
            logger.warning("province report %s stopped moving since %s: queued again", report_id, heartbeat)
            audit(action="province.report.requeued", actor=None, obj=ProvinceReport(pk=report_id),
                  stalled_since=heartbeat.isoformat() if heartbeat else None)
            queue(report_id)
            requeued.append(report_id)
    return requeued
