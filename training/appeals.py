"""申诉 (CR-12): a teacher appeals a training result, one ledger row or the year's verdict within 30 days of it;
the project's organiser (or bureau staff) decides with a reason; an upheld appeal corrects through the result
service or the ledger services (a reversal and a new row), never by editing.

The transitions live in TRANSITIONS; every write is a service here (keyword-only, from-state guarded, atomic,
an AppealEvent and an audit entry per step); the teacher hears of the decision after commit. The 30-day
window is credits.rules.appeal_open; its day 0 per kind is in `appeal_window` (docs/decisions.md). Reads for
the turnaround report are in training/appeals_report.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from bureau import workflow
from bureau.choices import Grade, Role
from bureau.scoping import own_teacher, role_of, visible_schools
from bureau.services import ApplicationError, audit, event_record, notice_after_commit
from bureau.workflow import Transition, transition, transition_guard
from credits import rules as credit_rules
from credits.models import Amendment, AmendmentState, LedgerEntry
from credits.selectors import closed_report, policy_for
from credits.services import ledger_adjust, ledger_reverse

from .models import Appeal, AppealEvent, AppealKind, AppealState, Enrolment, Result
from .organisers import may_organise, organised_projects
from .services import result_record

S = AppealState
DECIDERS = frozenset({Role.BUREAU, Role.DISTRICT, Role.PRINCIPAL})

# action -> allowed from-states, to-state, who may take it. Filing creates the appeal (no from-state).
# Scope comes on top: the teacher's own appeal; the project's organiser or bureau staff (may_decide).
TRANSITIONS: dict[str, Transition] = {
    "withdraw": transition({S.PENDING}, S.WITHDRAWN, "撤回申诉", roles={Role.TEACHER}),
    "uphold": transition({S.PENDING}, S.UPHELD, "支持申诉", roles=DECIDERS, needs_reason=True),
    "reject": transition({S.PENDING}, S.REJECTED, "驳回申诉", roles=DECIDERS, needs_reason=True),
}


def next_state(state: str, action: str) -> str | None:
    return workflow.next_state(TRANSITIONS, state, action)


# --- Who sees and who decides ---------------------------------------------------------------------


def visible_appeals(user) -> QuerySet[Appeal]:
    """A teacher their own; bureau staff and auditors all; district staff and principals the appeals of their
    schools' teachers (read-only) and those on the projects they organise (training.organisers)."""
    role = role_of(user)
    if role in (Role.BUREAU, Role.AUDITOR):
        return Appeal.objects.all()
    if role == Role.TEACHER:
        teacher = own_teacher(user)
        return Appeal.objects.filter(teacher=teacher) if teacher else Appeal.objects.none()
    if role in (Role.DISTRICT, Role.PRINCIPAL):
        return Appeal.objects.filter(Q(school__in=visible_schools(user)) | Q(project__in=organised_projects(user)))
    return Appeal.objects.none()


def may_decide(user, appeal: Appeal) -> bool:
    """CR-12: bureau staff decide every appeal; the project's organiser decides appeals on a result of the
    project or on a ledger row that result posted. Verdicts and other ledger rows: bureau staff only."""
    role = role_of(user)
    if role == Role.BUREAU:
        return True
    if role not in DECIDERS or appeal.project_id is None:
        return False
    return may_organise(user, appeal.project)


def max_wait_days(on: dt.date) -> int:
    """The policy's wait limit (CR-3 claim_max_wait_days): appeals are held to the same limit as claims."""
    return policy_for(on.year).claim_max_wait_days


def is_overdue(appeal: Appeal, *, now: dt.datetime, max_wait: int) -> bool:
    """超期: still pending more than `max_wait` days after it was filed (exactly the limit is in time)."""
    return appeal.state == S.PENDING and now - appeal.submitted_at > dt.timedelta(days=max_wait)


def days_taken(appeal: Appeal, *, now: dt.datetime | None = None) -> float:
    """Days from filing to the decision (or to `now` while pending), with one decimal."""
    end = appeal.decided_at or now or timezone.now()
    return round((end - appeal.submitted_at).total_seconds() / 86400, 1)


# --- The 30-day window ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    since: dt.date | None  # day 0; None for the verdict of a year not yet closed
    deadline: dt.date | None
    open: bool


def year_closed_on(year: int) -> dt.date | None:
    """The local day the year's annual close (CR-9) finished, or None while it is not closed."""
    closed = closed_report(year)
    if closed is None:
        return None
    return timezone.localdate(closed.finished_at or closed.created_at)


