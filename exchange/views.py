"""Exchange pages: bureau/district overview and approvals; the principal's proposals; the teacher's own view."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from bureau.choices import Role, Title
from bureau.models import School
from bureau.params import year_param
from bureau.permissions import role_required
from bureau.scoping import own_teacher, profile_of, role_of, visible_schools, visible_teachers
from bureau.services import ApplicationError
from bureau.spreadsheets import xlsx_response

from . import rules
from .exports import write_exchange_workbook
from .models import ExchangePlan, Form, Proposal, ProposalStatus
from .selectors import (
    eligible_teachers,
    exchange_standing,
    promotion_check,
    receiving_suggestions,
    school_quotas,
    school_staffing,
    visible_proposals,
)
from .services import plan_open, proposal_create, proposal_transition, proposals_place


def _year(request) -> int:
    return year_param(request, also_post=True)


def _rules(plan):
    return plan.rules() if plan else rules.ExchangeRules()


@role_required(Role.BUREAU, Role.DISTRICT, Role.AUDITOR)
def overview(request):
    year = _year(request)
    plan = ExchangePlan.objects.filter(year=year).first()
    teachers = visible_teachers(request.user)
    eligible = eligible_teachers(year, _rules(plan), teachers)
    proposals = Proposal.objects.filter(plan=plan, home_school__in=visible_schools(request.user)) if plan else None
    quotas = school_quotas(year, _rules(plan), eligible, visible_schools(request.user), proposals)
    pending = (
        proposals.filter(status=ProposalStatus.PROPOSED).select_related("teacher", "home_school", "receiving_school")
        if plan else []
    )
    return render(request, "exchange/overview.html", {
        "year": year, "plan": plan, "quotas": quotas, "pending": pending,
        "eligible_total": len(eligible), "minimum_total": sum(q.minimum for q in quotas),
        "below": [q for q in quotas if q.below_minimum and q.minimum],
        "can_write": role_of(request.user) in (Role.BUREAU, Role.DISTRICT),
        "is_bureau": role_of(request.user) == Role.BUREAU, "amended": _rules(plan).amended,
    })


@require_POST
@role_required(Role.BUREAU)
def open_plan(request):
    try:
        plan_open(year=_year(request), actor=request.user)
        messages.success(request, "已发起年度交流轮岗计划，各校可以推荐人选。")
    except ApplicationError as exc:
        messages.error(request, str(exc))
    return redirect(f"/exchange/?year={_year(request)}")


@require_POST
@role_required(Role.BUREAU)
def place(request):
    plan = get_object_or_404(ExchangePlan, year=_year(request))
    try:
        placed = proposals_place(plan=plan, actor=request.user)
        messages.success(request, f"已派出 {placed} 人，交流任职已登记。")
    except ApplicationError as exc:
        messages.error(request, str(exc))
    return redirect(f"/exchange/?year={plan.year}")


def _back(request, default: str) -> str:
    """The page to return to: the form's `next` when it is a path of this site, else `default`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


@require_POST
@role_required(Role.BUREAU, Role.DISTRICT, Role.PRINCIPAL, Role.TEACHER)
def decide(request, pk: int):
    proposal = get_object_or_404(visible_proposals(request.user), pk=pk)  # out of scope: as if absent
    action = request.POST.get("action", "")
    receiving = None
    if request.POST.get("receiving_school"):
        receiving = School.objects.filter(pk=request.POST["receiving_school"]).first()
    try:
        if action not in ("propose", "approve", "return", "withdraw"):
            raise ApplicationError("未知操作。")
        if action == "propose" and receiving is None and proposal.receiving_school_id is None:
            raise ApplicationError("请选择接收学校。")
        proposal_transition(proposal=proposal, action=action, actor=request.user, note=request.POST.get("note", ""),
                            receiving_school=receiving)
        messages.success(request, f"已处理 {proposal.teacher.name}。")
    except ApplicationError as exc:
        messages.error(request, str(exc))
    return redirect(_back(request, "/exchange/"))


