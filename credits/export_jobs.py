"""Background exports of the credits part (issue 18 item 3), registered with bureau.exports: the city's and
a district's compliance workbook, the ledger of a scope larger than a school, a closed year's 补报 report.
The scope used is the one recorded with the job (bureau.exports checks it is still the user's)."""

from __future__ import annotations

from django.db.models import Count

from bureau.choices import Role
from bureau.exports import register
from bureau.scoping import visible_teachers
from bureau.services import ApplicationError
from bureau.spreadsheets import About

from .compliance import ComplianceRun, Scope
from .exports import write_compliance_workbook, write_ledger
from .models import LedgerEntry

STAFF = (Role.BUREAU, Role.DISTRICT, Role.AUDITOR)


def _fraction(total: int, progress):
    return lambda written: progress(min(0.99, written / total)) if total else None


def build_compliance(job, target, progress) -> int:
    year = int(job.params["year"])
    district_id = job.scope.get("district_id")
    scope = Scope(district_id=district_id) if district_id else Scope()
    with ComplianceRun(year, scope=scope) as run:
        write_compliance_workbook(target, run, on_progress=progress, by=job.created_by)
        return run.summary().subject


def ledger_rows(user, params: dict):
    rows = LedgerEntry.objects.filter(teacher__in=visible_teachers(user), entry_date__year=int(params["year"]))
    if params.get("school"):
        rows = rows.filter(teacher__school__code=params["school"])
    if params.get("source"):
        rows = rows.filter(source=params["source"])
    return rows


def ledger_about(params: dict, user) -> About:
    scope = "、".join(x for x in (params.get("school"), params.get("source") and f"来源 {params['source']}") if x)
    return About("学分登记明细", year=int(params["year"]), by=user, scope=scope or "本人权限范围")


def build_ledger(job, target, progress) -> int:
    rows = ledger_rows(job.created_by, job.params)
    total = rows.aggregate(n=Count("pk"))["n"]
    write_ledger(target, rows, about=ledger_about(job.params, job.created_by), progress=_fraction(total, progress))
    return total


def build_amendments(job, target, progress) -> int:
    from .amendments import write_amendment_workbook
    from .selectors import closed_report

    report = closed_report(int(job.params["year"]))
    if report is None or not report.workbook:
        raise ApplicationError("该年度尚未关账。")
    return write_amendment_workbook(target, report, progress=progress, by=job.created_by)


def register_all() -> None:
    register("compliance", label="达标工作簿", roles=STAFF, build=build_compliance)
    register("ledger", label="学分登记明细", roles=STAFF, build=build_ledger)
    register("amendments", label="补报报告", roles=(Role.BUREAU, Role.AUDITOR), build=build_amendments)
