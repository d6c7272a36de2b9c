"""Writes to the ledger: every row is appended here, with its author (SPEC §4, CR-1, CR-2)."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from bureau.choices import Role
from bureau.scoping import role_of, visible_teachers
from bureau.services import ApplicationError, audit

from . import rules
from .models import HoursSubmission, LedgerEntry, Source, SubmissionState
from .selectors import policy_for

logger = logging.getLogger(__name__)

POST_ATTEMPTS = 3


def _live_row(rows: list[LedgerEntry]) -> LedgerEntry | None:
    """The row of a source that still counts: not a reversal and not reversed."""
    reversed_ids = {r.reverses_id for r in rows if r.reverses_id}
    live = [r for r in rows if r.reverses_id is None and r.pk not in reversed_ids]
    return live[-1] if live else None


def _reversal(row: LedgerEntry, *, revision: int, actor, reason: str) -> LedgerEntry:
    """A row that cancels `row`, dated on the same day so the year it counted in is corrected."""
    return LedgerEntry.objects.create(
        teacher_id=row.teacher_id,
        entry_date=row.entry_date,
        hours=-row.hours,
        credits=-row.credits,
        source=row.source,
        mode=row.mode,
        theme=row.theme,
        project_id=row.project_id,
        source_key=row.source_key,
        revision=revision,
        reverses=row,
        description=f"冲销：{reason}"[:200],
        entered_by=actor,
        approved_by=actor,
    )


def result_post(*, result_id: int, actor) -> list[LedgerEntry]:
    """CR-1/CR-2: bring the ledger in line with a result, exactly once.

    The result row is locked, so two workers posting the same result take turns and the second finds
    nothing to do. Rows of one result share source_key ``result:<enrolment id>`` with increasing
    revisions under a unique constraint: should two writers ever get past the lock, the database keeps
    one and the other retries against what is now there.
    """
    for attempt in range(1, POST_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return _result_post_once(result_id, actor)
        except IntegrityError:
            if attempt == POST_ATTEMPTS:
                raise
            logger.info("result %s: concurrent posting detected, retrying (attempt %d)", result_id, attempt)
    return []


def _result_post_once(result_id: int, actor) -> list[LedgerEntry]:
    from training.models import Result

    result = Result.objects.select_for_update().select_related("enrolment__project").get(pk=result_id)
    project = result.enrolment.project
    key = f"result:{result.enrolment_id}"
    rows = list(LedgerEntry.objects.filter(source_key=key).order_by("revision"))
    live = _live_row(rows)
    year = (result.completed_on or timezone.localdate()).year
    policy = policy_for(year)
    credits = rules.project_credits(hours=project.hours, credits=project.credits, credits_per_hour=policy.credits_per_hour)
    wanted = rules.result_posting(
        grade=result.grade,
        completed_on=result.completed_on,
        project_hours=project.hours,
        project_credits=credits,
        certified_hours=result.certified_hours,
    )
    if live is not None and wanted is not None and (live.entry_date, live.hours, live.credits) == tuple(
        (wanted.entry_date, wanted.hours, wanted.credits)
    ):
        return []
    if live is None and wanted is None:
        return []
    revision = rows[-1].revision if rows else 0
    written = []
    if live is not None:
        revision += 1
        written.append(_reversal(live, revision=revision, actor=actor, reason=f"考核结果变更为{result.grade}"))
    if wanted is not None:
        revision += 1
        written.append(
            LedgerEntry.objects.create(
                teacher_id=result.enrolment.teacher_id,
                entry_date=wanted.entry_date,
                hours=wanted.hours,
                credits=wanted.credits,
                source=Source.TRAINING_RESULT,
                mode=project.mode,
                theme=project.theme,
                project=project,
                source_key=key,
                revision=revision,
                description=f"{project.name}（{result.grade}）"[:200],
                entered_by=actor,
                approved_by=actor,
            )
        )
    audit(
        action="credits.result.posted",
        actor=actor,
        obj=result,
        rows=[r.pk for r in written],
        grade=result.grade,
    )
    return written


@transaction.atomic
def ledger_adjust(
    *, teacher_id: int, entry_date: dt.date, hours: Decimal, credits: Decimal, reason: str, actor
) -> LedgerEntry:
    """A manual adjustment by bureau staff: needs a reason, shown as such on the transcript."""
    if role_of(actor) != Role.BUREAU:
        raise ApplicationError("只有市教育局可以人工调整学分。")
    if not reason or not reason.strip():
        raise ApplicationError("人工调整必须填写原因。")
    if hours == 0 and credits == 0:
        raise ApplicationError("学时和学分不能都为 0。")
    entry = LedgerEntry.objects.create(
        teacher_id=teacher_id,
        entry_date=entry_date,
        hours=hours,
        credits=credits,
        source=Source.MANUAL_ADJUSTMENT,
        description=reason.strip()[:200],
        entered_by=actor,
        approved_by=actor,
    )
    audit(action="credits.entry.adjusted", actor=actor, obj=entry, reason=reason.strip())
    return entry


@transaction.atomic
def ledger_reverse(*, entry: LedgerEntry, reason: str, actor) -> LedgerEntry:
    """Cancel one row by appending its reversal (bureau staff; a reason is required)."""
    if role_of(actor) != Role.BUREAU:
        raise ApplicationError("只有市教育局可以冲销学分记录。")
    if not reason or not reason.strip():
        raise ApplicationError("冲销必须填写原因。")
    entry = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.reverses_id is not None:
        raise ApplicationError("冲销记录本身不能再冲销。")
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ApplicationError("该记录已被冲销。")
    revision = 1
    if entry.source_key:
        revision = LedgerEntry.objects.filter(source_key=entry.source_key).order_by("-revision").first().revision + 1
    reversal = _reversal(entry, revision=revision, actor=actor, reason=reason.strip())
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
    submission = HoursSubmission.objects.create(
        teacher=teacher, kind=kind, title=title, studied_on=studied_on, hours=hours, theme=theme, evidence=evidence
    )
    audit(action="credits.submission.created", actor=actor, obj=submission)
    return submission


@transaction.atomic
def hours_decide(*, submission: HoursSubmission, approve: bool, note: str, actor) -> HoursSubmission:
    """The principal of the teacher's school approves (posting one ledger row) or rejects."""
    submission = HoursSubmission.objects.select_for_update().select_related("teacher").get(pk=submission.pk)
    if role_of(actor) != Role.PRINCIPAL or actor.profile.school_id != submission.teacher.school_id:
        raise ApplicationError("只有本校校长可以审核该申报。")
    if submission.state != SubmissionState.SUBMITTED:
        raise ApplicationError(f"该申报已处理（{submission.get_state_display()}），不能重复审核。")
    if not approve and not note.strip():
        raise ApplicationError("退回申报请填写原因。")
    submission.state = SubmissionState.APPROVED if approve else SubmissionState.REJECTED
    submission.decided_by = actor
    submission.decided_at = timezone.now()
    submission.decision_note = note.strip()[:200]
    submission.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    if approve:
        policy = policy_for(submission.studied_on.year)
        LedgerEntry.objects.create(
            teacher_id=submission.teacher_id,
            entry_date=submission.studied_on,
            hours=submission.hours,
            credits=rules.money(submission.hours * policy.credits_per_hour),
            source=submission.kind,
            theme=submission.theme,
            source_key=f"submission:{submission.pk}",
            revision=1,
            description=submission.title[:200],
            entered_by_id=submission.teacher.user_id,
            approved_by=actor,
        )
    audit(action=f"credits.submission.{submission.state}", actor=actor, obj=submission)
    return submission