def appeal_window(kind: str, *, target=None, year: int | None = None, today: dt.date) -> Window:
    """CR-12 day 0: a result, the day it was recorded or last changed; a ledger row, the day it was entered
    (created_at); a year's verdict, the day of the year's annual close, and before the close the verdict
    is open to appeal from 1 January of the year on, for this year and last year only (an older year
    never closed is not open: the 30 days would never start). Day 30 is in time, day 31 is not."""
    if kind == AppealKind.VERDICT:
        if year is None or year > today.year:
            return Window(None, None, False)
        closed_on = year_closed_on(year)
        if closed_on is None:
            return Window(None, None, year in (today.year, today.year - 1))
        since = closed_on
    elif kind == AppealKind.RESULT:
        since = timezone.localdate(target.updated_at)
    else:
        since = timezone.localdate(target.created_at)
    return Window(since, credit_rules.appeal_deadline(since), credit_rules.appeal_open(since=since, today=today))


def window_start(today: dt.date) -> dt.datetime:
    """The earliest moment a result or ledger row may be dated and still be open to appeal on `today`."""
    first_day = today - dt.timedelta(days=credit_rules.APPEAL_WINDOW_DAYS)
    return dt.datetime.combine(first_day, dt.time.min, tzinfo=timezone.get_current_timezone())


def appealable(teacher, *, today: dt.date) -> dict:
    """What the teacher may appeal on `today` (three queries and the close lookups of two years)."""
    start = window_start(today)
    results = list(Result.objects.filter(enrolment__teacher=teacher, updated_at__gte=start)
                   .select_related("enrolment__project").order_by("-updated_at"))
    entries = list(LedgerEntry.objects.filter(teacher=teacher, created_at__gte=start, reverses__isnull=True,
                                              reversed_by__isnull=True).order_by("-created_at", "-id"))
    years = [y for y in (today.year, today.year - 1) if appeal_window(AppealKind.VERDICT, year=y, today=today).open]
    pending = set(Appeal.objects.filter(teacher=teacher, state=S.PENDING)
                  .values_list("kind", "result_id", "ledger_entry_id", "year"))
    for r in results:
        r.appeal_pending = (AppealKind.RESULT, r.pk, None, None) in pending
    for e in entries:
        e.appeal_pending = (AppealKind.LEDGER, None, e.pk, None) in pending
    return {"results": results, "entries": entries,
            "years": [{"year": y, "pending": (AppealKind.VERDICT, None, None, y) in pending} for y in years]}


# --- Writes ---------------------------------------------------------------------------------------


def _event(appeal: Appeal, *, action: str, from_state: str, actor, reason: str = "") -> AppealEvent:
    return event_record(AppealEvent, obj=appeal, action=action, from_state=from_state, to_state=appeal.state,
                        actor=actor, reason=reason)


def _project_of_entry(entry: LedgerEntry, teacher):
    """The project whose result posted this row (source key ``result:<enrolment id>``), or None."""
    if not entry.source_key.startswith("result:"):
        return None
    enrolment_id = entry.source_key.split(":", 1)[1]
    if not enrolment_id.isdigit():
        return None
    enrolment = Enrolment.objects.select_related("project").filter(pk=int(enrolment_id), teacher=teacher).first()
    return enrolment.project if enrolment else None


def _target(teacher, kind: str, target_id: int | None, year: int | None) -> tuple[dict, str, object]:
    """The appeal's target fields, its name in words, and the object (None for a verdict)."""
    if kind == AppealKind.RESULT:
        result = (Result.objects.select_related("enrolment__project")
                  .filter(pk=target_id, enrolment__teacher=teacher).first() if target_id else None)
        if result is None:
            raise ApplicationError("找不到您的这条考核结果，请从“我的申诉”页面选择。")
        project = result.enrolment.project
        return {"result": result, "project": project}, f"“{project.name}”的考核结果", result
    if kind == AppealKind.LEDGER:
        entry = LedgerEntry.objects.filter(pk=target_id, teacher=teacher).first() if target_id else None
        if entry is None:
            raise ApplicationError("找不到您的这条学分记录，请从“我的申诉”页面选择。")
        if entry.reverses_id is not None:
            raise ApplicationError("冲销记录不能申诉，请对原记录或其更正结果申诉。")
        return ({"ledger_entry": entry, "project": _project_of_entry(entry, teacher)},
                f"{entry.entry_date:%Y-%m-%d} 的学分记录", entry)
    if kind == AppealKind.VERDICT:
        if not year:
            raise ApplicationError("请选择申诉的年度。")
        return {"year": year}, f"{year} 年度考核结论", None
    raise ApplicationError("请选择申诉对象：考核结果、学分记录或年度考核结论。")


