"""The enrolment chain's pages (issue 15): the organiser's enrolment page with filters and bulk steps,
the principal's bulk decisions and nominations, the teacher's calendar file, and the per-project roster
workbook. Every row is moved by training.services (one row refused reports its reason, the others
proceed); every query starts from the user's scope (training.organisers, bureau.scoping)."""

from __future__ import annotations

import io
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bureau.choices import Role
from bureau.models import School
from bureau.permissions import role_required
from bureau.scoping import own_teacher, role_of, visible_teachers
from bureau.services import ApplicationError
from bureau.spreadsheets import SheetSpec, write_workbook, xlsx_response

from .attendance import with_attendance
from .calendar import enrolment_calendar
from .models import Enrolment, EnrolmentState, Project
from .organisers import may_organise, organised_projects
from .services import enrolment_apply, enrolment_transition

PER_PAGE = 50
# The organiser's bulk steps on the enrolment page: form value -> (service action, label).
ORGANISER_ACTIONS = {"approve": "录取", "reject": "不通过", "no_show": "未报到"}


def organiser_enrolments(user):
    """The enrolments a user decides as organiser: every enrolment of the projects the user organises,
    and, for district staff, their district's teachers' enrolments waiting for the organiser's step in
    any project (training.services._may_act lets them take it)."""
    scope = Q(project__in=organised_projects(user))
    if role_of(user) == Role.DISTRICT:
        scope |= Q(teacher__in=visible_teachers(user), state=EnrolmentState.SCHOOL_APPROVED)
    return Enrolment.objects.filter(scope)


def _filters(request) -> dict:
    return {name: request.GET.get(name, "").strip() for name in ("project", "state", "school", "q")}


def _filtered(rows, filters: dict):
    if filters["project"].isdigit():
        rows = rows.filter(project_id=int(filters["project"]))
    if filters["state"] in EnrolmentState.values:
        rows = rows.filter(state=filters["state"])
    if filters["school"].isdigit():
        rows = rows.filter(teacher__school_id=int(filters["school"]))
    if filters["q"]:
        rows = rows.filter(Q(teacher__staff_no=filters["q"]) | Q(teacher__name__contains=filters["q"]))
    return rows


@role_required(Role.BUREAU, Role.DISTRICT, Role.PRINCIPAL)
def organise_enrolments(request):
    scoped = organiser_enrolments(request.user)
    filters = _filters(request)
    rows = (_filtered(scoped, filters)
            .select_related("teacher__school__district", "project")
            .order_by("project__start_on", "project_id", "created_at", "pk"))
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    projects = Project.objects.filter(pk__in=scoped.values("project_id")).order_by("-start_on", "code")
    schools = School.objects.filter(pk__in=scoped.values("teacher__school_id")).order_by("code")
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(request, "training/organise_enrolments.html", {
        "page": page, "filters": filters, "projects": projects, "schools": schools, "query": query,
        "states": EnrolmentState.choices, "actions": ORGANISER_ACTIONS.items(),
    })


def _run_each(request, enrolments, action: str, reason: str) -> None:
    """One service call per row, each in its own transaction: a refused row is reported with its
    reason and the others go ahead."""
    done, failed = 0, []
    for enrolment in enrolments:
        try:
            enrolment_transition(enrolment=enrolment, action=action, actor=request.user, reason=reason)
        except ApplicationError as exc:
            failed.append(f"{enrolment.teacher.staff_no} {enrolment.teacher.name}（{enrolment.project.code}）：{exc}")
        else:
            done += 1
    if done:
        messages.success(request, f"已处理 {done} 条报名。")
    for line in failed:
        messages.error(request, line)


def _chosen_ids(request) -> list[int]:
    return [int(v) for v in request.POST.getlist("ids") if v.isdigit()]


@require_POST
@role_required(Role.BUREAU, Role.DISTRICT, Role.PRINCIPAL)
def organise_enrolments_bulk(request):
    action = request.POST.get("action", "")
    back = redirect("training:organise-enrolments")
    query = request.POST.get("query", "")
    if query:
        back["Location"] += "?" + query
    if action not in ORGANISER_ACTIONS:
        messages.error(request, "请选择操作。")
        return back
    ids = _chosen_ids(request)
    if not ids:
        messages.error(request, "请先勾选报名。")
        return back
    rows = organiser_enrolments(request.user).filter(pk__in=ids).select_related("teacher", "project").order_by("pk")
    _run_each(request, rows, action, request.POST.get("reason", ""))
    return back


