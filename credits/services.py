"""Writes of the credits part: manual adjustments and reversals by bureau staff, school-based and
self-study submissions. Every ledger row goes through credits.posting (SPEC §4, CR-1, CR-2)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from bureau.choices import Role
from bureau.models import Profile, School, Teacher
from bureau.scoping import role_of, visible_teachers
from bureau.services import ApplicationError, audit, event_record, notice_after_commit
from bureau.workflow import transition_guard

from . import rules
from .models import Amendment, HoursSubmission, LedgerEntry, Source, SubmissionEvent, SubmissionState
from .posting import Posting, ledger_reverse_row, ledger_sync
from .selectors import policy_for

# CR-10: the submissions that count towards a day's hours (a rejected or withdrawn one does not).
DAY_COUNTED_STATES = (SubmissionState.SUBMITTED, SubmissionState.APPROVED)


@transaction.atomic
def ledger_adjust(
    *, teacher_id: int, entry_date: dt.date, hours: Decimal, credits: Decimal, reason: str, actor
) -> LedgerEntry | Amendment:
    """A manual adjustment by bureau staff: needs a reason, shown as such on the transcript. Dated in a
    closed year it is not posted: the pending 补报 is returned (CR-9 amended)."""
    if role_of(actor) != Role.BUREAU:
        raise ApplicationError("只有市教育局可以人工调整学分。")
    if not reason or not reason.strip():
        raise ApplicationError("人工调整必须填写原因。")
    if hours == 0 and credits == 0:
        raise ApplicationError("学时和学分不能都为 0。")
    synced = ledger_sync(
        source_key=f"adjustment:{uuid.uuid4().hex}",
        wanted=Posting(teacher_id=teacher_id, entry_date=entry_date, hours=hours, credits=credits,
                       source=Source.MANUAL_ADJUSTMENT, description=reason.strip()),
        actor=actor,
        reason=reason.strip(),
    )
    if synced.amendment is not None:  # CR-9: dated in a closed year, it waits as 补报
        return synced.amendment
    (entry,) = synced
    audit(action="credits.entry.adjusted", actor=actor, obj=entry, reason=reason.strip())
    return entry


@transaction.atomic
def ledger_reverse(*, entry: LedgerEntry, reason: str, actor) -> LedgerEntry | Amendment:
    """Cancel one row by appending its reversal (bureau staff; a reason is required). A row dated in a
    closed year is not reversed at once: the pending 补报 is returned (CR-9 amended)."""
    if role_of(actor) != Role.BUREAU:
        raise ApplicationError("只有市教育局可以冲销学分记录。")
    if not reason or not reason.strip():
        raise ApplicationError("冲销必须填写原因。")
    entry = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.reverses_id is not None:
        raise ApplicationError("冲销记录本身不能再冲销。")
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ApplicationError("该记录已被冲销。")
    reversal = ledger_reverse_row(entry_id=entry.pk, actor=actor, reason=reason.strip())
    if isinstance(reversal, Amendment):
        return reversal
    audit(action="credits.entry.reversed", actor=actor, obj=reversal, reverses=entry.pk, reason=reason.strip())
    return reversal


@transaction.atomic
def hours_submit(*, teacher, kind: str, title: str, studied_on: dt.date, hours: Decimal, theme: str, evidence: str,
                 actor, today: dt.date) -> HoursSubmission:
    """A teacher submits school-based or self-study hours with evidence for the principal to decide."""
    if not visible_teachers(actor).filter(pk=teacher.pk).exists() or role_of(actor) != Role.TEACHER:
        raise ApplicationError("只能为本人申报学时。")
    if hours <= 0:
        raise ApplicationError("学时应大于 0。")
    if studied_on > today:
        raise ApplicationError("研修日期不能晚于今天。")
    if not evidence.strip():
        raise ApplicationError("请填写佐证说明。")
    # CR-10: the day's submitted hours stay within the policy's daily limit. The teacher's row is locked
    # so that two submissions for the same day at once are counted one after the other.
    Teacher.objects.select_for_update().filter(pk=teacher.pk).first()
    refusal = rules.daily_hours_refusal(day=studied_on, already=day_hours(teacher.pk, studied_on), adding=hours,
                                        limit=policy_for(studied_on.year).daily_hours_limit)
    if refusal:
        raise ApplicationError(refusal)
    submission = HoursSubmission.objects.create(
        teacher=teacher, kind=kind, title=title, studied_on=studied_on, hours=hours, theme=theme, evidence=evidence
    )
    event_record(SubmissionEvent, obj=submission, action="submit", from_state="", to_state=submission.state, actor=actor)
    audit(action="credits.submission.created", actor=actor, obj=submission)
    _tell_deciders(submission, teacher)
    return submission


def _tell_deciders(submission: HoursSubmission, teacher) -> None:
    """A notice, after commit and once per submission, to whoever decides it (may_decide_hours): the
    school's principal, or district staff where the school has no principal account."""
    users = get_user_model().objects.filter(is_active=True)
    recipients = list(users.filter(profile__role=Role.PRINCIPAL, profile__school_id=teacher.school_id))
    link = reverse("credits:school-hours")
    if not recipients:
        district_id = School.objects.filter(pk=teacher.school_id).values_list("district_id", flat=True).first()
        recipients = list(users.filter(profile__role=Role.DISTRICT, profile__district_id=district_id))
        link = reverse("credits:district-hours")
    title = f"待审核学时：{teacher.name}（{teacher.staff_no}）· {submission.title}"[:200]
    body = f"{submission.studied_on:%Y-%m-%d} · {submission.hours.normalize():f} 学时 · {submission.get_kind_display()}"
    for user in recipients:
        notice_after_commit(recipient=user, key=f"credits.submission:{submission.pk}:submitted", title=title,
                            body=body, link=link)


