"""The one way into the ledger (SPEC §4, CR-1, CR-2): every row is appended by `ledger_sync`.

Results (training), school-based and self-study submissions, recognition claims, manual adjustments
and reversals all describe what their source should count *now* as a `Posting` (or None) under the
source's key; `ledger_sync` compares it with the source's live row and appends what brings the ledger
in line: nothing, a reversal, a new row, or both. The ledger is a sink: this module knows no source
type, so credits never imports the apps that post into it.

Exactly once: callers lock their source row and call inside one transaction; rows of a source share
``source_key`` with increasing ``revision`` under a unique constraint, so should two writers ever get
past the lock, the database keeps one and `posting_attempts` retries the other against what is there.

Closed years (CR-9 amended): a row that would be dated in a year whose annual close is done is not
written; the change waits as a 补报 (credits.models.Amendment, one pending per source key) until bureau
staff approve it (credits.amendments.amendment_decide, which replays it here with `amendment_apply`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from django.db import IntegrityError, transaction

from bureau.bulkinsert import insert_rows, new_instance
from bureau.models import Teacher
from bureau.services import audit, event_record

from .models import (
    Amendment,
    AmendmentAction,
    AmendmentEvent,
    AmendmentState,
    ComplianceReport,
    LedgerEntry,
    ReportKind,
    ReportStatus,
)
from .selectors import ledger_version_key, school_version_key

logger = logging.getLogger(__name__)

POST_ATTEMPTS = 3
T = TypeVar("T")


@dataclass(frozen=True)
class Posting:
    """What one source should count in the ledger now."""

    teacher_id: int
    entry_date: dt.date
    hours: Decimal
    credits: Decimal
    source: str
    mode: str = ""
    theme: str = ""
    project_code: str = ""
    description: str = ""
    entered_by_id: int | None = None  # who entered it, when not the approver (a teacher's own submission)


def live_row(rows: list[LedgerEntry]) -> LedgerEntry | None:
    """The row of a source that still counts: not a reversal and not reversed."""
    reversed_ids = {r.reverses_id for r in rows if r.reverses_id}
    live = [r for r in rows if r.reverses_id is None and r.pk not in reversed_ids]
    return live[-1] if live else None


def _row(posting: Posting, *, source_key: str, revision: int, actor, reverses: LedgerEntry | None = None) -> LedgerEntry:
    """The (unsaved) ledger row for `posting`; the approver is the actor, the author the actor unless named."""
    row = new_instance(  # built without Model.__init__ (PERF-6: a row per result of an import)
        LedgerEntry,
        teacher_id=posting.teacher_id, entry_date=posting.entry_date, hours=posting.hours, credits=posting.credits,
        source=posting.source, mode=posting.mode, theme=posting.theme, project_code=posting.project_code,
        source_key=source_key, revision=revision, reverses_id=getattr(reverses, "pk", None),
        description=posting.description[:200],
        entered_by_id=posting.entered_by_id if posting.entered_by_id is not None else getattr(actor, "pk", None),
        approved_by_id=getattr(actor, "pk", None),
    )
    if reverses is not None:
        LedgerEntry.reverses.field.set_cached_value(row, reverses)
    if actor is not None:
        LedgerEntry.approved_by.field.set_cached_value(row, actor)
    return row


def _append(posting: Posting, *, source_key: str, revision: int, actor) -> LedgerEntry:
    row = _row(posting, source_key=source_key, revision=revision, actor=actor)
    row.save()
    return row


def _reversal_row(row: LedgerEntry, *, revision: int, actor, reason: str) -> LedgerEntry:
    """The (unsaved) row that cancels `row`, dated on the same day so the year it counted in is corrected."""
    negated = Posting(teacher_id=row.teacher_id, entry_date=row.entry_date, hours=-row.hours, credits=-row.credits,
                      source=row.source, mode=row.mode, theme=row.theme, project_code=row.project_code,
                      description=f"冲销：{reason}")
    return _row(negated, source_key=row.source_key, revision=revision, actor=actor, reverses=row)


def _reverse(row: LedgerEntry, *, revision: int, actor, reason: str) -> LedgerEntry:
    reversal = _reversal_row(row, revision=revision, actor=actor, reason=reason)
    reversal.save()
    return reversal


class Synced(list):
    """The rows `ledger_sync` wrote, and the 补报 it recorded instead when they fall in a closed year
    (`amendment`: pending, or a refused one asked again unchanged, which is not asked twice)."""

    def __init__(self, rows: Iterable[LedgerEntry] = (), *, amendment: Amendment | None = None):
        super().__init__(rows)
        self.amendment = amendment

    @property
    def waiting(self) -> bool:
        """The change waits for bureau staff as a pending 补报."""
        return self.amendment is not None and self.amendment.state == AmendmentState.PENDING


def closed_years() -> frozenset[int]:
    """The years whose annual close is done or under way (CR-9): the ledger takes no row dated in them
    directly. A close being built counts: a row posted while its workbook streams would be in neither
    the frozen figures nor any 补报. A close that failed does not (bureau staff start it again)."""
    return frozenset(ComplianceReport.objects.filter(kind=ReportKind.CLOSED)
                     .exclude(status=ReportStatus.FAILED).values_list("year", flat=True))


def _plan(live: LedgerEntry | None, wanted: Posting | None) -> tuple[bool, bool]:
    """(reverse the live row?, append wanted?) to bring a source's rows in line with `wanted`."""
    if live is not None and wanted is not None and (live.entry_date, live.hours, live.credits) == (
        wanted.entry_date, wanted.hours, wanted.credits
    ):
        return False, False
    return live is not None, wanted is not None


