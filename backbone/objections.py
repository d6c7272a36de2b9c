"""公示异议 (BB-3 amended): objections from the public notice page or recorded by staff; an open one holds
its candidate (no shortlist, no award) until the staff who run the round resolve it with a finding."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from bureau.services import ApplicationError, audit, event_record
from bureau.workflow import transition_guard

from . import rules
from .models import Application, ApplicationEvent, ApplicationStatus, Objection, ObjectionFinding, RoundStatus
from .services import APPLICATION_REFUSAL, runs_round

TEXT_MAX = 1000
CONTACT_MAX = 100
# Candidates an objection may be about: those the notice lists and the review has not yet set aside.
OBJECTABLE = {ApplicationStatus.RECOMMENDED, ApplicationStatus.TRAINEE, ApplicationStatus.PASSED}
# Staff record objections received in writing until the award; the public only during the notice period.
STAFF_RECORDS_WHILE = {RoundStatus.NOTICE, RoundStatus.REVIEW, RoundStatus.TRAINING}


def _clean(text: str, contact: str) -> tuple[str, str]:
    text, contact = (text or "").strip(), (contact or "").strip()
    if not text:
        raise ApplicationError("请填写异议内容。")
    if len(text) > TEXT_MAX:
        raise ApplicationError(f"异议内容不超过 {TEXT_MAX} 字。")
    if len(contact) > CONTACT_MAX:
        raise ApplicationError(f"联系方式不超过 {CONTACT_MAX} 字。")
    return text, contact


def _locked(application: Application) -> Application:
    return Application.objects.select_for_update().select_related("round", "teacher").get(pk=application.pk)


def _create(application: Application, *, text: str, contact: str, actor, note: str) -> Objection:
    if application.status not in OBJECTABLE:
        raise ApplicationError(f"{application.teacher.name}当前为“{application.get_status_display()}”，不能登记异议。")
    objection = Objection.objects.create(application=application, text=text, contact=contact, recorded_by=actor)
    event_record(ApplicationEvent, obj=application, action="objection", from_state=application.status,
                 to_state=application.status, actor=actor, reason=note or text)
    audit(action="backbone.objection.recorded", actor=actor, obj=objection, application=application.pk,
          public=actor is None)
    return objection


@transaction.atomic
def objection_record(*, application: Application, text: str, actor, contact: str = "") -> Objection:
    """Staff who run the round record an objection received in writing (until the award)."""
    application = _locked(application)
    runs_round(actor, application.round, "登记公示异议")
    if application.round.status not in STAFF_RECORDS_WHILE:
        raise ApplicationError("只能在公示开始后、认定之前登记异议。")
    text, contact = _clean(text, contact)
    return _create(application, text=text, contact=contact, actor=actor, note=text)


@transaction.atomic
def objection_submit(*, application: Application, text: str, contact: str, today: dt.date) -> Objection:
    """Anyone submits an objection on the public notice page, during the notice period only. No account is
    needed, so nobody is recorded as its author (the record shows 公众)."""
    application = _locked(application)
    round_ = application.round
    if (round_.status != RoundStatus.NOTICE or round_.notice_starts_on is None
            or not round_.notice_starts_on <= today <= round_.notice_ends_on):
        raise ApplicationError("不在公示期内，不能提交异议。")
    text, contact = _clean(text, contact)
    return _create(application, text=text, contact=contact, actor=None, note="公众在公示页提交异议")


@transaction.atomic
def objection_resolve(*, objection: Objection, upheld: bool, resolution: str, actor, now: dt.datetime) -> Objection:
    """Close an objection with a recorded finding. Dismissed: the candidate continues. Upheld: the candidate
    is disqualified with the finding as reason, and the candidate's other open objections close with it
    (随之办结: nothing is left for them to hold)."""
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    application = _locked(objection.application)
    runs_round(actor, application.round, "处理公示异议")
    if not objection.is_open:
        raise ApplicationError("该异议已处理。")
    resolution = (resolution or "").strip()
    if not resolution:
        raise ApplicationError("请填写核查结论。")
    if len(resolution) > 300:
        raise ApplicationError("核查结论不超过 300 字。")
    step = None
    if upheld:
        step = transition_guard(rules.APPLICATION_TRANSITIONS, action="disqualify", state=application.status,
                                refusal=APPLICATION_REFUSAL, state_label=application.get_status_display())
    objection.finding = ObjectionFinding.UPHELD if upheld else ObjectionFinding.DISMISSED
    objection.resolution, objection.resolved_by, objection.resolved_at = resolution, actor, now
    objection.save(update_fields=["finding", "resolution", "resolved_by", "resolved_at"])
    if step is None:
        event_record(ApplicationEvent, obj=application, action="objection_dismissed", from_state=application.status,
                     to_state=application.status, actor=actor, reason=resolution)
    else:
        previous, application.status, application.outcome_note = application.status, step.to_state, resolution
        application.save(update_fields=["status", "outcome_note"])
        event_record(ApplicationEvent, obj=application, action="disqualify", from_state=previous,
                     to_state=application.status, actor=actor, reason=resolution)
        application.objections.filter(finding=ObjectionFinding.OPEN).exclude(pk=objection.pk).update(
            finding=ObjectionFinding.MOOT, resolution="同一候选人的另一异议成立，已取消资格，本异议随之办结",
            resolved_by=actor, resolved_at=now)
    audit(action="backbone.objection.resolved", actor=actor, obj=objection, finding=objection.finding)
    return objection