@role_required(Role.PRINCIPAL)
def school(request):
    year = _year(request)
    plan = ExchangePlan.objects.filter(year=year).first()
    school = get_object_or_404(School, pk=profile_of(request.user).school_id)
    eligible = eligible_teachers(year, _rules(plan), visible_teachers(request.user))
    proposals = (
        Proposal.objects.filter(plan=plan, home_school=school).select_related("teacher", "receiving_school")
        if plan else Proposal.objects.none()
    )
    (quota,) = school_quotas(year, _rules(plan), eligible, School.objects.filter(pk=school.pk), proposals) or [None]
    listed = {p.teacher_id for p in proposals if p.status in ("applied", "proposed", "approved", "placed")}
    candidates = School.objects.filter(stage__in=rules.EXCHANGE_STAGES).exclude(pk=school.pk).order_by("code")
    by_subject = {subject: receiving_suggestions(subject=subject, home=school)[:5]
                  for subject in {row.subject for row in eligible if row.teacher_id not in listed}}
    rows = [{"row": row, "suggested": by_subject.get(row.subject, [])} for row in eligible]
    return render(request, "exchange/school.html", {
        "year": year, "plan": plan, "school": school, "quota": quota, "eligible": eligible, "listed": listed,
        "proposals": proposals, "forms": Form.choices, "candidates": candidates, "rows": rows,
        "staffing": school_staffing(school), "amended": _rules(plan).amended,
    })


@require_POST
@role_required(Role.PRINCIPAL, Role.TEACHER)
def propose(request):
    year = _year(request)
    plan = get_object_or_404(ExchangePlan, year=year)
    if role_of(request.user) == Role.TEACHER:
        teacher = own_teacher(request.user)
    else:
        teacher = get_object_or_404(visible_teachers(request.user), pk=request.POST.get("teacher"))
    receiving = School.objects.filter(pk=request.POST.get("receiving_school") or None).first()
    try:
        proposal_create(plan=plan, teacher=teacher, form=request.POST.get("form", Form.INDIVIDUAL),
                        receiving_school=receiving, actor=request.user, note=request.POST.get("note", ""))
        messages.success(request, f"已提交 {teacher.name} 的交流{'申请' if role_of(request.user) == Role.TEACHER else '推荐'}。")
    except ApplicationError as exc:
        messages.error(request, str(exc))
    return redirect(_back(request, f"/exchange/school/?year={year}"))


@role_required(Role.TEACHER)
def me(request):
    teacher = own_teacher(request.user)
    year = _year(request)
    plan = ExchangePlan.objects.filter(year=year).first()
    eligibility, reason = exchange_standing(year, _rules(plan), teacher)
    target = request.GET.get("title") or ""
    if target and target not in Title.values:
        raise BadRequest(f"职称应为：{'、'.join(Title.values)}")
    missing = promotion_check(teacher=teacher, target_title=target, on=timezone.localdate()) if target else None
    return render(request, "exchange/me.html", {
        "teacher": teacher, "year": year, "plan": plan, "eligibility": eligibility, "reason": reason,
        "reference": rules.reference_date(year), "postings": teacher.postings.select_related("school"),
        "proposals": Proposal.objects.filter(teacher=teacher).select_related("plan", "receiving_school"),
        "titles": Title.values, "target": target, "missing": missing,
    })


@role_required(Role.BUREAU, Role.DISTRICT, Role.AUDITOR, Role.PRINCIPAL)
def workbook(request):
    import io

    year = _year(request)
    plan = ExchangePlan.objects.filter(year=year).first()
    eligible = eligible_teachers(year, _rules(plan), visible_teachers(request.user))
    quotas = school_quotas(year, _rules(plan), eligible, visible_schools(request.user))
    buffer = io.BytesIO()
    write_exchange_workbook(buffer, quotas=quotas, eligible=eligible, year=year, by=request.user)
    return xlsx_response(buffer, f"exchange-{year}.xlsx")