def _planned(rows: list[LedgerEntry], *, source_key: str, wanted: Posting | None, actor, reason: str) -> list[LedgerEntry]:
    """The (unsaved) rows that bring `rows` (a source's rows by revision) in line with `wanted`: the one
    decision both `ledger_sync` and `ledger_sync_many` write."""
    live = live_row(rows)
    reverse, append = _plan(live, wanted)
    revision = rows[-1].revision if rows else 0
    planned = []
    if reverse:
        revision += 1
        planned.append(_reversal_row(live, revision=revision, actor=actor, reason=reason))
    if append:
        revision += 1
        planned.append(_row(wanted, source_key=source_key, revision=revision, actor=actor))
    return planned


def _write(rows: list[LedgerEntry], *, source_key: str, wanted: Posting | None, actor, reason: str) -> list[LedgerEntry]:
    written = _planned(rows, source_key=source_key, wanted=wanted, actor=actor, reason=reason)
    for row in written:
        row.save()
    return written


def _closed_hit(live: LedgerEntry | None, wanted: Posting | None, closed: frozenset[int]) -> tuple[int | None, bool]:
    """(the first closed year a change would write into, or None; whether there is a change at all)."""
    reverse, append = _plan(live, wanted)
    dated = ([live.entry_date] if reverse else []) + ([wanted.entry_date] if append else [])
    hit = sorted({day.year for day in dated} & closed)
    return (hit[0] if hit else None), reverse or append


def ledger_sync(*, source_key: str, wanted: Posting | None, actor, reason: str) -> Synced:
    """Bring the rows of `source_key` in line with `wanted` (None: the source counts nothing now).

    Same date, hours and credits as the live row: nothing is written. Otherwise the live row is reversed
    (with `reason`) and `wanted` appended. Call inside the caller's transaction, its source row locked.

    CR-9 (amended): when either row would be dated in a closed year, nothing is written and the change
    is held as the source's pending 补报 (`Synced.amendment`); a change that no longer needs its pending
    补报 (the source is back in line, or now dated in an open year) withdraws it.
    """
    if not source_key:
        raise ValueError("a posting needs a source key")
    rows = list(LedgerEntry.objects.filter(source_key=source_key).order_by("revision"))
    live = live_row(rows)
    closed = closed_years()
    if closed:  # else no year is closed and no 补报 can be pending
        year, change = _closed_hit(live, wanted, closed)
        if year is not None:
            return Synced(amendment=_hold_change(source_key, live=live, wanted=wanted, actor=actor, reason=reason,
                                                 year=year))
        _withdraw(source_key, actor=actor, why=_withdraw_reason(change))
    return Synced(_write(rows, source_key=source_key, wanted=wanted, actor=actor, reason=reason))


def _withdraw_reason(change: bool) -> str:
    return "日期不在已关账年度，已直接登记" if change else "来源已变更，无需补报"


def _hold_change(source_key: str, *, live: LedgerEntry | None, wanted: Posting | None, actor, reason: str,
                 year: int) -> Amendment:
    reverse, _ = _plan(live, wanted)
    return _hold(source_key=source_key, action=AmendmentAction.SYNC, wanted=wanted,
                 reverses=live if reverse else None, actor=actor, reason=reason, year=year)


