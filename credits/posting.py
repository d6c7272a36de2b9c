"""The one way into the ledger (SPEC §4, CR-1, CR-2): every row is appended by `ledger_sync`.

Results (training), school-based and self-study submissions, recognition claims, manual adjustments
and reversals all describe what their source should count *now* as a `Posting` (or None) under the
source's key; `ledger_sync` compares it with the source's live row and appends what brings the ledger
in line: nothing, a reversal, a new row, or both. The ledger is a sink: this module knows no source
type, so credits never imports the apps that post into it.

Exactly once: callers lock their source row and call inside one transaction; rows of a source share
``source_key`` with increasing ``revision`` under a unique constraint, so should two writers ever get
past the lock, the database keeps one and `posting_attempts` retries the other against what is there.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from django.db import IntegrityError, transaction

from .models import LedgerEntry

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
    return LedgerEntry(
        teacher_id=posting.teacher_id, entry_date=posting.entry_date, hours=posting.hours, credits=posting.credits,
        source=posting.source, mode=posting.mode, theme=posting.theme, project_code=posting.project_code,
        source_key=source_key, revision=revision, reverses=reverses, description=posting.description[:200],
        entered_by_id=posting.entered_by_id if posting.entered_by_id is not None else getattr(actor, "pk", None),
        approved_by=actor,
    )


def _append(posting: Posting, *, source_key: str, revision: int, actor) -> LedgerEntry:
    row = _row(posting, source_key=source_key, revision=revision, actor=actor)
    row.save()
    return row


def _reverse(row: LedgerEntry, *, revision: int, actor, reason: str) -> LedgerEntry:
    """A row that cancels `row`, dated on the same day so the year it counted in is corrected."""
    negated = Posting(teacher_id=row.teacher_id, entry_date=row.entry_date, hours=-row.hours, credits=-row.credits,
                      source=row.source, mode=row.mode, theme=row.theme, project_code=row.project_code,
                      description=f"冲销：{reason}")
    reversal = _row(negated, source_key=row.source_key, revision=revision, actor=actor, reverses=row)
    reversal.save()
    return reversal


def ledger_sync(*, source_key: str, wanted: Posting | None, actor, reason: str) -> list[LedgerEntry]:
    """Bring the rows of `source_key` in line with `wanted` (None: the source counts nothing now).

    Same date, hours and credits as the live row: nothing is written. Otherwise the live row is reversed
    (with `reason`) and `wanted` appended. Call inside the caller's transaction, its source row locked.
    """
    if not source_key:
        raise ValueError("a posting needs a source key")
    rows = list(LedgerEntry.objects.filter(source_key=source_key).order_by("revision"))
    live = live_row(rows)
    if live is None and wanted is None:
        return []
    if live is not None and wanted is not None and (live.entry_date, live.hours, live.credits) == (
        wanted.entry_date, wanted.hours, wanted.credits
    ):
        return []
    revision = rows[-1].revision if rows else 0
    written = []
    if live is not None:
        revision += 1
        written.append(_reverse(live, revision=revision, actor=actor, reason=reason))
    if wanted is not None:
        revision += 1
        written.append(_append(wanted, source_key=source_key, revision=revision, actor=actor))
    return written


def ledger_bulk_start(postings: Iterable[tuple[str, Posting]], *, actor=None, batch_size: int = 5000) -> int:
    """The first rows of many new sources at once (a demo city, a move from another system): revision 1
    of each key. A key that already has rows is refused by the unique (source_key, revision)."""
    rows = (_row(posting, source_key=key, revision=1, actor=actor) for key, posting in postings)
    count = 0
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == batch_size:
            count += len(LedgerEntry.objects.bulk_create(batch))
            batch = []
    if batch:
        count += len(LedgerEntry.objects.bulk_create(batch))
    return count


def ledger_reverse_row(*, entry_id: int, actor, reason: str) -> LedgerEntry | None:
    """Cancel one row by appending its reversal; None when it is a reversal or already reversed.

    Rows written before source keys existed (blank key) are reversed with revision 1 of their own.
    """
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
