"""The shared spreadsheet reader and writer behind every import and export (SPEC §7, SEC-2).

Reading: size limit, xlsx only (checked from the content), zip-bomb checks before anything is
unpacked, openpyxl read-only with cached values (no formula is evaluated), defusedxml installed so
openpyxl parses XML safely. Writing: xlsxwriter in constant-memory mode (issue 18 item 3, measured
faster than openpyxl write-only), header row frozen, every string stored as a string, and text starting
with = + - @ also quote-prefixed so that no spreadsheet runs it as a formula; a sheet that would pass
1,048,576 rows continues on a second sheet with the same headers.

SEC-6: a text cell with a control character is refused on reading (the rule of names and codes,
bureau.text); on writing, every string is cleaned and every sheet title made valid, so a row stored
before the rule, or a name with : / \\ ? * [ ], still exports.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import xlsxwriter
from django.conf import settings
from openpyxl import load_workbook

from .text import CONTROL_CHARACTER_MESSAGE, clean_for_xml, clean_single_line, has_control_characters


class SpreadsheetError(Exception):
    """The whole file is refused; the message is Chinese and says what to do."""


class CellError(ValueError):
    """One cell is invalid; the message is the Chinese reason."""


@dataclass(frozen=True)
class SheetRows:
    headers: list[str]
    rows: Iterator[tuple[int, dict[str, Any]]]  # (Excel row number, {header: raw value})


def _size_of(fileobj: IO[bytes]) -> int:
    pos = fileobj.tell()
    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(pos)
    return size


def check_xlsx(fileobj: IO[bytes]) -> None:
    """SEC-2: refuse what is too big, not an xlsx, or a zip bomb, before openpyxl sees it."""
    size = _size_of(fileobj)
    if size == 0:
        raise SpreadsheetError("文件为空，请选择填好数据的 xlsx 文件。")
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise SpreadsheetError(f"文件过大（{size / 1048576:.1f} MB），上限为 {limit / 1048576:.0f} MB，请拆分后分批导入。")
    fileobj.seek(0)
    if fileobj.read(4) != b"PK\x03\x04":
        fileobj.seek(0)
        raise SpreadsheetError("文件不是 xlsx 格式，请在 Excel 中“另存为 Excel 工作簿（*.xlsx）”后重新导入。")
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            unpacked = sum(m.file_size for m in members)
            packed = sum(m.compress_size for m in members) or 1
    except zipfile.BadZipFile:
        raise SpreadsheetError("文件已损坏或不是 xlsx 格式，请重新保存后导入。") from None
    finally:
        fileobj.seek(0)
    if "xl/workbook.xml" not in names:
        raise SpreadsheetError("文件不是 xlsx 格式，请在 Excel 中“另存为 Excel 工作簿（*.xlsx）”后重新导入。")
    if unpacked > settings.IMPORT_MAX_UNCOMPRESSED_BYTES or unpacked / packed > settings.IMPORT_MAX_RATIO:
        raise SpreadsheetError("文件解压后异常庞大（疑似压缩炸弹），已拒绝导入。")
    limit = settings.IMPORT_MAX_COLUMNS
    try:
        with zipfile.ZipFile(fileobj) as archive:
            for name in sorted(names):
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    with archive.open(name) as sheet_xml:
                        if _widest_row(sheet_xml, limit) > limit:
                            raise SpreadsheetError(
                                f"表格过宽：有一行超过 {limit} 个单元格。请只保留模板中的列（删除右侧多余的列）后重新导入。"
                            )
    finally:
        fileobj.seek(0)


# A row or a cell element of the sheet XML (<col> elements of <cols> are not cells).
_ROW_OR_CELL = re.compile(rb"<(row|c)[\s>/]")


def _widest_row(stream: IO[bytes], limit: int) -> int:
    """Cells in the widest row of a worksheet's XML, streamed in 1 MB chunks; stops once one passes `limit`
    (openpyxl parses every cell of a row, so a file thousands of cells wide took minutes to read)."""
    widest = current = 0
    tail = b""
    while True:
        chunk = stream.read(1 << 20)
        data = tail + chunk
        keep = len(data) if not chunk else max(0, len(data) - 8)  # a tag cut at the chunk's end waits
        for match in _ROW_OR_CELL.finditer(data):
            if match.start() >= keep:
                break  # counted with the next chunk, which the tail starts
            if match.group(1) == b"row":
                current = 0
            else:
                current += 1
                if current > widest:
                    widest = current
                    if widest > limit:
                        return widest
        tail = data[keep:]
        if not chunk:
            return widest


def read_sheet(fileobj: IO[bytes], *, required: Iterable[str], optional: Iterable[str] = ()) -> SheetRows:
    """Sheet one, header row one; extra columns ignored; blank rows skipped."""
    check_xlsx(fileobj)
    required, optional = list(required), list(optional)
    try:
        workbook = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged package
        raise SpreadsheetError("无法读取该 xlsx 文件，文件可能已损坏，请重新保存后导入。") from None
    if not workbook.worksheets:
        raise SpreadsheetError("文件中没有工作表。")
    sheet = workbook.worksheets[0]
    sheet.reset_dimensions()  # a stale <dimension> element must not cut rows or columns off
    row_iter = sheet.iter_rows(values_only=True)
    header_row = next(row_iter, None)
    if header_row is None or not any(v not in (None, "") for v in header_row):
        workbook.close()
        raise SpreadsheetError("第一个工作表为空：第1行应为表头。")
    headers = [str(v).strip() if v is not None else "" for v in header_row]
    missing = [h for h in required if h not in headers]
    if missing:
        workbook.close()
        raise SpreadsheetError(
            f"表头不符：缺少列 {'、'.join(missing)}。第1行应为：{'、'.join(required + optional)}。"
        )
    wanted = {h: headers.index(h) for h in required + optional if h in headers}
    max_rows = settings.IMPORT_MAX_ROWS
    # Data rows are read only as wide as the columns we use (check_xlsx refused very wide files).
    row_iter = sheet.iter_rows(min_row=2, max_col=max(wanted.values()) + 1, values_only=True)

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for number, values in enumerate(row_iter, start=2):
                if number - 1 > max_rows:
                    raise SpreadsheetError(f"行数超过上限 {max_rows} 行，请拆分后分批导入。")
                if not values or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                    continue
                yield number, {h: (values[i] if i < len(values) else None) for h, i in wanted.items()}
        finally:
            workbook.close()

    return SheetRows(headers=headers, rows=rows())


# --- cell parsers: raw openpyxl value -> clean Python value, or CellError with a Chinese reason ----

_DATE_TEXT = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
# Excel stores a control character as _xHHHH_ (a vertical tab: _x000B_); openpyxl does not decode it.
_EXCEL_ESCAPED_CONTROL = re.compile(r"_x00(?:[01][0-9A-Fa-f]|7[Ff]|[89][0-9A-Fa-f])_")


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_text(value: Any, *, max_length: int | None = None) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        raise CellError("应为文本，不应是日期")
    text = str(value).strip()
    if has_control_characters(text) or _EXCEL_ESCAPED_CONTROL.search(text):
        raise CellError(CONTROL_CHARACTER_MESSAGE)
    if max_length and len(text) > max_length:
        raise CellError(f"过长（最多 {max_length} 个字符）")
    return text


def as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        match = _DATE_TEXT.match(value.strip())
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                raise CellError(f"“{value.strip()}”不是有效日期") from None
    raise CellError(f"“{value}”不是日期，应为日期单元格或 YYYY-MM-DD 文本")


def as_int(value: Any, *, minimum: int | None = 0) -> int:
    if isinstance(value, bool):
        raise CellError("应为整数")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        number = int(value.strip())
    else:
        raise CellError(f"“{value}”不是整数")
    if minimum is not None and number < minimum:
        raise CellError(f"不能小于 {minimum}")
    return number


def as_decimal(value: Any, *, minimum: decimal.Decimal | None = decimal.Decimal(0), places: int = 1) -> decimal.Decimal:
    if isinstance(value, bool):
        raise CellError("应为数字")
    try:
        number = decimal.Decimal(str(value).strip())
    except decimal.InvalidOperation:
        raise CellError(f"“{value}”不是数字") from None
    if not number.is_finite():
        raise CellError(f"“{value}”不是数字")
    if minimum is not None and number < minimum:
        raise CellError(f"不能小于 {minimum}")
    return number.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)


def as_choice(value: Any, choices: Iterable[str]) -> str:
    text = as_text(value)
    allowed = list(choices)
    if text not in allowed:
        raise CellError(f"“{text}”不是允许的值，应为：{'、'.join(allowed)}")
    return text


def as_yes_no(value: Any) -> bool:
    text = as_text(value)
    if text == "是":
        return True
    if text == "否":
        return False
    raise CellError(f"“{text}”应为 是 或 否")


# --- writer ---------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@")


_TITLE_FORBIDDEN = re.compile(r"[:/\\?*\[\]]")
_TITLE_MAX = 31  # Excel's limit, counted in UTF-16 code units
_TITLE_RESERVED = {"history"}  # Excel keeps this name for itself


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> str:
    while _utf16_len(text) > limit:
        text = text[:-1]
    return text


def sheet_title(text: str, *, taken: Iterable[str] = (), fallback: str = "工作表") -> str:
    """A valid, unique sheet title from any text (SEC-6): no control characters and none of
    : / \\ ? * [ ], no apostrophe at either end, at most 31 characters, not blank, not "History",
    and different (ignoring case, as Excel compares) from the titles already `taken`."""
    title = _TITLE_FORBIDDEN.sub("", clean_single_line(str(text)))
    title = _cut(title.strip().strip("'").strip(), _TITLE_MAX).strip().strip("'").strip()
    if not title or title.lower() in _TITLE_RESERVED:
        title = fallback
    used = {t.lower() for t in taken}
    candidate, number = title, 1
    while candidate.lower() in used:
        number += 1
        suffix = f"({number})"
        candidate = _cut(title, _TITLE_MAX - len(suffix)).rstrip().rstrip("'") + suffix
    return candidate


@dataclass
class SheetSpec:
    title: str
    headers: list[str]
    rows: Iterable[Iterable[Any]]
    date_columns: tuple[int, ...] = ()
    widths: dict[int, float] | None = None
    # Columns holding shares (0.7797…): written as numbers with a percent format (issue 17).
    percent_columns: tuple[int, ...] = ()


class Percent(float):
    """A share written as a number with a percent format (0.78 shows 78.0%), for one cell where the
    column is not all shares (the 汇总 sheet's 指标/数值 rows). None stays an empty cell."""


PERCENT_FORMAT = "0.0%"


@dataclass(frozen=True)
class About:
    """The 说明 sheet a workbook ends with (issue 17): what the file is, for which year and scope, made
    when and by whom, and notes. The data sheets keep their SPEC §7 layout (header row one)."""

    title: str
    year: int | None = None
    scope: str = ""
    by: Any = None  # a user, a name, or None (系统)
    notes: tuple[str, ...] = ()

    def rows(self) -> list[list[Any]]:
        from django.utils import timezone

        by = self.by
        if by is not None and not isinstance(by, str):
            by = (by.get_full_name() or by.get_username()) if hasattr(by, "get_username") else str(by)
        out = [["文件", self.title]]
        if self.year is not None:
            out.append(["年度", self.year])
        if self.scope:
            out.append(["范围", self.scope])
        out.append(["生成时间", timezone.localtime().replace(tzinfo=None, microsecond=0)])
        out.append(["生成人", by or "系统"])
        out.extend(["说明", note] for note in self.notes)
        return out


def about_sheet(about: About) -> SheetSpec:
    return SheetSpec("说明", ["项目", "内容"], about.rows(), widths={0: 12, 1: 80})


def write_workbook(target, sheets: Iterable[SheetSpec], *, about: About | None = None,
                   progress: Callable[[int], None] | None = None, progress_every: int = 2000) -> None:
    """Write sheets in constant memory (StreamingWorkbook): rows are consumed as they come.
    `progress(rows written so far)` is called every `progress_every` rows (a background export's bar).

    Whatever happens, every sheet's rows are closed when the writer stops, so rows streamed from a
    database cursor (the compliance run's teachers) release it at once after a failure, not whenever the
    generator happens to be collected."""
    writer = StreamingWorkbook()
    started: list[SheetSpec] = []
    written = 0
    try:
        for spec in sheets:
            started.append(spec)
            sheet = writer.sheet(spec)
            for row in spec.rows:
                sheet.append(row)
                if progress is not None:
                    written += 1
                    if written % progress_every == 0:
                        progress(written)
        if about is not None:
            writer.about(about)
        writer.save(target)
    finally:
        for spec in started:
            close = getattr(spec.rows, "close", None)
            if close is not None:
                close()


class StreamingWorkbook:
    """A constant-memory workbook (xlsxwriter, `constant_memory`: each sheet streams to its own temporary
    file) whose sheets may be filled in any order: the compliance workbook writes its teacher sheet first
    and the roll-ups it summed on the way after, in sheets made before it, so the ledger is read once.
    `SheetSpec.rows` is not read here. Every string is written as a string (never a formula, number or
    link); text starting with = + - @ also carries Excel's quote prefix (issue 18 item 3: xlsxwriter was
    measured faster than openpyxl write-only, docs/decisions.md).

    A sheet that would pass Excel's 1,048,576 rows continues on a new sheet with the same headers (and
    widths and formats), titled like the first with (2), (3)… (issue 18 item 3)."""

    MAX_ROWS = 1_048_576  # Excel's limit per sheet, header row included

    def __init__(self):
        self._target = io.BytesIO()  # replaced by the real target in save()
        self.workbook = xlsxwriter.Workbook(self._target, {
            "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
            "strings_to_urls": False, "nan_inf_to_errors": True,
        })
        add = self.workbook.add_format
        self.bold = add({"bold": True})
        self.formats = {"date": add({"num_format": "yyyy-mm-dd"}), "datetime": add({"num_format": "yyyy-mm-dd h:mm:ss"}),
                        "time": add({"num_format": "h:mm:ss"}),
                        "duration": add({"num_format": "[hh]:mm:ss"}), "percent": add({"num_format": PERCENT_FORMAT}),
                        "stamp": add({"num_format": "yyyy-mm-dd hh:mm"}), "quoted": add({"quote_prefix": True})}
        self.titles: list[str] = []

    def _new_sheet(self, spec: SheetSpec):
        # Titles are cleaned here, not by callers, so that none can forget (SEC-6).
        title = sheet_title(spec.title, taken=self.titles)
        self.titles.append(title)
        sheet = self.workbook.add_worksheet(title)
        sheet.freeze_panes(1, 0)
        for index, header in enumerate(spec.headers):
            sheet.set_column(index, index, (spec.widths or {}).get(index, max(10, 2.2 * len(header) + 2)))
            sheet.write_string(0, index, clean_for_xml(str(header)), self.bold)
        return sheet

    def sheet(self, spec: SheetSpec) -> StreamingSheet:
        return StreamingSheet(self._new_sheet(spec), set(spec.date_columns), set(spec.percent_columns),
                              book=self, spec=spec)

    def about(self, about: About) -> None:
        """The closing 说明 sheet (About)."""
        sheet = self.sheet(about_sheet(about))
        sheet.limit = float("inf")  # a few rows: never continued
        for label, value in about.rows():
            sheet.append([label, value], stamp=True)

    def save(self, target) -> None:
        self.workbook.filename = target  # a path or a binary file; the sheets' temporary files are zipped into it
        self.workbook.close()


_NUMBER = (int, float, decimal.Decimal)


class StreamingSheet:
    def __init__(self, sheet, date_columns: set[int], percent_columns: set[int] = frozenset(), *,
                 book: StreamingWorkbook, spec: SheetSpec):
        self.sheet = sheet
        self.date_columns = date_columns
        self.percent_columns = percent_columns
        self.book, self.spec = book, spec
        self.formats = book.formats
        self.row = 0  # the header row
        self.limit = book.MAX_ROWS

    def append(self, row: Iterable[Any], *, stamp: bool = False) -> None:
        self.row += 1
        if self.row >= self.limit:  # this sheet is full: continue on a new one, same headers
            self.sheet = self.book._new_sheet(self.spec)
            self.row = 1
        sheet, number, formats = self.sheet, self.row, self.formats
        for index, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                value = clean_for_xml(value)
                if "\r" in value:  # xlsxwriter would store it as _x000D_; an XML reader turned \r\n into \n anyway
                    value = value.replace("\r\n", "\n").replace("\r", "\n")
                if value.startswith(_FORMULA_START):
                    sheet.write_string(number, index, value, formats["quoted"])
                elif value:
                    sheet.write_string(number, index, value)
            elif isinstance(value, bool):
                sheet.write_boolean(number, index, value)
            elif isinstance(value, Percent) or (index in self.percent_columns and isinstance(value, _NUMBER)):
                sheet.write_number(number, index, float(value), formats["percent"])
            elif isinstance(value, _NUMBER):
                sheet.write_number(number, index, float(value) if isinstance(value, decimal.Decimal) else value)
            elif isinstance(value, dt.datetime):
                fmt = "stamp" if stamp else "date" if index in self.date_columns else "datetime"
                sheet.write_datetime(number, index, value, formats[fmt])
            elif isinstance(value, dt.date):
                sheet.write_datetime(number, index, value, formats["date"])
            elif isinstance(value, dt.time):
                sheet.write_datetime(number, index, value, formats["time"])
            elif isinstance(value, dt.timedelta):
                sheet.write_datetime(number, index, value, formats["duration"])
            else:  # as openpyxl did: an unknown type is a bug of the caller, not a cell
                raise ValueError(f"Cannot convert {type(value).__name__} to Excel")


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(buffer, filename: str):
    """A written workbook as a download. SEC-6: the name may carry a stored value (a staff number), and
    no HTTP header may hold a control character."""
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, clean_single_line(filename))
    return response
