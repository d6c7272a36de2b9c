"""Roster changes after the award: the annual assessment (BB-4), allowances following the school (BB-4),
expiry notices and lapse (BB-5), mentoring pairs (BB-6). The nightly jobs are idempotent."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F, Q

from bureau.choices import Role
from bureau.models import Profile
from bureau.scoping import role_of, visible_teachers
from bureau.services import ApplicationError, audit, event_record, notice_send
from training.certificates import certificate_revoke

from . import rules
from .models import Assessment, EntryStatus, MentoringPair, RosterEntry, RosterEvent


def _bureau_only(actor, what: str) -> None:
    if role_of(actor) != Role.BUREAU:
        raise ApplicationError(f"只有市教育局可以{what}。")


@transaction.atomic
def assessment_record(*, entry: RosterEntry, year: int, passed: bool, actor, note: str = "") -> Assessment:
    """BB-4: failing the annual assessment revokes the title and its allowance; the entry stays."""
    _bureau_only(actor, "登记年度考核")
    entry = RosterEntry.objects.select_for_update().get(pk=entry.pk)
    if Assessment.objects.filter(entry=entry, year=year).exists():
        raise ApplicationError(f"{year} 年度考核已登记。")
    assessment = Assessment.objects.create(entry=entry, year=year, passed=passed, note=note, recorded_by=actor)
    revoke = rules.ROSTER_TRANSITIONS["revoke"]
    if not passed and entry.status in revoke.from_states:
        previous, entry.status, entry.allowance = entry.status, revoke.to_state, False
        entry.save(update_fields=["status", "allowance"])
        event_record(RosterEvent, obj=entry, action="revoke", from_state=previous, to_state=entry.status,
                     actor=actor, reason=f"{year}年度考核不合格")
        if entry.certificate_id is not None:
            certificate_revoke(certificate_id=entry.certificate_id, reason=f"{year}年度考核不合格，称号撤销")
    return assessment


def allowances_follow_school(*, actor=None) -> int:
    """BB-4: a teacher who moved school keeps the title but loses the allowance. Idempotent."""
    stop = rules.ROSTER_TRANSITIONS["stop_allowance"]
    moved = RosterEntry.objects.filter(status__in=stop.from_states, allowance=True).exclude(
        teacher__school_id=F("school_at_award_id"))
    count = 0
    for entry in moved.select_related("teacher"):
        with transaction.atomic():
            updated = RosterEntry.objects.filter(pk=entry.pk, allowance=True).update(allowance=False)
            if updated:
                event_record(RosterEvent, obj=entry, action="stop_allowance", from_state=entry.status,
                             to_state=stop.to_state, actor=actor, reason="调离认定学校")
                count += 1
    return count


def expiry_notices(*, today: dt.date) -> int:
    """BB-5: 90 days before expiry the teacher and the principal are told, once."""
    due = RosterEntry.objects.filter(
        status=EntryStatus.ACTIVE, expiry_notified_on__isnull=True,
        expires_on__lte=today + dt.timedelta(days=rules.EXPIRY_NOTICE_DAYS), expires_on__gt=today,
    ).select_related("teacher__user", "teacher__school")
    sent = 0
    for entry in due:
        with transaction.atomic():
            if not RosterEntry.objects.filter(pk=entry.pk, expiry_notified_on__isnull=True).update(expiry_notified_on=today):
                continue  # another run got there first
            title = f"{entry.tier}{entry.type}称号将于 {entry.expires_on:%Y-%m-%d} 到期"
            body = f"{entry.teacher.name}（证书 {entry.certificate_no}）的称号即将到期，到期未重新认定将自动失效。"
            recipients = [entry.teacher.user] if entry.teacher.user_id else []
            recipients += [p.user for p in Profile.objects.filter(role=Role.PRINCIPAL, school_id=entry.teacher.school_id)
                           .select_related("user")]
            for user in recipients:
                notice_send(recipient=user, key=f"backbone.expiry:{entry.pk}", title=title, body=body)
            sent += 1
    return sent


def lapse_expired(*, today: dt.date) -> int:
    """BB-5: at expiry the entry lapses unless re-awarded. Idempotent."""
    lapse = rules.ROSTER_TRANSITIONS["lapse"]
    lapsed = 0
    for entry in RosterEntry.objects.filter(status__in=lapse.from_states, expires_on__lte=today):
        with transaction.atomic():
            if RosterEntry.objects.filter(pk=entry.pk, status=entry.status).update(status=lapse.to_state,
                                                                                   allowance=False):
                event_record(RosterEvent, obj=entry, action="lapse", from_state=entry.status,
                             to_state=lapse.to_state, actor=None, reason=f"{entry.expires_on:%Y-%m-%d} 到期")
                lapsed += 1
    return lapsed


def _highest(teacher, on: dt.date):
    titles = RosterEntry.objects.filter(teacher=teacher, status=EntryStatus.ACTIVE).filter(
        Q(expires_on__gt=on)).values_list("tier", "type")
    return max(titles, key=lambda t: rules.rank(*t), default=None)


def mentoring_check(*, mentor, mentee, on: dt.date) -> None:
    mentor_title = _highest(mentor, on)
    if mentor_title is None or not rules.mentor_outranks(mentor_title, _highest(mentee, on)):
        raise ApplicationError("导师须持有高于徒弟的骨干教师层级或类别。")


@transaction.atomic
def mentoring_pair(*, mentor, mentee, started_on: dt.date, actor) -> MentoringPair:
    """BB-6: the mentor must hold a higher tier or type than the mentee; pairs may cross schools."""
    if role_of(actor) not in (Role.BUREAU, Role.DISTRICT, Role.PRINCIPAL):
        raise ApplicationError("无权建立师徒结对。")
    if not visible_teachers(actor).filter(pk__in=[mentor.pk, mentee.pk]).exists():
        raise ApplicationError("导师或徒弟须在您的管辖范围内。")
    mentoring_check(mentor=mentor, mentee=mentee, on=started_on)
    pair = MentoringPair.objects.create(mentor=mentor, mentee=mentee, started_on=started_on)
    audit(action="backbone.mentoring.paired", actor=actor, obj=pair)
    return pair
