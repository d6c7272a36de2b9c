"""Dashboards (principal; bureau, district, auditor with drill-down) and report downloads (CR-7 to CR-9).

Every page reads through bureau.scoping and the compliance computation; the city view reads the
stored nightly (or closed) report so that it stays fast at city scale.
"""

from __future__ import annotations

import io

from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from bureau import versions
from bureau.choices import Role
from bureau.export_views import offer_export
from bureau.exports import jobs_of
from bureau.models import School
from bureau.pages import cached_page, render_cached
from bureau.params import path_text, text_param, year_key, year_param
from bureau.permissions import role_required
from bureau.scoping import (
    profile_of,
    role_of,
    visible_districts,
    visible_schools,
    visible_teachers,
    visible_teachers_of_year,
)
from bureau.services import ApplicationError
from bureau.spreadsheets import xlsx_response

from . import reports, rules
from .compliance import ComplianceRun, Scope, school_figures
from .export_jobs import ledger_about, ledger_rows
from .exports import write_compliance_workbook, write_ledger, write_transcript
from .models import ComplianceReport, LedgerEntry, ReportKind
from .queues import school_queue_version_key, waiting_for_principal
from .selectors import closed_report, policy_for, school_version_keys, teacher_year
from .tasks import build_report

STAFF = (Role.BUREAU, Role.DISTRICT, Role.AUDITOR)


def _targets(summary, policy) -> list[dict]:
    def row(label, value, target):
        return {"label": label, "value": value, "target": float(target),
                "met": value is not None and value >= float(target), "percent": 0 if value is None else round(value * 100, 1)}

    return [
        row("参培率", summary.participation_rate, policy.target_participation),
        row("合格率", summary.pass_rate, policy.target_pass),
        row("学分达标率", summary.compliance_rate, policy.target_compliance),
    ]


def _school_page(request, school: School, year: int):
    """Cached per user until the school's figures (a ledger row, result, teacher or exemption of the
    school, the school itself, the policy: version keys bumped by credits.apps' receivers), the notices
    or the user change, at most a minute (bulk roster loads show within the minute). The figures
    themselves are shared by everyone who looks at the school."""

    def context():
        figures = versions.cached(
            f"credits.school_context.{school.pk}.{year}", school_version_keys(school.pk),
            lambda: _school_figures_context(school, year), 60,
        )
        # who is short on what (CR-5/CR-6 amended): the principal's own list, or the district's for staff
        principal = role_of(request.user) == Role.PRINCIPAL
        short_url = (reverse("credits:school-short") if principal
                     else f"{reverse('credits:short-list')}?district={school.district_id}")
        return {**figures, "school": school, "short_url": f"{short_url}{'&' if '?' in short_url else '?'}year={year}",
                # what waits for the principal's decision (credits.queues), linking to where it is decided
                "waiting": waiting_for_principal(school.pk) if principal else []}

    return render_cached(
        request, "credits/school_dashboard.html", version_keys=[*school_version_keys(school.pk),
                                                                 school_queue_version_key(school.pk)],
        context=context, timeout=60,
    )


def _school_figures_context(school: School, year: int) -> dict:
    row, summary, teachers = school_figures(year, school)
    policy = summary.policy
    short = [
        {"staff_no": t.staff_no, "name": t.name, "credits": t.annual_credits, "gap": policy.annual_credits - t.annual_credits,
         "cycle_hours": t.cycle_hours}
        for t in teachers if t.subject and not t.compliant
    ]
    cycle_start = rules.cycle_start_year(year, first_cycle_start=policy.first_cycle_start, cycle_years=policy.cycle_years)
    trend = []
    for y in range(cycle_start, year + 1):
        s = summary if y == year else school_figures(y, school)[1]
        trend.append({"year": y, "compliance": s.compliance_rate, "participation": s.participation_rate,
                      "pass": s.pass_rate})
    short.sort(key=lambda t: (-t["gap"], t["staff_no"]))
    return {
        "year": year,
        "summary": summary,
        "row": row,
        "short": short,
        "targets": _targets(summary, policy),
        "policy": policy,
        "trend": trend,
    }


@cached_page(key=lambda request: f"own-school.{year_key(request)}")  # the school follows from the user
@role_required(Role.PRINCIPAL)
def school_dashboard(request):
    school = profile_of(request.user).school  # loaded with the signed-in user (bureau.auth)
    if school is None:
        raise Http404
    return _school_page(request, school, year_param(request))


@cached_page(key=lambda request, pk: f"school.{pk}.{year_key(request)}")
@role_required(*STAFF)
def staff_school_dashboard(request, pk: int):
    school = get_object_or_404(visible_schools(request.user).select_related("district"), pk=pk)
    return _school_page(request, school, year_param(request))


@role_required(*STAFF)
def city_dashboard(request):
    """City (bureau, auditor) from the stored report; a district's staff see their district live."""
    year = year_param(request)
    if role_of(request.user) == Role.DISTRICT:
        return redirect("credits:district-dashboard", pk=profile_of(request.user).district_id)
    report = reports.latest_report(year)
    running = ComplianceReport.objects.filter(year=year, status="running").first()
    context = {"year": year, "report": report, "running": running}
    if report is not None:
        summary = report.summary

        policy = policy_for(year)
        context.update(
            summary=summary,
            targets=[
                {"label": "参培率", "value": summary["participation_rate"], "target": float(policy.target_participation)},
                {"label": "合格率", "value": summary["pass_rate"], "target": float(policy.target_pass)},
                {"label": "学分达标率", "value": summary["compliance_rate"], "target": float(policy.target_compliance)},
            ],
            districts=sorted(report.districts, key=lambda d: (-(d["rate"] or 0), d["code"])),
            flagged=sorted((s for s in report.schools if s["flagged"]), key=lambda s: (-(s["short_ratio"] or 0), s["code"])),
            chart=[{"name": d["name"], "rate": d["rate"]} for d in report.districts],
        )
    return render(request, "credits/city_dashboard.html", context)


