"""The province report's kind of background export (issue 18 item 3), registered with bureau.exports: built
by the shared Celery job (bureau.tasks.run_export) into storage with a progress bar, in constant memory
through the province workbook writer (province.exports)."""

from __future__ import annotations

from bureau.exports import ExportRefused, register
from bureau.scoping import may_see_full_id_number
from credits.compliance import ComplianceRun

from .exports import write_province_workbook
from .services import KIND, ROLES


def with_id_numbers(job) -> bool:
    return bool(job.params.get("with_id_numbers"))


def may_see(user, job) -> bool:
    """SEC-3: a report with full 身份证号 does not exist for whoever may not see them (now: a permission
    taken away after the start hides it from its own starter too)."""
    return not with_id_numbers(job) or may_see_full_id_number(user)


def build_province(job, target, progress) -> int:
    full = with_id_numbers(job)
    if full and not may_see_full_id_number(job.created_by):  # the permission was taken away since the start
        raise ExportRefused("发起人已无查看完整身份证号的权限，未生成文件，请重新发起。")
    with ComplianceRun(int(job.params["year"])) as run:
        progress(0.05)
        total = max(1, run.teacher_count())
        write_province_workbook(target, run, full_id_numbers=full, by=job.created_by,
                                on_progress=lambda done: progress(0.05 + 0.9 * done / total))
        return run.teacher_count()


def register_all() -> None:
    register(KIND, label="上报省厅报表", roles=ROLES, build=build_province, may_see=may_see)
