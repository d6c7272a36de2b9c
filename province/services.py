"""The province report (SPEC §7 上报省厅) as a background export (bureau.ExportJob, kind "province"): started
here, built by the shared Celery job (province.export_jobs), listed on the 导出文件 page and downloaded when
ready; the command writes the same workbook straight to a file.

SEC-3: the 身份证号 are masked unless the report is made for a user who may see them
(bureau.scoping.may_see_full_id_number); every report with full numbers names who asked in the audit trail.
"""

from __future__ import annotations

from django.db import transaction

from bureau.choices import Role
from bureau.exports import export_start
from bureau.models import ExportJob
from bureau.scoping import may_see_full_id_number, role_of
from bureau.services import ApplicationError, audit

KIND = "province"
# Bureau staff and auditors (an export: auditors read, and this writes nothing but the file).
ROLES = (Role.BUREAU, Role.AUDITOR)


def may_build(user) -> bool:
    return role_of(user) in ROLES


def id_numbers_release(*, year: int, actor, target: str) -> None:
    """SEC-3: the full 身份证号 go out only to a user who may see them, and the audit trail says who asked."""
    if actor is None or not may_see_full_id_number(actor):
        raise ApplicationError("导出完整身份证号须由持有“可查看完整身份证号”权限的市教育局用户发起。")
    audit(action="province.report.id_numbers_exported", actor=actor, year=year, target=target)


def report_start(*, year: int, actor) -> ExportJob:
    """Register a build for `actor` (the caller queues it on commit: bureau.exports.queue_on_commit): full
    身份证号 when the actor may see them, masked otherwise."""
    if not may_build(actor):
        raise ApplicationError("只有市教育局和审计人员可以生成上报省厅报表。")
    full = may_see_full_id_number(actor)
    suffix = "（含完整身份证号）" if full else ""
    with transaction.atomic():
        job = export_start(kind=KIND, user=actor, params={"year": year, "with_id_numbers": full},
                           title=f"{year} 年度上报省厅报表{suffix}",
                           filename=f"province-{year}{'-full' if full else ''}.xlsx")
        if full:
            id_numbers_release(year=year, actor=actor, target=f"bureau.exportjob:{job.pk}")
    return job