def ledger_sync_many(
    items: Iterable[tuple[str, Posting | None, str]], *, actor, closed: frozenset[int] | None = None,
    schools: Mapping[int, int | None] | None = None,
) -> dict[str, Synced]:
    """`ledger_sync` for many sources at once (PERF-6): items are (source_key, wanted, reason), each key
    once. The same decision per key (`_planned`, `live_row`, `_plan`), paid per batch: one read of the
    keys' rows, one of their pending 补报 when a year is closed, one bulk insert, and one bump per cache
    key (the caller's teacher → school map `schools` names them without a query per row).

    `closed`: the closed years as read once by the caller for a whole import (closed_years()). A change
    dated in a closed year is held as 补报 one key at a time (`_hold`, as ledger_sync; they are rare), and
    a key whose pending 补报 is no longer needed has it withdrawn. Call inside the caller's transaction,
    the sources locked (the unique (source_key, revision) is the backstop, as for ledger_sync).
    """
    items = list(items)
    if any(not key for key, _, _ in items):
        raise ValueError("a posting needs a source key")
    keys = [key for key, _, _ in items]
    if len(set(keys)) != len(keys):
        raise ValueError("each source key once per call")
    closed = closed_years() if closed is None else closed
    existing: dict[str, list[LedgerEntry]] = {}
    for row in LedgerEntry.objects.filter(source_key__in=keys).order_by("source_key", "revision"):
        existing.setdefault(row.source_key, []).append(row)
    pending = set()
    if closed:
        pending = set(Amendment.objects.filter(source_key__in=keys, state=AmendmentState.PENDING)
                      .values_list("source_key", flat=True))
    out: dict[str, Synced] = {}
    new_rows: list[LedgerEntry] = []
    for key, wanted, reason in items:
        rows = existing.get(key, [])
        if closed:
            live = live_row(rows)
            year, change = _closed_hit(live, wanted, closed)
            if year is not None:
                out[key] = Synced(amendment=_hold_change(key, live=live, wanted=wanted, actor=actor, reason=reason,
                                                         year=year))
                continue
            if key in pending:
                _withdraw(key, actor=actor, why=_withdraw_reason(change))
        planned = _planned(rows, source_key=key, wanted=wanted, actor=actor, reason=reason)
        new_rows.extend(planned)
        out[key] = Synced(planned)
    if new_rows:
        teacher_ids = {row.teacher_id for row in new_rows}
        if schools is None or not teacher_ids <= set(schools):
            schools = dict(Teacher.objects.filter(pk__in=teacher_ids).values_list("pk", "school_id"))
        insert_rows(LedgerEntry, new_rows, keys_of=lambda row: [
            ledger_version_key(row.teacher_id), school_version_key(schools.get(row.teacher_id))])
    return out


def _hold(*, source_key: str, action: str, wanted: Posting | None, reverses: LedgerEntry | None, actor, reason: str,
          year: int) -> Amendment:
    """Record (or bring up to date) the pending 补报 of `source_key`; the same change asked again (a
    re-import) adds nothing, nor does a change bureau staff refused last time asked again unchanged."""
    teacher_id = wanted.teacher_id if wanted is not None else reverses.teacher_id
    fields = {
        "year": year, "action": action, "teacher_id": teacher_id, "reverses": reverses, "reason": (reason or "")[:200],
        "entry_date": None, "hours": None, "credits": None, "source": reverses.source if reverses else "",
        "mode": "", "theme": "", "project_code": "", "description": "", "entered_by_id": None,
        "requested_by_id": getattr(actor, "pk", None),
    }
    if wanted is not None:
        fields.update(entry_date=wanted.entry_date, hours=wanted.hours, credits=wanted.credits, source=wanted.source,
                      mode=wanted.mode, theme=wanted.theme, project_code=wanted.project_code,
                      description=wanted.description[:200], entered_by_id=wanted.entered_by_id)
    candidate = Amendment(source_key=source_key, **fields)
    with transaction.atomic():
        pending = Amendment.objects.select_for_update().filter(source_key=source_key, state=AmendmentState.PENDING).first()
        if pending is not None:
            if pending.same_target(candidate):
                return pending
            for name, value in fields.items():
                setattr(pending, name, value)
            pending.save()
            event_record(AmendmentEvent, obj=pending, action="update", from_state=pending.state, to_state=pending.state,
                         actor=actor, reason=reason)
            audit(action="credits.amendment.updated", actor=actor, obj=pending, source_key=source_key)
            return pending
        last = Amendment.objects.filter(source_key=source_key).order_by("-id").first()
        if last is not None and last.state == AmendmentState.REFUSED and last.same_target(candidate):
            return last
        candidate.save()
        event_record(AmendmentEvent, obj=candidate, action="request", from_state="", to_state=candidate.state,
                     actor=actor, reason=reason)
        audit(action="credits.amendment.requested", actor=actor, obj=candidate, source_key=source_key, year=year)
        logger.info("amendment %s held for %s (closed year %s)", candidate.pk, source_key, year)
        return candidate


