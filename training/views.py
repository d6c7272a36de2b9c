"""Teacher portal: open projects and own enrolments; principal: the school's enrolment approvals."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bureau.choices import Role
from bureau.models import School
from bureau.permissions import role_required
from bureau.scoping import own_teacher, visible_teachers
from bureau.services import ApplicationError

from .attendance import with_attendance
from .models import SEAT_STATES, Enrolment, EnrolmentState, Project, ProjectStatus, SurveyKind
from .rules import attendance_rate
from .services import enrolment_apply, enrolment_transition, survey_answer
from .shares import school_seats


def _open_projects():
    return (
        Project.objects.filter(status=ProjectStatus.ENROLLING)
        .annotate(taken=Count("enrolments", filter=Q(enrolments__state__in=SEAT_STATES)))
        .order_by("enrol_closes_on", "start_on")
    )


@role_required(Role.TEACHER)
def projects(request):
    teacher = own_teacher(request.user)
    mine = {e.project_id: e for e in with_attendance(Enrolment.objects.filter(teacher=teacher), today=timezone.localdate())
            .select_related("project", "result")}
    for enrolment in mine.values():
        enrolment.attendance_rate = attendance_rate(present=enrolment.sessions_present, held=enrolment.sessions_held)
    # A school's 校本 projects are for its own teachers only (training.projects.school_project_miss).
    open_projects = [p for p in _open_projects() if p.owner_school_id in (None, teacher.school_id)]
    for project in open_projects:
        project.my_enrolment = mine.get(project.pk)
        project.seats_left = None if project.capacity is None else max(0, project.capacity - project.taken)
    enrolments = sorted(mine.values(), key=lambda e: e.created_at, reverse=True)
    return render(request, "training/projects.html", {"projects": open_projects, "enrolments": enrolments})


@require_POST
@role_required(Role.TEACHER)
def apply(request, pk: int):
    project = get_object_or_404(Project, pk=pk)
    try:
        enrolment = enrolment_apply(project=project, teacher=own_teacher(request.user), actor=request.user,
                                    today=timezone.localdate(), waitlist=request.POST.get("waitlist") == "1")
    except ApplicationError as exc:
        messages.error(request, f"报名未成功：{exc}")
    else:
        if enrolment.state == EnrolmentState.WAITLISTED:
            messages.success(request, f"“{project.name}”名额已满，您已进入候补；有名额空出时按顺序递补并通知您。")
        else:
            messages.success(request, f"已报名“{project.name}”，等待学校审核。")
    return redirect("training:projects")


@require_POST
@role_required(Role.TEACHER)
def withdraw(request, pk: int):
    enrolment = get_object_or_404(Enrolment, pk=pk, teacher=own_teacher(request.user))
    try:
        enrolment_transition(enrolment=enrolment, action="withdraw", actor=request.user)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已退出该项目。")
    return redirect("training:projects")


@role_required(Role.PRINCIPAL)
def school_enrolments(request):
    teachers = visible_teachers(request.user)
    pending = (
        Enrolment.objects.filter(teacher__in=teachers, state=EnrolmentState.APPLIED)
        .select_related("teacher", "project")
        .order_by("created_at")
    )
    recent = (
        Enrolment.objects.filter(teacher__in=teachers)
        .exclude(state=EnrolmentState.APPLIED)
        .select_related("teacher", "project")
        .order_by("-updated_at")[:30]
    )

    school = School.objects.get(pk=request.user.profile.school_id)
    projects = list(_open_projects())
    for project in projects:
        project.school_seats = school_seats(project=project, school=school, today=timezone.localdate())
    return render(
        request,
        "training/school_enrolments.html",
        {"pending": pending, "recent": recent, "projects": projects, "teachers": teachers.order_by("staff_no")},
    )


@require_POST
@role_required(Role.PRINCIPAL)
def school_enrolment_decide(request, pk: int):
    enrolment = get_object_or_404(Enrolment, pk=pk, teacher__in=visible_teachers(request.user))
    action = "school_approve" if request.POST.get("decision") == "approve" else "reject"
    try:
        enrolment_transition(enrolment=enrolment, action=action, actor=request.user, reason=request.POST.get("note", ""))
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已处理 {enrolment.teacher.name} 的报名。")
    return redirect("training:school-enrolments")


@require_POST
@role_required(Role.PRINCIPAL)
def school_nominate(request):
    teacher = get_object_or_404(visible_teachers(request.user), pk=request.POST.get("teacher"))
    project = get_object_or_404(Project, pk=request.POST.get("project"))
    try:
        enrolment_apply(project=project, teacher=teacher, actor=request.user, today=timezone.localdate())
    except ApplicationError as exc:
        messages.error(request, f"选派未成功：{exc}")
    else:
        messages.success(request, f"已选派 {teacher.name} 参加“{project.name}”。")
    return redirect("training:school-enrolments")


@require_POST
@role_required(Role.TEACHER)
def survey(request, pk: int, kind: str):
    project = get_object_or_404(Project, pk=pk)
    if kind not in SurveyKind.values:
        raise Http404
    try:
        score = int(request.POST.get("score", "0"))
        survey_answer(project=project, kind=kind, score=score, comment=request.POST.get("comment", ""), actor=request.user)
    except (ValueError, ApplicationError) as exc:
        messages.error(request, str(exc) if isinstance(exc, ApplicationError) else "评分应为 1 到 5 分。")
    else:
        messages.success(request, "感谢您的反馈。")
    return redirect("training:projects")
