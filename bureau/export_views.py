"""The 导出文件 pages (issue 18 item 3): the user's background exports, their progress, the download; and
`offer_export`, which the apps' export links call for workbooks larger than a school's."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render

from .choices import Role
from .exports import export_start, jobs_of, kind_of, queue_on_commit, visible_job
from .models import ExportStatus
from .permissions import role_required
from .services import ApplicationError

# Every role that may start some export (the page lists one's own jobs).
ROLES = (Role.BUREAU, Role.DISTRICT, Role.AUDITOR, Role.PRINCIPAL)
PER_PAGE = 50


def offer_export(request, *, kind: str, params: dict, title: str, filename: str):
    """GET: a page that says the file is built in the background, with a button (no side effect on GET);
    POST: register the job, queue it, and go to its progress page. The caller checked the role already."""
    if request.method != "POST":
        return render(request, "bureau/export_offer.html", {"title": title, "label": kind_of(kind).label})
    try:
        job = export_start(kind=kind, user=request.user, params=params, title=title, filename=filename)
    except ApplicationError as exc:
        messages.error(request, str(exc))
        return redirect("exports")
    queue_on_commit(job)
    return redirect("export-detail", pk=job.pk)


def _job_or_404(request, pk: int):
    job = visible_job(request.user, pk)
    if job is None:
        raise Http404
    return job


@role_required(*ROLES)
def export_list(request):
    jobs = list(jobs_of(request.user)[:PER_PAGE])
    return render(request, "bureau/exports.html", {"jobs": jobs})


@role_required(*ROLES)
def export_detail(request, pk: int):
    return render(request, "bureau/export_detail.html", {"job": _job_or_404(request, pk)})


@role_required(*ROLES)
def export_progress(request, pk: int):
    job = _job_or_404(request, pk)
    return JsonResponse({"status": job.status, "progress": job.progress, "error": job.error})


@role_required(*ROLES)
def export_download(request, pk: int):
    job = _job_or_404(request, pk)
    if job.status != ExportStatus.DONE or not job.file:
        raise Http404
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.filename or f"export-{job.pk}.xlsx")
