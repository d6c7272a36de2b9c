"""Writes of the exchange part (EX-8): open the plan, propose, approve or return, place."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q

from bureau.choices import PostingKind, Role
from bureau.models import Posting, School
from bureau.scoping import own_teacher, role_of, visible_schools, visible_teachers
from bureau.services import ApplicationError, audit, event_record
from bureau.workflow import Transition, transition, transition_guard

from .models import ACTIVE_PROPOSAL, ExchangePlan, Form, PlanStatus, Proposal, ProposalEvent, ProposalStatus
from .selectors import exchange_standing

# The forms that move the personnel relation keep no home post; the others keep it (EX-8).
POSTING_KIND = {
    Form.CLUSTER: PostingKind.EXCHANGE,
    Form.RURAL_SUPPORT: PostingKind.RURAL_SUPPORT,
    Form.POSITION_COMPETITION: PostingKind.EXCHANGE,
    Form.PARTNERSHIP: PostingKind.PARTNERSHIP,
    Form.INDIVIDUAL: PostingKind.EXCHANGE,
}

P = ProposalStatus

# action -> allowed from-states, to-state, label, roles. The one place the proposal transitions live. A
# proposal is created by "apply" (a teacher, individually) or "propose" (the principal); "place" is taken
# for the whole plan by proposals_place, never one proposal at a time.
TRANSITIONS: dict[str, Transition] = {
    "propose": transition({P.APPLIED}, P.PROPOSED, "学校同意并推荐", roles={Role.PRINCIPAL}),
    "approve": transition({P.PROPOSED}, P.APPROVED, "批准", roles={Role.DISTRICT, Role.BUREAU}),
    "return": transition({P.PROPOSED, P.APPLIED}, P.RETURNED, "退回", roles={Role.PRINCIPAL, Role.DISTRICT, Role.BUREAU},
                         needs_reason=True),
    "withdraw": transition({P.APPLIED, P.PROPOSED}, P.WITHDRAWN, "撤回", roles={Role.PRINCIPAL, Role.TEACHER}),
    "place": transition({P.APPROVED}, P.PLACED, "确认派出", roles={Role.BUREAU}),
}


@transaction.atomic
def plan_open(*, year: int, actor) -> ExchangePlan:
    if role_of(actor) != Role.BUREAU:
        raise ApplicationError("只有市教育局可以发起年度交流轮岗计划。")
    plan, created = ExchangePlan.objects.get_or_create(year=year, defaults={"opened_by": actor})
    if not created:
        raise ApplicationError(f"{year} 年度计划已发起。")
    audit(action="exchange.plan.opened", actor=actor, obj=plan, year=year)
    return plan


def _require_eligible(plan: ExchangePlan, teacher, *, applying: bool = False) -> None:
    """EX-5 (amended): a proposal or an individual application only for a teacher eligible under EX-1 or
    EX-2 in the plan's year, with the reason when not."""
    row, reason = exchange_standing(plan.year, plan.rules(), teacher)
    if row is None:
        who = "您" if applying else f"{teacher.name} "
        tail = "，不能个人申请交流。" if applying else "。"
        raise ApplicationError(f"{who}不在本年度应交流名单中（{plan.year} 年度）：{reason}{tail}")


def _event(proposal, action, from_state, actor, note=""):
    event_record(ProposalEvent, obj=proposal, action=action, from_state=from_state, to_state=proposal.status,
                 actor=actor, reason=note)