def _withdraw(source_key: str, *, actor, why: str) -> None:
    """The source no longer needs its pending 补报."""
    with transaction.atomic():
        _withdraw_locked(source_key, actor=actor, why=why)


def _withdraw_locked(source_key: str, *, actor, why: str) -> None:
    for pending in Amendment.objects.select_for_update().filter(source_key=source_key, state=AmendmentState.PENDING):
        pending.state = AmendmentState.WITHDRAWN
        pending.save(update_fields=["state", "updated_at"])
        event_record(AmendmentEvent, obj=pending, action="withdraw", from_state=AmendmentState.PENDING,
                     to_state=pending.state, actor=actor, reason=why)
        audit(action="credits.amendment.withdrawn", actor=actor, obj=pending, source_key=source_key)


def amendment_apply(amendment: Amendment, *, actor) -> list[LedgerEntry]:
    """Write what an approved 补报 holds, against the ledger as it is now (the caller holds its lock):
    the rows that bring its source in line with the wanted posting, or the reversal of its row."""
    if amendment.action == AmendmentAction.REVERSE_ROW:
        reversal = _reverse_row(entry_id=amendment.reverses_id, actor=actor, reason=amendment.reason or "补报冲销")
        return [reversal] if reversal is not None else []
    wanted = None
    if amendment.wants_row:
        wanted = Posting(
            teacher_id=amendment.teacher_id, entry_date=amendment.entry_date, hours=amendment.hours,
            credits=amendment.credits, source=amendment.source, mode=amendment.mode, theme=amendment.theme,
            project_code=amendment.project_code, description=amendment.description,
            entered_by_id=amendment.entered_by_id,
        )
    rows = list(LedgerEntry.objects.filter(source_key=amendment.source_key).order_by("revision"))
    return _write(rows, source_key=amendment.source_key, wanted=wanted, actor=actor,
                  reason=amendment.reason or "补报通过")


def ledger_bulk_start(postings: Iterable[tuple[str, Posting]], *, actor=None, batch_size: int = 5000) -> int:
    """The first rows of many new sources at once (a demo city, a move from another system): revision 1
    of each key. A key that already has rows is refused by the unique (source_key, revision); a row
    dated in a closed year is refused (CR-9: those go through ledger_sync, as 补报)."""
    closed = closed_years()

    def checked():
        for key, posting in postings:
            if posting.entry_date.year in closed:
                raise ValueError(f"{key}: {posting.entry_date.year} is closed; post it through ledger_sync")
            yield _row(posting, source_key=key, revision=1, actor=actor)

    count = 0
    batch = []
    for row in checked():
        batch.append(row)
        if len(batch) == batch_size:
            count += len(LedgerEntry.objects.bulk_create(batch))
            batch = []
    if batch:
        count += len(LedgerEntry.objects.bulk_create(batch))
    return count


def ledger_reverse_row(*, entry_id: int, actor, reason: str) -> LedgerEntry | Amendment | None:
    """Cancel one row by appending its reversal; None when it is a reversal or already reversed; the
    pending 补报 (key ``entry:<id>``) when the row is dated in a closed year (CR-9).

    Rows written before source keys existed (blank key) are reversed with revision 1 of their own.
    """
    entry = LedgerEntry.objects.select_for_update().get(pk=entry_id)
    if entry.reverses_id is not None or LedgerEntry.objects.filter(reverses=entry).exists():
        return None
    if entry.entry_date.year in closed_years():
        return _hold(source_key=f"entry:{entry.pk}", action=AmendmentAction.REVERSE_ROW, wanted=None, reverses=entry,
                     actor=actor, reason=reason, year=entry.entry_date.year)
    return _reverse_row(entry_id=entry.pk, actor=actor, reason=reason)


def _reverse_row(*, entry_id: int, actor, reason: str) -> LedgerEntry | None:
    entry = LedgerEntry.objects.select_for_update().get(pk=entry_id)
    if entry.reverses_id is not None or LedgerEntry.objects.filter(reverses=entry).exists():
        return None
    revision = 1
    if entry.source_key:
        revision = LedgerEntry.objects.filter(source_key=entry.source_key).order_by("-revision").first().revision + 1
    return _reverse(entry, revision=revision, actor=actor, reason=reason)


def posting_attempts(fn: Callable[[], T], *, what: str) -> T:
    """Run `fn` in a transaction, again (up to POST_ATTEMPTS) when a concurrent posting won the race."""
    for attempt in range(1, POST_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return fn()
        except IntegrityError:
            if attempt == POST_ATTEMPTS:
                raise
            logger.info("%s: concurrent posting detected, retrying (attempt %d)", what, attempt)
    raise AssertionError("unreachable")