def appeal_file(*, teacher, kind: str, target_id: int | None = None, year: int | None = None, reason: str, actor,
                now: dt.datetime) -> Appeal:
    """A teacher appeals their own result, ledger row or year's verdict within 30 days of it (CR-12)."""
    if role_of(actor) != Role.TEACHER or own_teacher(actor) != teacher:
        raise ApplicationError("只能由教师本人提出申诉。")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("请填写申诉理由：哪里有误，应当是什么。")
    fields, what, target = _target(teacher, kind, target_id, year)
    today = timezone.localdate(now)
    window = appeal_window(kind, target=target, year=year, today=today)
    if not window.open:
        if window.deadline is None:
            raise ApplicationError(f"{what}尚未产生，不能申诉。")
        raise ApplicationError(
            f"已超过申诉期限：{what}的申诉期为 {window.since:%Y-%m-%d} 起 {credit_rules.APPEAL_WINDOW_DAYS} 天，"
            f"至 {window.deadline:%Y-%m-%d} 止。如有疑问请联系学校或区县教育局。"
        )
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(teacher=teacher, school_id=teacher.school_id, kind=kind, reason=reason,
                                           state=S.PENDING, submitted_at=now, **fields)
            _event(appeal, action="file", from_state="", actor=actor)
            audit(action="training.appeal.filed", actor=actor, obj=appeal, kind=kind, target=str(target_id or year),
                  since=f"{window.since:%Y-%m-%d}" if window.since else "")
    except IntegrityError:
        raise ApplicationError(f"{what}已有待处理的申诉，请等待处理结果。") from None
    return appeal


def _locked(appeal: Appeal) -> Appeal:
    return (Appeal.objects.select_for_update(of=("self",))
            .select_related("teacher__user", "project", "result__enrolment__project", "ledger_entry")
            .get(pk=appeal.pk))


@transaction.atomic
def appeal_withdraw(*, appeal: Appeal, actor, now: dt.datetime) -> Appeal:
    """The teacher takes back a pending appeal."""
    appeal = _locked(appeal)
    transition_guard(TRANSITIONS, action="withdraw", state=appeal.state,
                     refusal="该申诉当前为“{state}”，不能{label}。", state_label=appeal.get_state_display())
    if role_of(actor) != Role.TEACHER or own_teacher(actor) != appeal.teacher:
        raise ApplicationError("只能撤回本人的申诉。")
    previous, appeal.state = appeal.state, S.WITHDRAWN
    appeal.save(update_fields=["state", "updated_at"])
    _event(appeal, action="withdraw", from_state=previous, actor=actor)
    audit(action="training.appeal.withdrawn", actor=actor, obj=appeal)
    return appeal


@dataclass(frozen=True)
class Correction:
    """What an upheld appeal corrects. A result (or a ledger row a result posted): the corrected grade,
    certified hours (None: the project's hours) and completion date. Another ledger row: reverse it and/or
    an adjustment. A verdict: an adjustment (hours, credits, dated within the year)."""

    grade: str = ""
    certified_hours: Decimal | None = None
    completed_on: dt.date | None = None
    reverse_entry: bool = False
    hours: Decimal | None = None
    credits: Decimal | None = None
    entry_date: dt.date | None = None


def result_of(appeal: Appeal) -> Result | None:
    """The result an appeal corrects: its target, or the result that posted the appealed ledger row."""
    if appeal.kind == AppealKind.RESULT:
        return appeal.result
    if appeal.kind == AppealKind.LEDGER and appeal.project_id is not None:
        return (Result.objects.select_related("enrolment__project")
                .filter(enrolment__project_id=appeal.project_id, enrolment__teacher_id=appeal.teacher_id).first())
    return None


def _source_rows(source_key: str) -> set[int]:
    return set(LedgerEntry.objects.filter(source_key=source_key).values_list("pk", flat=True))


def _correct_result(appeal: Appeal, result: Result, c: Correction, *, actor, today: dt.date) -> dict:
    if c.grade not in Grade.values:
        raise ApplicationError("支持申诉须登记更正后的考核结果，请选择等级。")
    completed_on = c.completed_on or result.completed_on
    before = (result.grade, result.completed_on, result.certified_hours)
    if (c.grade, completed_on, c.certified_hours) == before:
        raise ApplicationError("更正后的考核结果与原结果相同：支持申诉须登记更正，否则请驳回。")
    key = f"result:{result.enrolment_id}"
    earlier = _source_rows(key)
    project = result.enrolment.project
    result_record(project=project, teacher=appeal.teacher, grade=c.grade, completed_on=completed_on,
                  certified_hours=c.certified_hours, actor=actor, today=today)
    return {
        "result": result.pk,
        "grade": [before[0], c.grade],
        "completed_on": [str(before[1] or ""), str(completed_on or "")],
        "certified_hours": [str(before[2] if before[2] is not None else ""),
                            str(c.certified_hours if c.certified_hours is not None else "")],
        "rows": sorted(_source_rows(key) - earlier),
        **({"amendment": pending} if (pending := Amendment.objects.filter(
            source_key=key, state=AmendmentState.PENDING).values_list("pk", flat=True).first()) else {}),
    }


