"""One code path for every §7 import, from the command line and from the admin upload page.

An import reads and validates every row first. Without skip_invalid it writes nothing when any row is
invalid; with it, the valid rows are written and the invalid ones reported. Writing is one transaction,
so a failure half-way leaves nothing behind; a dry run does all the work and rolls it back, which is how
the upload page shows exactly what an import would do before anything is written.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import IntegrityError, transaction

from .locking import one_at_a_time
from .models import AuditEntry
from .spreadsheets import CellError, SpreadsheetError, is_blank, read_sheet

logger = logging.getLogger(__name__)


# SEC-6: a cell value quoted back in an error is cut to this many characters, and a page shows at most
# PREVIEW_ERRORS errors, so that a small file cannot produce a large page (a 12 KB file made 105 MB).
SHOWN_VALUE_CHARS = 50
PREVIEW_ERRORS = 200
_QUOTED = re.compile("“([^”]{%d})[^”]+”" % SHOWN_VALUE_CHARS)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str

    def __post_init__(self):
        # Every reason quotes the cell it is about in “…”; a long cell is cut where the error is made.
        object.__setattr__(self, "reason", _QUOTED.sub(r"“\1…”", self.reason))

    def __str__(self) -> str:
        return f"第{self.row}行 {self.column}: {self.reason}"


@dataclass
class ParsedRow:
    number: int
    data: dict[str, Any]


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False

    @property
    def invalid_rows(self) -> int:
        return len({e.row for e in self.errors})

    @property
    def shown_errors(self) -> list[RowError]:
        """The errors a page shows (SEC-6: at most PREVIEW_ERRORS)."""
        return self.errors[:PREVIEW_ERRORS]

    @property
    def hidden_errors(self) -> int:
        return max(0, len(self.errors) - PREVIEW_ERRORS)

    def summary(self) -> str:
        verb = "将" if self.dry_run else ""
        text = (
            f"共 {self.rows} 行：{verb}新增 {self.created}，{verb}更新 {self.updated}，无变化 {self.unchanged}，"
            f"有错误 {self.invalid_rows} 行。"
        )
        if self.errors and not self.written:
            text += "未写入任何数据。"
        return text + "".join(self.notes)


@dataclass(frozen=True)
class Column:
    header: str
    parse: Callable[[Any], Any]
    required: bool = True  # the cell must have a value
    header_required: bool = True  # the column must be present in the header row


class Importer:
    """Subclasses declare columns and the key column, then check rows and write them."""

    columns: list[Column] = []
    key: str = ""
    key_label: str = ""  # the column named in a duplicate-key error, when the key is not one column
    duplicate_reason: str = "与第{row}行重复"
    audit_action: str = ""
    object_type: str = ""

    def __init__(self, *, actor=None, today: dt.date):
        self.actor = actor
        self.today = today

    def check_row(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        """Cross-column checks of one row: a list of (column, reason)."""
        return []

    def check_references(self, rows: list[ParsedRow]) -> dict[int, list[tuple[str, str]]]:
        """Checks against the database, in bulk: {row number: [(column, reason)]}."""
        return {}

    def write(self, rows: list[ParsedRow], report: ImportReport) -> None:
        raise NotImplementedError


# PERF-3: a column's parsed values are remembered per import, by raw value, for these kinds of raw value
# (never numbers: True == 1 == 1.0 would share an entry); a column of all-different values (工号) stops
# remembering at MEMO_LIMIT entries. Cell parsers are pure functions of the raw value, so a remembered
# value is the value the parser would give again; errors are not remembered (each cell reports its own).
MEMO_LIMIT = 4096
_MEMO_KINDS = frozenset({str, dt.date, dt.datetime})
_MISSING = object()


def _column_reader(column: Column) -> Callable[[Any], Any]:
    """The one converter of a column, chosen once: blank handling, the column's parser, remembered values."""
    parse, required = column.parse, column.required
    memo: dict[Any, Any] = {} if required else {None: None}
    memo_get, memo_kinds = memo.get, _MEMO_KINDS

    def read(value: Any) -> Any:
        found = memo_get(value, _MISSING)
        if found is not _MISSING:
            return found
        if is_blank(value):
            if required:
                raise CellError("不能为空")
            return None
        parsed = parse(value)
        if value.__class__ in memo_kinds and len(memo) < MEMO_LIMIT:
            memo[value] = parsed
        return parsed

    return read


