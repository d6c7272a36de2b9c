"""免考核 (CR-4) as a workflow: a school requests an exemption for a teacher and a year, with a kind and a
reason; district staff (their district's teachers) or bureau staff grant or refuse it with a reason, or
grant one directly. Only a granted exemption exempts anyone (credits.compliance reads status).

Every step is audited (ExemptionEvent + AuditEntry) in its transaction; notices go out after commit:
a request to the staff who decide it (the district's staff, or bureau staff when the district has no
account), a decision to the principal who asked, a direct grant to the school's principal.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from bureau.choices import Role
from bureau.scoping import role_of, visible_teachers
from bureau.services import ApplicationError, audit, event_record, notice_after_commit
from bureau.text import clean_single_line
from bureau.workflow import transition_guard

from . import rules
from .models import EXEMPTION_OPEN_STATES, Exemption, ExemptionEvent, ExemptionKind, ExemptionStatus

DECIDERS = (Role.DISTRICT, Role.BUREAU)
REFUSAL = "该免考核申请当前为“{state}”，不能执行“{label}”，请刷新页面。"


def visible_exemptions(user) -> QuerySet[Exemption]:
    """Exemptions of the teachers the user may see (bureau.scoping); teachers see none here."""
    if role_of(user) not in (Role.BUREAU, Role.AUDITOR, Role.DISTRICT, Role.PRINCIPAL):
        return Exemption.objects.none()
    return Exemption.objects.filter(teacher__in=visible_teachers(user))


def may_decide(user, exemption: Exemption) -> bool:
    role = role_of(user)
    if role == Role.BUREAU:
        return True
    return role == Role.DISTRICT and exemption.teacher.school.district_id == user.profile.district_id


def _check(*, teacher, year: int, kind: str, reason: str, today) -> str:
    if kind not in ExemptionKind.values:
        raise ApplicationError("请选择免考核类型（产假、病假、长期外派或其他）。")
    reason = clean_single_line(reason or "").strip()
    if not reason:
        raise ApplicationError("请填写免考核原因。")
    if not (2000 <= year <= today.year + 1):
        raise ApplicationError(f"年度应在 2000 至 {today.year + 1} 之间。")
    if Exemption.objects.filter(teacher=teacher, year=year, status__in=EXEMPTION_OPEN_STATES).exists():
        raise ApplicationError(f"{teacher.name} {year} 年度已有免考核申请或已免考核。")
    return reason[:200]


def _users(**profile):
    return get_user_model().objects.filter(is_active=True, **{f"profile__{k}": v for k, v in profile.items()})


def _deciders_of(teacher):
    district_staff = list(_users(role=Role.DISTRICT, district_id=teacher.school.district_id))
    return district_staff or list(_users(role=Role.BUREAU))


def _notify(users, *, exemption: Exemption, step: str, title: str, link: str) -> None:
    for user in users:
        notice_after_commit(recipient=user, key=f"credits.exemption:{exemption.pk}:{step}", title=title, link=link)


@transaction.atomic
def exemption_request(*, teacher, year: int, kind: str, reason: str, actor, today=None) -> Exemption:
    """The principal of the teacher's school asks for an exemption; it waits for district or bureau staff."""
    today = today or timezone.localdate()
    if role_of(actor) != Role.PRINCIPAL or actor.profile.school_id != teacher.school_id:
        raise ApplicationError("只有本校校长可以为本校教师申请免考核。")
    reason = _check(teacher=teacher, year=year, kind=kind, reason=reason, today=today)
    exemption = Exemption.objects.create(teacher=teacher, year=year, kind=kind, reason=reason, requested_by=actor)
    event_record(ExemptionEvent, obj=exemption, action="request", from_state="", to_state=exemption.status, actor=actor,
                 reason=reason)
    audit(action="credits.exemption.requested", actor=actor, obj=exemption, year=year, kind=kind)
    _notify(_deciders_of(teacher), exemption=exemption, step="request",
            title=f"免考核申请待审批：{teacher.school.name} {teacher.name} {year} 年度（{kind}）", link="/exemptions/")
    return exemption


@transaction.atomic
def exemption_decide(*, exemption: Exemption, grant: bool, reason: str, actor) -> Exemption:
    """District staff (their district's teachers) or bureau staff grant or refuse a request; refusing needs
    a reason. The principal who asked is told."""
    exemption = Exemption.objects.select_for_update().select_related("teacher__school").get(pk=exemption.pk)
    action = "grant" if grant else "refuse"
    if role_of(actor) not in DECIDERS or not may_decide(actor, exemption):
        raise ApplicationError("只有教师所在区县或市教育局可以审批免考核。")
    step = transition_guard(rules.EXEMPTION_TRANSITIONS, action=action, state=exemption.status, refusal=REFUSAL,
                            state_label=exemption.get_status_display())
    reason = clean_single_line(reason or "").strip()[:200]
    if step.needs_reason and not reason:
        raise ApplicationError("不予免考核请填写原因。")
    previous = exemption.status
    exemption.status = step.to_state
    exemption.approved_by = actor
    exemption.decided_at = timezone.now()
    exemption.decision_reason = reason
    exemption.save(update_fields=["status", "approved_by", "decided_at", "decision_reason"])
    event_record(ExemptionEvent, obj=exemption, action=action, from_state=previous, to_state=exemption.status,
                 actor=actor, reason=reason)
    audit(action=f"credits.exemption.{exemption.status}", actor=actor, obj=exemption, reason=reason)
    decided = "已批准" if grant else f"未批准（{reason}）"
    teacher = exemption.teacher
    if exemption.requested_by_id:
        _notify([exemption.requested_by], exemption=exemption, step=action,
                title=f"免考核申请{decided}：{teacher.name} {exemption.year} 年度", link="/school/exemptions/")
    return exemption


@transaction.atomic
def exemption_grant(*, teacher, year: int, kind: str, reason: str, actor, today=None) -> Exemption:
    """District staff (for their district's teachers) or bureau staff grant an exemption without a request."""
    today = today or timezone.localdate()
    role = role_of(actor)
    if role not in DECIDERS or not visible_teachers(actor).filter(pk=teacher.pk).exists():
        raise ApplicationError("只有教师所在区县或市教育局可以直接批准免考核。")
    reason = _check(teacher=teacher, year=year, kind=kind, reason=reason, today=today)
    exemption = Exemption.objects.create(
        teacher=teacher, year=year, kind=kind, reason=reason, status=ExemptionStatus.GRANTED, approved_by=actor,
        decided_at=timezone.now(),
    )
    event_record(ExemptionEvent, obj=exemption, action="grant", from_state="", to_state=exemption.status, actor=actor,
                 reason=reason)
    audit(action="credits.exemption.granted", actor=actor, obj=exemption, year=year, kind=kind, direct=True)
    _notify(_users(role=Role.PRINCIPAL, school_id=teacher.school_id), exemption=exemption, step="grant",
            title=f"免考核已批准：{teacher.name} {year} 年度（{kind}）", link="/school/exemptions/")
    return exemption