def _adjust(appeal: Appeal, c: Correction, *, reason: str, actor, default_date: dt.date, year: int | None) -> dict:
    hours, credits = c.hours or Decimal("0"), c.credits or Decimal("0")
    entry_date = c.entry_date or default_date
    if year is not None and entry_date.year != year:
        raise ApplicationError(f"更正 {year} 年度的结论，调整记录的日期须在 {year} 年内。")
    row = ledger_adjust(teacher_id=appeal.teacher_id, entry_date=entry_date, hours=hours, credits=credits,
                        reason=reason, actor=actor)
    return {**_posted("adjustment", row), "hours": str(hours), "credits": str(credits),
            "entry_date": f"{entry_date:%Y-%m-%d}"}


def _posted(name: str, row) -> dict:
    """What a correction wrote: the ledger row, or (dated in a closed year, CR-9) the pending 补报 that
    waits for bureau staff; the appeal says which, and the teacher's notice says it waits."""
    if isinstance(row, Amendment):
        return {"amendment": row.pk}
    return {name: row.pk}


def _correct(appeal: Appeal, c: Correction, *, reason: str, actor, today: dt.date) -> dict:
    """Apply an upheld appeal's correction through the result service or the ledger services."""
    note = f"申诉 #{appeal.pk} 支持：{reason}"[:190]
    result = result_of(appeal)
    if result is not None:
        return _correct_result(appeal, result, c, actor=actor, today=today)
    wants_adjustment = bool(c.hours) or bool(c.credits)
    if appeal.kind == AppealKind.LEDGER:
        if not (c.reverse_entry or wants_adjustment):
            raise ApplicationError("支持申诉须登记更正：冲销该记录，和/或登记调整的学时、学分。")
        done: dict = {}
        if c.reverse_entry:
            done.update(_posted("reversal", ledger_reverse(entry=appeal.ledger_entry, reason=note, actor=actor)))
        if wants_adjustment:
            done.update(_adjust(appeal, c, reason=note, actor=actor, default_date=appeal.ledger_entry.entry_date,
                                year=None))
        return done
    if appeal.kind == AppealKind.VERDICT:
        if not wants_adjustment:
            raise ApplicationError("支持对年度结论的申诉须登记调整的学时或学分（计入该年度）。")
        default = min(today, dt.date(appeal.year, 12, 31))
        return _adjust(appeal, c, reason=note, actor=actor, default_date=default, year=appeal.year)
    raise ApplicationError("该申诉的对象已不存在，无法更正。")


@transaction.atomic
def appeal_decide(*, appeal: Appeal, uphold: bool, reason: str, actor, now: dt.datetime,
                  correction: Correction | None = None) -> Appeal:
    """The project's organiser or bureau staff uphold (with the correction) or reject a pending appeal, with a
    reason. Upholding posts through the result service or the ledger services in this transaction: if the
    correction is refused, nothing is decided. A rejection leaves the ledger untouched."""
    action = "uphold" if uphold else "reject"
    appeal = _locked(appeal)
    step = transition_guard(TRANSITIONS, action=action, state=appeal.state,
                            refusal="该申诉当前为“{state}”，不能{label}，请刷新页面。",
                            state_label=appeal.get_state_display())
    if role_of(actor) not in step.roles or not may_decide(actor, appeal):
        raise ApplicationError("您无权处理该申诉：由培训项目的主办单位或市教育局处理。")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(f"“{step.label}”请填写处理意见（理由）。")
    done = _correct(appeal, correction or Correction(), reason=reason, actor=actor,
                    today=timezone.localdate(now)) if uphold else {}
    previous = appeal.state
    appeal.state, appeal.decided_at, appeal.decided_by = step.to_state, now, actor
    appeal.decision_reason, appeal.correction = reason[:200], done
    appeal.save(update_fields=["state", "decided_at", "decided_by", "decision_reason", "correction", "updated_at"])
    taken = days_taken(appeal)
    _event(appeal, action=action, from_state=previous, actor=actor, reason=reason)
    audit(action=f"training.appeal.{'upheld' if uphold else 'rejected'}", actor=actor, obj=appeal, reason=reason,
          days=taken, correction=done)
    teacher_user = appeal.teacher.user
    if teacher_user is not None and teacher_user.is_active:
        notice_after_commit(recipient=teacher_user, key=f"appeal:{appeal.pk}:{appeal.state}",
                            title=f"您的申诉（{appeal.get_kind_display()}）：{appeal.get_state_display()}",
                            body=f"处理意见：{reason}" + (
                                "。更正的日期属于已关账年度，已作为补报提交，市教育局审核通过后计入。"
                                if "amendment" in done else ""),
                            link=reverse("training:appeals-mine"))
    return appeal
