"""Report jobs (CR-9): build a year's compliance report, close a year, tell principals of flagged schools.

Each step is safe to run again: a report that is done is not rebuilt, a job that died can be re-run to
the same result, the annual close exists once per year (a database constraint), and notices are keyed.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile

from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from bureau.choices import Role
from bureau.models import Profile
from bureau.scoping import role_of
from bureau.services import ApplicationError, audit, notice_send

from .compliance import ComplianceRun
from .exports import write_compliance_workbook
from .models import ComplianceReport, ReportKind, ReportStatus
from .selectors import closed_report

logger = logging.getLogger(__name__)


# A running report with no progress for this long was left by a worker that died (REL-1).
STALE_AFTER = dt.timedelta(minutes=15)


def _progress(report_id: int, fraction: float) -> None:
    # Only while running: a duplicate run finishing late must not move a finished report's bar back.
    ComplianceReport.objects.filter(pk=report_id, status=ReportStatus.RUNNING).update(
        progress=max(1, min(99, int(fraction * 100))), heartbeat_at=timezone.now()
    )


def reports_sweep(*, now: dt.datetime, queue) -> list[int]:
    """Queue again every running report whose build stopped moving (its worker died mid-build).

    Each stale report is claimed with a conditional update of its heartbeat, so two sweepers never queue
    one report twice; building it again is safe (report_build finishes a report once).
    """
    stale = now - STALE_AFTER
    requeued = []
    candidates = ComplianceReport.objects.filter(status=ReportStatus.RUNNING).filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, created_at__lt=stale)
    )
    for report_id, heartbeat in candidates.values_list("pk", "heartbeat_at"):
        claimed = ComplianceReport.objects.filter(pk=report_id, status=ReportStatus.RUNNING, heartbeat_at=heartbeat)
        if claimed.update(heartbeat_at=now):  # else another sweeper got there first
            logger.warning("compliance report %s stopped moving since %s: queued again", report_id, heartbeat)
            audit(action="credits.report.requeued", actor=None, obj=ComplianceReport(pk=report_id),
                  stalled_since=heartbeat.isoformat() if heartbeat else None)
            queue(report_id)
            requeued.append(report_id)
    return requeued


def report_start(*, year: int, kind: str, actor) -> ComplianceReport:
    """Register a report to be built. A year is closed once; a close that failed can be started again."""
    if kind == ReportKind.CLOSED and actor is not None and role_of(actor) != Role.BUREAU:
        raise ApplicationError("只有市教育局可以进行年度关账。")
    with transaction.atomic():
        if kind == ReportKind.CLOSED:
            existing = ComplianceReport.objects.select_for_update().filter(year=year, kind=kind).first()
            if existing is not None:
                if existing.status == ReportStatus.DONE:
                    raise ApplicationError(f"{year} 年度已关账，报告已冻结，不能重复关账。")
                existing.status, existing.progress, existing.error = ReportStatus.RUNNING, 0, ""
                existing.heartbeat_at = timezone.now()
                existing.save(update_fields=["status", "progress", "error", "heartbeat_at"])
                return existing
        report = ComplianceReport.objects.create(year=year, kind=kind, created_by=actor, heartbeat_at=timezone.now())
        audit(action=f"credits.report.{kind}.started", actor=actor, obj=report, year=year)
    return report


def report_build(*, report_id: int) -> ComplianceReport:
    """Compute the figures and the workbook, and store both. Re-running a finished report does nothing."""
    report = ComplianceReport.objects.get(pk=report_id)
    if report.status == ReportStatus.DONE:
        return report
    try:
        with ComplianceRun(report.year) as run:
            _progress(report.pk, 0.05)
            with tempfile.TemporaryFile() as handle:
                write_compliance_workbook(handle, run, on_progress=lambda f: _progress(report.pk, 0.05 + 0.9 * f),
                                          by=report.created_by, frozen=report.kind == ReportKind.CLOSED)
                handle.seek(0)
                # Summed while the workbook streamed the teachers: the stored figures are the workbook's.
                summary, districts, schools = run.summary(), run.districts(), run.schools()
                name = f"compliance-{report.year}-{report.kind}-{report.pk}.xlsx"
                with transaction.atomic():
                    report = ComplianceReport.objects.select_for_update().get(pk=report.pk)
                    if report.status == ReportStatus.DONE:  # another worker got there first
                        return report
                    report.workbook.save(name, File(handle), save=False)
                    report.summary = summary.as_dict()
                    report.districts = [
                        {"id": d.district_id, "code": d.code, "name": d.name, "schools": d.schools, "subject": d.subject,
                         "compliant": d.compliant, "rate": d.compliance_rate, "flagged": d.flagged}
                        for d in districts
                    ]
                    report.schools = [
                        {"id": s.school_id, "code": s.code, "name": s.name, "district_id": s.district_id,
                         "district": s.district, "subject": s.subject, "compliant": s.compliant, "short": s.short,
                         "short_ratio": s.short_ratio, "flagged": s.flagged, "participated": s.participated,
                         "results": s.results, "passed": s.passed}
                        for s in schools
                    ]
                    report.status, report.progress, report.finished_at = ReportStatus.DONE, 100, timezone.now()
                    report.save()
                    audit(action=f"credits.report.{report.kind}.built", actor=report.created_by, obj=report,
                          flagged=summary.flagged)
    except Exception as exc:
        logger.exception("compliance report %s for %s failed", report_id, report.year)
        ComplianceReport.objects.filter(pk=report_id).exclude(status=ReportStatus.DONE).update(
            status=ReportStatus.FAILED, error=type(exc).__name__
        )
        raise
    return report


def latest_report(year: int) -> ComplianceReport | None:
    """The closed report of a year if it exists (frozen, CR-9), else the newest finished live one."""
    closed = closed_report(year)
    if closed:
        return closed
    return ComplianceReport.objects.filter(year=year, kind=ReportKind.LIVE, status=ReportStatus.DONE).order_by(
        "-finished_at"
    ).first()


def notify_flagged_principals(*, year: int) -> int:
    """CR-7: tell each principal of a flagged school, once per year and school."""
    report = latest_report(year)
    if report is None:
        return 0
    flagged = {s["id"]: s for s in report.schools if s["flagged"]}
    sent = 0
    for profile in Profile.objects.filter(role=Role.PRINCIPAL, school_id__in=flagged).select_related("user"):
        school = flagged[profile.school_id]
        ratio = f"{school['short_ratio']:.1%}" if school["short_ratio"] is not None else "—"
        sent += notice_send(
            recipient=profile.user,
            key=f"credits.flag:{year}:{profile.school_id}",
            title=f"{year} 年度学分达标预警：{school['name']}",
            body=(
                f"贵校应考核 {school['subject']} 人，未达标 {school['short']} 人（{ratio}），达到预警线。"
                "预警学校当年不能评为先进单位，校长不能评为优秀。请督促未达标教师尽快完成培训。"
            ),
            link=reverse("credits:school-dashboard"),
        )
    return sent