@transaction.atomic
def proposal_create(*, plan: ExchangePlan, teacher, form: str, receiving_school: School | None, actor,
                    starts_on: dt.date | None = None, ends_on: dt.date | None = None, note: str = "") -> Proposal:
    """A principal proposes an eligible teacher of the school; an eligible teacher applies individually, the
    school then agrees ("propose") and the district approves (EX-5 amended)."""
    if plan.status != PlanStatus.OPEN:
        raise ApplicationError("该年度计划已结束。")
    role = role_of(actor)
    if role == Role.TEACHER:
        if own_teacher(actor) != teacher:
            raise ApplicationError("只能为本人申请。")
        status, form = ProposalStatus.APPLIED, Form.INDIVIDUAL
    elif role == Role.PRINCIPAL and visible_teachers(actor).filter(pk=teacher.pk).exists():
        status = ProposalStatus.PROPOSED
    else:
        raise ApplicationError("只有本校校长可以推荐交流人选，教师本人可以个人申请。")
    # EX-5 (amended): every form, the individual application too, only for a teacher eligible under EX-1/EX-2.
    _require_eligible(plan, teacher, applying=role == Role.TEACHER)
    if form not in Form.values:
        raise ApplicationError("请选择交流形式。")
    if receiving_school is not None and receiving_school.pk == teacher.school_id:
        raise ApplicationError("接收学校不能是本校。")
    if Proposal.objects.filter(plan=plan, teacher=teacher, status__in=ACTIVE_PROPOSAL).exists():
        raise ApplicationError(f"{teacher.name} 已在本年度交流名单中。")
    starts_on = starts_on or dt.date(plan.year, 9, 1)
    ends_on = ends_on or dt.date(starts_on.year + 1, starts_on.month, starts_on.day) - dt.timedelta(days=1)
    if form == Form.PARTNERSHIP and ends_on < dt.date(starts_on.year + 1, starts_on.month, starts_on.day) - dt.timedelta(days=1):
        raise ApplicationError("结对协作交流至少一年。")
    proposal = Proposal.objects.create(
        plan=plan, teacher=teacher, home_school_id=teacher.school_id, receiving_school=receiving_school, form=form,
        status=status, starts_on=starts_on, ends_on=ends_on, note=note, created_by=actor,
    )
    _event(proposal, "apply" if status == ProposalStatus.APPLIED else "propose", None, actor, note)
    audit(action=f"exchange.proposal.{status}", actor=actor, obj=proposal)
    return proposal


def _may(actor, proposal: Proposal, roles: set) -> bool:
    role = role_of(actor)
    if role not in roles:
        return False
    if role == Role.TEACHER:
        return own_teacher(actor) == proposal.teacher
    return visible_schools(actor).filter(pk=proposal.home_school_id).exists()


@transaction.atomic
def proposal_transition(*, proposal: Proposal, action: str, actor, note: str = "",
                        receiving_school: School | None = None) -> Proposal:
    if action not in TRANSITIONS or action == "place":
        raise ApplicationError(f"未知操作：{action}")
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if not _may(actor, proposal, {role_of(actor)}):
        # Scope first: someone who may not see the proposal learns nothing of its state.
        raise ApplicationError("您无权执行该操作。")
    step = transition_guard(TRANSITIONS, action=action, state=proposal.status,
                            refusal="当前状态为“{state}”，不能执行该操作。", state_label=proposal.get_status_display())
    target = step.to_state
    if not _may(actor, proposal, step.roles):
        raise ApplicationError("您无权执行该操作。")
    if step.needs_reason and not note.strip():
        raise ApplicationError("退回请填写原因。")
    if receiving_school is not None:
        proposal.receiving_school = receiving_school
    if action == "approve" and proposal.receiving_school_id is None:
        raise ApplicationError("请先确定接收学校。")
    if action in ("propose", "approve"):
        # The school agrees, the district approves (EX-5): each only while the teacher is still eligible.
        _require_eligible(proposal.plan, proposal.teacher)
    previous = proposal.status
    proposal.status = target
    proposal.save(update_fields=["status", "receiving_school", "updated_at"])
    _event(proposal, action, previous, actor, note)
    audit(action=f"exchange.proposal.{action}", actor=actor, obj=proposal, note=note)
    return proposal


@transaction.atomic
def proposals_place(*, plan: ExchangePlan, actor) -> int:
    """Approved proposals become postings. The home post stays open (teachers keep post and pay, EX-8);
    the exchange posting at the receiving school runs for the agreed period."""
    if role_of(actor) != Role.BUREAU:
        raise ApplicationError("只有市教育局可以确认派出。")
    placed = 0
    step = TRANSITIONS["place"]
    for proposal in Proposal.objects.select_for_update().filter(plan=plan, status__in=step.from_states):
        overlapping = Posting.objects.filter(teacher=proposal.teacher).exclude(kind=PostingKind.REGULAR).filter(
            Q(ended_on__isnull=True) | Q(ended_on__gte=proposal.starts_on)
        )
        if overlapping.exists():
            raise ApplicationError(f"{proposal.teacher.name} 已有进行中的交流任职，请先结束。")
        Posting.objects.create(
            teacher=proposal.teacher, school=proposal.receiving_school, kind=POSTING_KIND[proposal.form],
            started_on=proposal.starts_on, ended_on=proposal.ends_on, note=f"{plan.year}年度{proposal.get_form_display()}",
            created_by=actor,
        )
        previous = proposal.status
        proposal.status = step.to_state
        proposal.save(update_fields=["status", "updated_at"])
        _event(proposal, "place", previous, actor)
        placed += 1
    audit(action="exchange.plan.placed", actor=actor, obj=plan, placed=placed)
    return placed