@require_POST
@role_required(Role.PRINCIPAL)
def school_enrolments_bulk(request):
    """The principal approves or rejects many of the school's pending enrolments at once."""
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        messages.error(request, "请选择通过或不通过。")
        return redirect("training:school-enrolments")
    ids = _chosen_ids(request)
    if not ids:
        messages.error(request, "请先勾选报名。")
        return redirect("training:school-enrolments")
    rows = (Enrolment.objects.filter(teacher__in=visible_teachers(request.user), pk__in=ids)
            .select_related("teacher", "project").order_by("pk"))
    _run_each(request, rows, "school_approve" if decision == "approve" else "reject", request.POST.get("note", ""))
    return redirect("training:school-enrolments")


@require_POST
@role_required(Role.PRINCIPAL)
def school_nominate_bulk(request):
    """The principal nominates many of the school's teachers for one project; each through the service."""
    project = get_object_or_404(Project, pk=request.POST.get("project") or 0)
    ids = _chosen_ids(request)
    teachers = visible_teachers(request.user).filter(pk__in=ids).order_by("staff_no")
    if not ids:
        messages.error(request, "请先勾选教师。")
        return redirect("training:school-enrolments")
    waitlist = request.POST.get("waitlist") == "1"
    done, waiting, failed = 0, 0, []
    for teacher in teachers:
        try:
            enrolment = enrolment_apply(project=project, teacher=teacher, actor=request.user,
                                        today=timezone.localdate(), waitlist=waitlist)
        except ApplicationError as exc:
            failed.append(f"{teacher.staff_no} {teacher.name}：{exc}")
        else:
            if enrolment.state == EnrolmentState.WAITLISTED:
                waiting += 1
            else:
                done += 1
    if done:
        messages.success(request, f"已选派 {done} 名教师参加“{project.name}”。")
    if waiting:
        messages.success(request, f"{waiting} 名教师因名额已满进入候补。")
    for line in failed:
        messages.error(request, f"选派未成功：{line}")
    return redirect("training:school-enrolments")


@role_required(Role.TEACHER)
def calendar_file(request, pk: int):
    """The teacher's own enrolment as an iCalendar file (linked from the reminder notice)."""
    enrolment = get_object_or_404(Enrolment.objects.select_related("project"), pk=pk,
                                  teacher=own_teacher(request.user))
    body = enrolment_calendar(enrolment, host=request.get_host().split(":")[0], now=timezone.now())
    response = HttpResponse(body.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f"attachment; filename=training-{enrolment.project.code}.ics"
    return response


ROSTER_HEADERS = ["工号", "姓名", "学校", "区县", "任教学科", "职称", "状态", "报名时间", "出勤率", "考核结果"]


def roster_rows(user, project: Project):
    """The roster's enrolments for this user: all of them for the organiser and auditors, the district's
    teachers' for other district staff; None when the user may not see this project's roster."""
    rows = Enrolment.objects.filter(project=project)
    role = role_of(user)
    if may_organise(user, project) or role == Role.AUDITOR:
        return rows
    if role == Role.DISTRICT:
        return rows.filter(teacher__in=visible_teachers(user))
    return None


@role_required(Role.BUREAU, Role.DISTRICT, Role.PRINCIPAL, Role.AUDITOR)
def project_roster(request, pk: int):
    project = get_object_or_404(Project, pk=pk)
    rows = roster_rows(request.user, project)
    if rows is None:
        raise Http404
    # 出勤率 as on the attendance pages: sessions present ÷ sessions held so far (training.attendance).
    rows = (with_attendance(rows.select_related("teacher__school__district", "result"), today=timezone.localdate())
            .order_by("teacher__school__code", "teacher__staff_no"))

    def out():
        for e in rows.iterator(chunk_size=500):
            t = e.teacher
            result = getattr(e, "result", None)
            yield [t.staff_no, t.name, t.school.name, t.school.district.name, t.subject, t.title, e.get_state_display(),
                   timezone.localtime(e.created_at).date(), round(e.sessions_present / e.sessions_held, 4) if e.sessions_held else None,
                   result.grade if result else ""]

    buffer = io.BytesIO()
    write_workbook(buffer, [SheetSpec("学员名单", ROSTER_HEADERS, out(), date_columns=(7,))])
    return xlsx_response(buffer, f"roster-{project.pk}.xlsx")