def day_hours(teacher_id: int, day: dt.date, *, states=DAY_COUNTED_STATES, exclude_id: int | None = None) -> Decimal:
    """CR-10: the school-based and self-study hours a teacher submitted for one day (pending or approved)."""
    rows = HoursSubmission.objects.filter(teacher_id=teacher_id, studied_on=day, state__in=states)
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    return rows.aggregate(total=Sum("hours"))["total"] or Decimal("0")


def schools_without_principal() -> QuerySet[School]:
    """Schools with no active principal account: their teachers' hours are decided by district staff."""
    heads = Profile.objects.filter(role=Role.PRINCIPAL, user__is_active=True, school__isnull=False).values("school_id")
    return School.objects.exclude(pk__in=heads)


def may_decide_hours(actor, teacher) -> bool:
    """SPEC §1: the principal approves the school's hours; district staff approve their district's teachers'
    hours where the school has no principal account (docs/decisions.md)."""
    role = role_of(actor)
    if role == Role.PRINCIPAL:
        return actor.profile.school_id == teacher.school_id
    if role == Role.DISTRICT:
        return (actor.profile.district_id == teacher.school.district_id
                and schools_without_principal().filter(pk=teacher.school_id).exists())
    return False


@transaction.atomic
def hours_decide(*, submission: HoursSubmission, approve: bool, note: str, actor) -> HoursSubmission:
    """The principal of the teacher's school (or, where it has none, district staff) approves, posting one
    ledger row, or rejects."""
    submission = HoursSubmission.objects.select_for_update().select_related("teacher__school").get(pk=submission.pk)
    if not may_decide_hours(actor, submission.teacher):
        raise ApplicationError("只有本校校长可以审核该申报（学校没有校长账号时由区县教育局审核）。")
    action = "approve" if approve else "reject"
    step = transition_guard(rules.SUBMISSION_TRANSITIONS, action=action, state=submission.state,
                            refusal="该申报已处理（{state}），不能重复审核。", state_label=submission.get_state_display())
    if step.needs_reason and not note.strip():
        raise ApplicationError("退回申报请填写原因。")
    if approve:
        # CR-10 again at approval, over what is approved already: a submission from before the limit (or a
        # lower limit since) cannot bring the day's approved hours above it.
        refusal = rules.daily_hours_refusal(
            day=submission.studied_on,
            already=day_hours(submission.teacher_id, submission.studied_on, states=(SubmissionState.APPROVED,),
                              exclude_id=submission.pk),
            adding=submission.hours, limit=policy_for(submission.studied_on.year).daily_hours_limit,
        )
        if refusal:
            raise ApplicationError(f"不能通过：{refusal}请退回该申报。")
    previous = submission.state
    submission.state = step.to_state
    submission.decided_by = actor
    submission.decided_at = timezone.now()
    submission.decision_note = note.strip()[:200]
    submission.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    event_record(SubmissionEvent, obj=submission, action=action, from_state=previous,
                 to_state=submission.state, actor=actor, reason=note)
    if approve:
        policy = policy_for(submission.studied_on.year)
        ledger_sync(
            source_key=f"submission:{submission.pk}",
            wanted=Posting(
                teacher_id=submission.teacher_id, entry_date=submission.studied_on, hours=submission.hours,
                credits=rules.money(submission.hours * policy.credits_per_hour), source=submission.kind,
                theme=submission.theme, description=submission.title, entered_by_id=submission.teacher.user_id,
            ),
            actor=actor,
            reason="学时申报通过",
        )
    audit(action=f"credits.submission.{submission.state}", actor=actor, obj=submission)
    return submission
