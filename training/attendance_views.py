"""Organiser pages for sessions, attendance and results (SPEC §1 "3+1", §3): the project's organiser
(training.organisers: bureau staff any project, district staff their 县培, a principal the school's 校本)
adds sessions, takes attendance per session, sees the rate per enrolment and the no-show list, records
results in a grid and imports attendance and results files. Every project is looked up through
`organised_projects`, so another unit's project answers 404."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from bureau.choices import Grade, Role
from bureau.importing import run_import
from bureau.imports import today_local
from bureau.permissions import role_required
from bureau.scoping import role_of
from bureau.services import ApplicationError
from bureau.spreadsheets import SpreadsheetError, check_xlsx
from credits.amendments import pending_count

from . import rules
from .attendance import (
    attendance_record,
    no_show_filter,
    project_min_attendance_set,
    roster,
    session_add,
    session_remove,
    with_attendance,
)
from .imports import AttendanceImporter, ResultImporter
from .models import Enrolment, Session
from .organisers import organised_projects
from .services import result_record

ORGANISERS = (Role.BUREAU, Role.DISTRICT, Role.PRINCIPAL)
RESULT_ROWS_PER_PAGE = 200  # three inputs a row: well under Django's 1,000 form fields a request


def _project(request, pk: int):
    return get_object_or_404(organised_projects(request.user), pk=pk)


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError:
        raise ApplicationError(f"“{text[:20]}”不是有效日期（YYYY-MM-DD）") from None


def _with_rates(enrolments):
    for e in enrolments:
        e.attendance_rate = rules.attendance_rate(present=e.sessions_present, held=e.sessions_held)
    return enrolments


# --- sessions ---------------------------------------------------------------------------------------

@role_required(*ORGANISERS)
def sessions(request, pk: int):
    project = _project(request, pk)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "min_rate":
                raw = request.POST.get("min_attendance_rate", "").strip()
                if raw and not raw.isdigit():
                    raise ApplicationError("最低出勤率应为 0 到 100 之间的整数（百分比）。")
                project_min_attendance_set(project=project, rate=int(raw) if raw else None, actor=request.user)
                messages.success(request, "最低出勤率要求已保存。")
            else:
                held_on = _parse_date(request.POST.get("held_on", ""))
                if held_on is None:
                    raise ApplicationError("请填写场次日期。")
                session_add(project=project, held_on=held_on, title=request.POST.get("title", ""), actor=request.user)
                messages.success(request, f"已添加 {held_on:%Y-%m-%d} 的场次。")
        except ApplicationError as exc:
            messages.error(request, f"未保存：{exc}")
        return redirect("training:sessions", pk=project.pk)
    today = timezone.localdate()
    rows = (
        Session.objects.filter(project=project)
        .annotate(marked=Count("attendance"), present=Count("attendance", filter=Q(attendance__present=True)))
        .order_by("held_on", "title")
    )
    return render(request, "training/sessions.html", {
        "project": project, "sessions": rows, "today": today, "roster_size": roster(project.pk).count(),
    })


@require_POST
@role_required(*ORGANISERS)
def session_delete(request, pk: int):
    session = get_object_or_404(Session.objects.filter(project__in=organised_projects(request.user)), pk=pk)
    try:
        dropped = session_remove(session=session, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已删除 {session.held_on:%Y-%m-%d} 的场次" + (f"（及其 {dropped} 条考勤）。" if dropped else "。"))
    return redirect("training:sessions", pk=session.project_id)


@role_required(*ORGANISERS)
def session_attendance(request, pk: int):
    session = get_object_or_404(
        Session.objects.filter(project__in=organised_projects(request.user)).select_related("project"), pk=pk)
    today = timezone.localdate()
    if request.method == "POST":
        try:
            present = [int(v) for v in request.POST.getlist("present") if v.isdigit()]
            marked = attendance_record(session=session, present_ids=present, actor=request.user, today=today)
        except ApplicationError as exc:
            messages.error(request, f"未保存：{exc}")
        else:
            messages.success(request, f"考勤已保存：出勤 {len(present)} 人，变更 {marked.changed} 条。")
            return redirect("training:session-attendance", pk=session.pk)
    enrolments = list(roster(session.project_id).select_related("teacher__school").order_by("teacher__staff_no"))
    marks = dict(session.attendance.values_list("enrolment_id", "present"))
    for e in enrolments:
        e.present = marks.get(e.pk, True)  # 全部出勤 until marked otherwise
        e.marked = e.pk in marks
    return render(request, "training/session_attendance.html", {
        "session": session, "project": session.project, "enrolments": enrolments,
        "held": session.held_on <= today, "unmarked": not marks,
    })


@role_required(*ORGANISERS)
def attendance_overview(request, pk: int):
    project = _project(request, pk)
    today = timezone.localdate()
    annotated = with_attendance(Enrolment.objects.filter(project=project), today=today).select_related("teacher__school")
    enrolments = _with_rates(list(annotated.filter(state__in=rules.ATTENDANCE_STATES).order_by("teacher__staff_no")))
    no_shows = _with_rates(list(annotated.filter(no_show_filter()).order_by("teacher__staff_no")))
    held = Session.objects.filter(project=project, held_on__lte=today).count()
    minimum = project.min_attendance_rate
    for e in enrolments:
        e.short = rules.attendance_short(present=e.sessions_present, held=e.sessions_held, minimum=minimum)
    return render(request, "training/attendance_overview.html", {
        "project": project, "enrolments": enrolments, "no_shows": no_shows, "held": held, "minimum": minimum,
    })


# --- results grid -----------------------------------------------------------------------------------

def _grid_row(e, post) -> tuple[dict, tuple | None]:
    """One grid row as typed: its values for the page, and (grade, completed_on, certified) to save when
    it changes something (None: nothing to save). Raises ApplicationError for a row that cannot be saved."""
    result = getattr(e, "result", None)
    grade = post.get(f"grade-{e.pk}", "").strip()
    typed = {"grade": grade, "completed": post.get(f"done-{e.pk}", "").strip(),
             "hours": post.get(f"hours-{e.pk}", "").strip()}
    if not grade:
        if result is not None:
            raise ApplicationError("已登记的考核结果不能清空，可改为“未完成”")
        return typed, None
    if grade not in Grade.values:
        raise ApplicationError(f"“{grade[:10]}”不是允许的考核结果")
    completed = _parse_date(typed["completed"])
    hours = None
    if typed["hours"] and grade in rules.PASSING_GRADES:
        try:
            hours = Decimal(typed["hours"]).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise ApplicationError(f"认定学时“{typed['hours'][:10]}”不是数字") from None
        if hours <= 0:
            raise ApplicationError("认定学时应大于 0")
    if grade in rules.PASSING_GRADES and completed is None:
        raise ApplicationError("考核结果为优秀或合格时，完成日期不能为空")
    values = (grade, completed, hours)
    if result is not None and (result.grade, result.completed_on, result.certified_hours) == values:
        return typed, None
    return typed, values


@role_required(*ORGANISERS)
def results_grid(request, pk: int):
    project = _project(request, pk)
    today = timezone.localdate()
    enrolments = (
        with_attendance(Enrolment.objects.filter(project=project), today=today)
        .filter(Q(state__in=rules.ATTENDANCE_STATES) | Q(result__isnull=False))
        .select_related("teacher__school", "result").order_by("teacher__staff_no", "pk")
    )
    page = Paginator(enrolments, RESULT_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    rows = _with_rates(list(page.object_list))
    errors = {}
    if request.method == "POST":
        saved = 0
        keys = []
        with transaction.atomic():
            for e in rows:
                try:
                    e.typed, values = _grid_row(e, request.POST)
                    if values is not None:
                        result_record(project=project, teacher=e.teacher, grade=values[0], completed_on=values[1],
                                      certified_hours=values[2], actor=request.user, today=today)
                        saved += 1
                        keys.append(f"result:{e.pk}")
                except ApplicationError as exc:
                    errors[e.pk] = str(exc)
            if errors:
                transaction.set_rollback(True)
        if not errors:
            messages.success(request, f"考核结果已保存：变更 {saved} 人。" if saved else "没有需要保存的变更。")
            if waiting := pending_count(keys):  # CR-9 (amended)
                messages.warning(request, f"其中 {waiting} 人的完成日期属于已关账年度，学分未直接登记，已作为补报等待市教育局审核。")
            return redirect(f"{reverse('training:results-grid', args=[project.pk])}?page={page.number}")
        messages.error(request, f"有 {len(errors)} 行未通过校验，本页未保存任何结果，请修正后重新提交。")
    for e in rows:
        result = getattr(e, "result", None)
        if not hasattr(e, "typed"):
            e.typed = {
                "grade": result.grade if result else "",
                "completed": (result.completed_on if result and result.completed_on
                              else min(project.end_on, today)).isoformat(),
                "hours": "" if not result or result.certified_hours is None else f"{result.certified_hours.normalize():f}",
            }
        e.error = errors.get(e.pk)
    return render(request, "training/results_grid.html", {
        "project": project, "rows": rows, "page": page, "grades": Grade.values,
        "minimum": project.min_attendance_rate,
    })


# --- imports ----------------------------------------------------------------------------------------

def _stored_name(user, token: str) -> str:
    return f"imports/{user.pk}/{token}.xlsx"


def _import_page(request, *, importer_class, title: str, notes: str):
    """Upload, preview every row error, then write: the admin's import flow (bureau.admin_imports) on a
    page organisers use, with the same importer and run_import."""
    context = {
        "title": title, "notes": notes,
        "headers": [c.header for c in importer_class.columns],
        "optional_headers": [c.header for c in importer_class.columns if not c.required or not c.header_required],
        "projects": organised_projects(request.user).order_by("-start_on", "code")[:50],
        "every_project": role_of(request.user) == Role.BUREAU,
    }
    if request.method == "POST":
        importer = importer_class(actor=request.user, today=today_local())
        token = request.POST.get("token", "")
        valid_token = len(token) == 32 and all(c in "0123456789abcdef" for c in token)
        try:
            if "file" in request.FILES:
                upload = request.FILES["file"]
                check_xlsx(upload)
                token = uuid.uuid4().hex
                default_storage.save(_stored_name(request.user, token), upload)
                with default_storage.open(_stored_name(request.user, token), "rb") as fileobj:
                    report = run_import(importer, fileobj, dry_run=True, filename=upload.name)
                context.update(report=report, token=token, filename=upload.name)
            elif valid_token and default_storage.exists(_stored_name(request.user, token)):
                filename = request.POST.get("filename", "")[:200]
                with default_storage.open(_stored_name(request.user, token), "rb") as fileobj:
                    report = run_import(importer, fileobj, skip_invalid=request.POST.get("skip_invalid") == "1",
                                        filename=filename)
                if report.written:
                    default_storage.delete(_stored_name(request.user, token))
                    messages.success(request, f"导入完成。{report.summary()}")
                    return redirect(request.path)
                context.update(report=report, token=token, filename=filename)
            else:
                context["file_error"] = "请选择要导入的 xlsx 文件。"
        except SpreadsheetError as exc:
            context["file_error"] = str(exc)
            if valid_token:
                default_storage.delete(_stored_name(request.user, token))
    return render(request, "training/import.html", context)


@role_required(*ORGANISERS)
def attendance_import(request):
    return _import_page(request, importer_class=AttendanceImporter, title="导入考勤",
                        notes="“日期”为该项目某一场次的日期（须先在场次页面添加场次）；“出勤”填 是 或 否。")


@role_required(*ORGANISERS)
def results_import(request):
    return _import_page(request, importer_class=ResultImporter, title="导入考核结果",
                        notes="考核结果为 优秀、合格、不合格 或 未完成；优秀、合格须填完成日期；认定学时可不填（按项目学时）。")
