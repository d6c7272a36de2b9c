"""The province report page (上报省厅): bureau staff and auditors start it as a background export
(bureau.ExportJob, kind "province"); its progress page, the list and the download are the 导出文件 pages."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bureau.exports import jobs_of, queue_on_commit
from bureau.params import year_param
from bureau.permissions import role_required
from bureau.scoping import may_see_full_id_number
from bureau.services import ApplicationError

from . import services

PER_PAGE = 50


@role_required(*services.ROLES)
def report_list(request):
    """The year form and the user's own province reports (those with full 身份证号 only while the user may
    see them, SEC-3)."""
    return render(request, "province/reports.html", {
        "jobs": jobs_of(request.user).filter(kind=services.KIND)[:PER_PAGE], "year": year_param(request),
        "full_id_numbers": may_see_full_id_number(request.user),
    })


@require_POST
@role_required(*services.ROLES)
def report_start(request):
    try:
        job = services.report_start(year=year_param(request, also_post=True), actor=request.user)
    except ApplicationError as exc:
        messages.error(request, str(exc))
        return redirect("province:reports")
    queue_on_commit(job)
    return redirect("export-detail", pk=job.pk)