@role_required(*STAFF)
def district_dashboard(request, pk: int):
    district = get_object_or_404(visible_districts(request.user), pk=pk)
    year = year_param(request)
    with ComplianceRun(year, scope=Scope(district_id=district.pk)) as run:
        summary = run.summary()
        schools = run.schools()
        targets = _targets(summary, run.policy)
    schools.sort(key=lambda s: (-(s.short_ratio or 0), s.code))
    return render(request, "credits/district_dashboard.html", {
        "district": district, "year": year, "summary": summary, "schools": schools, "targets": targets,
    })


@role_required(*STAFF, Role.PRINCIPAL)
def teacher_detail(request, staff_no: str):
    year = year_param(request)
    # CR-7: the year's lists name the teachers a school had that year, so their figures open from them.
    teacher = get_object_or_404(visible_teachers_of_year(request.user, year).select_related("school"),
                                staff_no=path_text(staff_no))
    rows = LedgerEntry.objects.filter(teacher=teacher).order_by("-entry_date", "-id")[:200]
    return render(request, "credits/teacher_detail.html", {
        "teacher": teacher, "year": year, "figures": teacher_year(teacher.pk, year), "rows": rows,
    })


@role_required(*STAFF, Role.PRINCIPAL)
def teacher_transcript_xlsx(request, staff_no: str):
    teacher = get_object_or_404(visible_teachers(request.user), staff_no=path_text(staff_no))
    buffer = io.BytesIO()
    write_transcript(buffer, teacher=teacher)
    return xlsx_response(buffer, f"transcript-{teacher.staff_no}.xlsx")




def _scope_for(user) -> Scope:
    role = role_of(user)
    if role == Role.DISTRICT:
        return Scope(district_id=profile_of(user).district_id)
    if role == Role.PRINCIPAL:
        return Scope(school_id=profile_of(user).school_id)
    return Scope()


@role_required(*STAFF, Role.PRINCIPAL)
def compliance_xlsx(request):
    """The compliance workbook of a year for the user's scope. A principal's school is built in the request;
    the city's comes from the closed (frozen) report when the year is closed (CR-9); otherwise the city's and
    a district's are built in the background (issue 18 item 3: GET offers, POST starts the job)."""
    year = year_param(request)
    scope = _scope_for(request.user)
    if scope == Scope():
        closed = closed_report(year)
        if closed and closed.workbook:
            return FileResponse(closed.workbook.open("rb"), as_attachment=True, filename=f"compliance-{year}.xlsx")
    if scope.school_id is None:
        where = "区县" if scope.district_id else "全市"
        return offer_export(request, kind="compliance", params={"year": year},
                            title=f"{year} 年度{where}达标工作簿", filename=f"compliance-{year}.xlsx")
    buffer = io.BytesIO()
    with ComplianceRun(year, scope=scope) as run:
        write_compliance_workbook(buffer, run, by=request.user)
    return xlsx_response(buffer, f"compliance-{year}.xlsx")


@role_required(*STAFF, Role.PRINCIPAL)
def ledger_xlsx(request):
    """All ledger rows of a year in the user's scope, optionally one school or one source. A principal's
    or one school's is built in the request; a larger scope in the background (issue 18 item 3)."""
    params = {"year": year_param(request), "school": text_param(request, "school"),
              "source": text_param(request, "source")}
    if role_of(request.user) != Role.PRINCIPAL and not params["school"]:
        return offer_export(request, kind="ledger", params=params, title=f"{params['year']} 年度学分登记明细",
                            filename=f"ledger-{params['year']}.xlsx")
    buffer = io.BytesIO()
    write_ledger(buffer, ledger_rows(request.user, params), about=ledger_about(params, request.user))
    return xlsx_response(buffer, f"ledger-{params['year']}.xlsx")


@role_required(Role.BUREAU, Role.AUDITOR)
def report_list(request):
    items = ComplianceReport.objects.select_related("created_by")[:50]
    return render(request, "credits/reports.html", {"reports": items, "year": year_param(request),
                                                    "export_jobs": jobs_of(request.user)[:10]})


@require_POST
@role_required(Role.BUREAU)
def report_start(request):
    kind = ReportKind.CLOSED if request.POST.get("kind") == "closed" else ReportKind.LIVE
    try:
        report = reports.report_start(year=year_param(request), kind=kind, actor=request.user)
    except ApplicationError as exc:
        from django.contrib import messages

        messages.error(request, str(exc))
        return redirect("credits:reports")
    from django.db import transaction

    transaction.on_commit(lambda: build_report.delay(report.pk))
    return redirect("credits:report-detail", pk=report.pk)


@role_required(Role.BUREAU, Role.AUDITOR)
def report_detail(request, pk: int):
    return render(request, "credits/report_detail.html", {"report": get_object_or_404(ComplianceReport, pk=pk)})


@role_required(Role.BUREAU, Role.AUDITOR)
def report_progress(request, pk: int):
    report = get_object_or_404(ComplianceReport, pk=pk)
    return JsonResponse({"status": report.status, "progress": report.progress, "error": report.error})


@role_required(Role.BUREAU, Role.AUDITOR)
def report_download(request, pk: int):
    report = get_object_or_404(ComplianceReport, pk=pk)
    if not report.workbook:
        raise Http404
    return FileResponse(report.workbook.open("rb"), as_attachment=True,
                        filename=f"compliance-{report.year}-{report.kind}.xlsx")


