"""Backbone pages: the teacher applies (and sees why not), the principal recommends, the public notice,
and plan against roster (BB-7) with its export."""

from __future__ import annotations

import io

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from bureau.choices import Role
from bureau.params import year_param
from bureau.permissions import role_required
from bureau.scoping import own_teacher, profile_of
from bureau.services import ApplicationError
from bureau.spreadsheets import About, SheetSpec, write_workbook, xlsx_response

from .models import Application, ApplicationStatus, RosterEntry, RoundStatus, SelectionRound
from .objections import CONTACT_MAX, TEXT_MAX, objection_submit
from .selectors import check_teacher, open_rounds_for, plan_vs_roster, rounds_seen_by
from .services import application_apply, application_recommend

NOTICE_STATES = [RoundStatus.NOTICE, RoundStatus.REVIEW, RoundStatus.TRAINING, RoundStatus.AWARDED]
NOT_LISTED = [ApplicationStatus.APPLIED, ApplicationStatus.NOT_RECOMMENDED]


@role_required(Role.TEACHER)
def rounds(request):
    teacher = own_teacher(request.user)
    mine = {a.round_id: a for a in Application.objects.filter(teacher=teacher)}
    items = []
    for round_ in open_rounds_for(teacher).select_related("district").order_by("-year", "tier", "type"):
        items.append({
            "round": round_,
            "application": mine.get(round_.pk),
            "problems": [] if round_.pk in mine else check_teacher(teacher=teacher, year=round_.year, tier=round_.tier,
                                                                   type_=round_.type),
        })
    titles = RosterEntry.objects.filter(teacher=teacher).order_by("-awarded_on")
    return render(request, "backbone/rounds.html", {"items": items, "titles": titles})


@require_POST
@role_required(Role.TEACHER)
def apply(request, pk: int):
    round_ = get_object_or_404(SelectionRound, pk=pk)
    try:
        application_apply(round_=round_, actor=request.user)
        messages.success(request, f"已申报{round_}，等待学校推荐。")
    except ApplicationError as exc:
        messages.error(request, str(exc))
    return redirect("backbone:rounds")


@role_required(Role.PRINCIPAL)
def school(request):
    applications = (
        Application.objects.filter(school_id=profile_of(request.user).school_id)
        .select_related("teacher", "round")
        .order_by("-round__year", "round_id", "teacher__staff_no")
    )
    return render(request, "backbone/school.html", {"applications": applications})


@require_POST
@role_required(Role.PRINCIPAL)
def recommend(request, pk: int):
    application = get_object_or_404(Application, pk=pk, school_id=profile_of(request.user).school_id)
    try:
        application_recommend(application=application, recommend=request.POST.get("decision") == "recommend",
                              actor=request.user, note=request.POST.get("note", ""))
        messages.success(request, f"已处理 {application.teacher.name} 的申报。")
    except ApplicationError as exc:
        messages.error(request, str(exc))
    return redirect("backbone:school")


def notice(request, pk: int):
    """公示: public, no login, during the notice period only (names, schools, subjects and titles); after it,
    only bureau and district staff and auditors still see the list (personal data is not public forever)."""
    round_ = get_object_or_404(SelectionRound.objects.select_related("district"), pk=pk, status__in=NOTICE_STATES)
    ended = round_.notice_ends_on is not None and timezone.localdate() > round_.notice_ends_on
    if ended and not rounds_seen_by(request.user).filter(pk=round_.pk).exists():
        return render(request, "backbone/notice_ended.html", {"round": round_}, status=410)
    listed = (
        round_.applications.exclude(status__in=NOT_LISTED)
        .select_related("teacher", "school")
        .order_by("school__code", "teacher__staff_no")
    )
    taking = round_.status == RoundStatus.NOTICE and not ended and round_.notice_starts_on <= timezone.localdate()
    return render(request, "backbone/notice.html", {"round": round_, "listed": listed, "taking": taking,
                                                    "text_max": TEXT_MAX, "contact_max": CONTACT_MAX})


@require_POST
@ratelimit(key="ip", rate="10/h", method="POST", block=True)
def notice_objection(request, pk: int):
    """An objection from the public notice page: anyone, no login, during the notice period; limited per
    address and in size. The page confirms receipt and shows nothing more than the notice does."""
    round_ = get_object_or_404(SelectionRound, pk=pk, status__in=NOTICE_STATES)
    application = round_.applications.exclude(status__in=NOT_LISTED).filter(
        pk=request.POST.get("application") if str(request.POST.get("application", "")).isdigit() else 0).first()
    if application is None:
        messages.error(request, "请选择异议针对的人选。")
        return redirect("backbone:notice", pk=round_.pk)
    try:
        objection_submit(application=application, text=request.POST.get("text", "")[: TEXT_MAX + 1],
                         contact=request.POST.get("contact", "")[: CONTACT_MAX + 1], today=timezone.localdate())
        messages.success(request, "异议已收到，将由组织评选的教育局核查处理。")
    except ApplicationError as exc:
        messages.error(request, str(exc))
    return redirect("backbone:notice", pk=round_.pk)


@role_required(Role.BUREAU, Role.DISTRICT, Role.AUDITOR)
def plan(request):
    year = year_param(request)
    rows = plan_vs_roster(year=year)
    if request.GET.get("format") == "xlsx":
        buffer = io.BytesIO()
        write_workbook(buffer, [SheetSpec("规划与名册", ["层级", "类别", "规划期", "目标人数", "现有人数", "完成率"],
                                          ([r["tier"], r["type"], r["period"], r["target"], r["held"], r["rate"]] for r in rows),
                                          percent_columns=(5,))],
                       about=About("骨干教师规划与名册", year=year, scope="全市", by=request.user))
        return xlsx_response(buffer, f"backbone-plan-{year}.xlsx")
    return render(request, "backbone/plan.html", {"rows": rows, "year": year,
                                                  "chart": [{"label": f"{r['tier']}{r['type']}", "target": r["target"],
                                                             "held": r["held"]} for r in rows]})
