"""Pages of the province report (上报省厅): bureau staff and auditors build it as a job and download it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from bureau.choices import Role
from bureau.params import year_param
from bureau.permissions import role_required
from bureau.scoping import may_see_full_id_number
from bureau.services import ApplicationError

from . import reports
from .tasks import build_province_report

ROLES = (Role.BUREAU, Role.AUDITOR)


def _report_or_404(request, pk: int):
    # A report with full 身份证号 does not exist for whoever may not see them (SEC-3).
    return get_object_or_404(reports.visible_reports(request.user), pk=pk)


@role_required(*ROLES)
def report_list(request):
    return render(request, "province/reports.html", {
        "reports": reports.visible_reports(request.user)[:50], "year": year_param(request),
        "full_id_numbers": may_see_full_id_number(request.user),
    })


@require_POST
@role_required(*ROLES)
def report_start(request):
    try:
        report = reports.report_start(year=year_param(request, also_post=True), actor=request.user)
    except ApplicationError as exc:
        messages.error(request, str(exc))
        return redirect("province:reports")
    transaction.on_commit(lambda: build_province_report.delay(report.pk))
    return redirect("province:report-detail", pk=report.pk)


@role_required(*ROLES)
def report_detail(request, pk: int):
    return render(request, "province/report_detail.html", {"report": _report_or_404(request, pk)})


@role_required(*ROLES)
def report_progress(request, pk: int):
    report = _report_or_404(request, pk)
    return JsonResponse({"status": report.status, "progress": report.progress, "error": report.error})


@role_required(*ROLES)
def report_download(request, pk: int):
    report = _report_or_404(request, pk)
    if not reports.may_download(request.user, report):  # the permission may have been taken away since
        raise PermissionDenied
    if not report.workbook:
        raise Http404
    suffix = "-full" if report.with_id_numbers else ""
    return FileResponse(report.workbook.open("rb"), as_attachment=True, filename=f"province-{report.year}{suffix}.xlsx")