def parse_rows(importer: Importer, fileobj: IO[bytes]) -> tuple[list[ParsedRow], list[RowError]]:
    columns = importer.columns
    sheet = read_sheet(
        fileobj,
        required=[c.header for c in columns if c.header_required],
        optional=[c.header for c in columns if not c.header_required],
    )
    readers = [(c.header, _column_reader(c)) for c in columns]
    check_row, key_column = importer.check_row, importer.key
    key_label = importer.key_label or importer.key
    parsed: list[ParsedRow] = []
    errors: list[RowError] = []
    seen_keys: dict[Any, int] = {}
    for number, raw in sheet.rows:
        data: dict[str, Any] = {}
        row_errors: list[RowError] = []
        raw_get = raw.get
        for header, read in readers:
            try:
                data[header] = read(raw_get(header))
            except CellError as exc:
                row_errors.append(RowError(number, header, str(exc)))
                data[header] = None
        if not row_errors:
            row_errors.extend(RowError(number, col, reason) for col, reason in check_row(data))
        key = data.get(key_column)
        if key is not None:
            first = seen_keys.setdefault(key, number)
            if first != number:
                row_errors.append(RowError(number, key_label, importer.duplicate_reason.format(row=first)))
        parsed.append(ParsedRow(number, data))
        if row_errors:
            errors.extend(row_errors)
    if not parsed:
        raise SpreadsheetError("文件中只有表头，没有数据行。")
    bad = {e.row for e in errors}
    candidates = [r for r in parsed if r.number not in bad] if bad else parsed
    for number, problems in importer.check_references(candidates).items():
        errors.extend(RowError(number, col, reason) for col, reason in problems)
    order = {c.header: i for i, c in enumerate(columns)}
    errors.sort(key=lambda e: (e.row, order.get(e.column, 99)))
    return parsed, errors


def run_import(
    importer: Importer,
    fileobj: IO[bytes],
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
    filename: str = "",
) -> ImportReport:
    """Validate every row, then write all (or, with skip_invalid, the valid) rows in one transaction.

    Imports of one kind run one at a time, validation included: three people importing the same results
    file at once each saw the rows as new and each audited "300 created". Previews (dry runs) write
    nothing and do not wait. Raises SpreadsheetError for a file refused as a whole.
    """
    if dry_run:
        return _run_import(importer, fileobj, skip_invalid=skip_invalid, dry_run=True, filename=filename)
    with one_at_a_time(f"import:{importer.audit_action}"):
        return _run_import(importer, fileobj, skip_invalid=skip_invalid, dry_run=False, filename=filename)


def _run_import(importer: Importer, fileobj: IO[bytes], *, skip_invalid: bool, dry_run: bool,
                filename: str) -> ImportReport:
    parsed, errors = parse_rows(importer, fileobj)
    report = ImportReport(rows=len(parsed), errors=errors, dry_run=dry_run)
    if errors and not skip_invalid:
        logger.info("import %s refused: %d invalid rows, nothing written", importer.audit_action, report.invalid_rows)
        if not dry_run:
            return report
    bad = {e.row for e in errors}
    valid = [r for r in parsed if r.number not in bad] if bad else parsed
    try:
        with transaction.atomic():
            importer.write(valid, report)
            AuditEntry.objects.create(
                action=importer.audit_action,
                actor=importer.actor,
                object_type=importer.object_type,
                data={
                    "file": filename,
                    "rows": report.rows,
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "invalid_rows": report.invalid_rows,
                },
            )
            if dry_run or (errors and not skip_invalid):
                transaction.set_rollback(True)
    except IntegrityError as exc:
        # The database's message can quote the conflicting value (an ID-card number): log the kind only.
        logger.warning("import %s hit a constraint while writing (%s)", importer.audit_action, type(exc).__name__)
        raise SpreadsheetError("写入时数据已被其他操作修改（或与现有数据冲突），未写入任何数据，请稍后重试。") from None
    report.written = not dry_run and not (errors and not skip_invalid)
    logger.info(
        "import %s %s: rows=%d created=%d updated=%d unchanged=%d invalid=%d",
        importer.audit_action,
        "written" if report.written else "dry-run",
        report.rows,
        report.created,
        report.updated,
        report.unchanged,
        report.invalid_rows,
    )
    return report
