"""The shared spreadsheet reader and writer behind every import and export (SPEC §7, SEC-2).

Reading: size limit, xlsx only (checked from the content), then the archive inspected before any reader
opens it (entries, size, compression ratio, no DTD or entity declaration in any XML part, sheet width and
grid size), then python-calamine (SEC-2 amended, PERF-3): cached values only, no formula is evaluated;
`cell_value` gives the rest of the code the values openpyxl gave. Writing: xlsxwriter in constant-memory
mode (issue 18 item 3, measured faster than openpyxl write-only), header row frozen, every string stored as
a string, and text starting with = + - @ also quote-prefixed so that no spreadsheet runs it as a formula; a
sheet that would pass 1,048,576 rows continues on a second sheet with the same headers.

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
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import IO, Any

import xlsxwriter
from django.conf import settings
from python_calamine import CalamineWorkbook

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
    """SEC-2: refuse what is too big, not an xlsx, a zip bomb, XML with entity declarations, or a sheet
    too wide or too large, before any reader opens it (calamine builds a dense grid from the first to the
    last cell of a sheet, so a file with cells at A1 and XFD1048576 would ask for billions of cells)."""
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
    if (len(members) > settings.IMPORT_MAX_ENTRIES or unpacked > settings.IMPORT_MAX_UNCOMPRESSED_BYTES
            or unpacked / packed > settings.IMPORT_MAX_RATIO):
        raise SpreadsheetError("文件解压后异常庞大（疑似压缩炸弹），已拒绝导入。")
    try:
        with zipfile.ZipFile(fileobj) as archive:
            for name in sorted(names):
                if not name.lower().endswith(_XML_PARTS):
                    continue
                worksheet = name.startswith("xl/worksheets/") and name.endswith(".xml")
                try:
                    with archive.open(name) as part:
                        _scan_part(part, worksheet=worksheet)
                except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError):
                    raise SpreadsheetError("文件已损坏或不是 xlsx 格式，请重新保存后导入。") from None
    finally:
        fileobj.seek(0)


_XML_PARTS = (".xml", ".rels", ".vml")
# <!DOCTYPE or <!ENTITY anywhere in an XML part: no xlsx needs a DTD, and an entity may expand to gigabytes.
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
# A row or a cell element of the sheet XML, namespace prefix allowed (<col> elements are not cells).
_ROW_OR_CELL = re.compile(rb"<(?:[\w.-]+:)?(row|c)[\s>/]")
# The position a cell states: <c r="AB12" …> (any attribute order). Longer letters or digits than
# Excel allows are caught too (and refused below).
# Quoted attribute values are skipped whole (they may hold ">" or r="…" text).
_ATTRIBUTES = rb"(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(?<=\s)r\s*=\s*[\"']"
_CELL_REF = re.compile(rb"<(?:[\w.-]+:)?c\s" + _ATTRIBUTES + rb"([A-Za-z]+)(\d+)[\"']")
_ROW_REF = re.compile(rb"<(?:[\w.-]+:)?row\s" + _ATTRIBUTES + rb"(\d+)[\"']")
# The form Excel, LibreOffice and openpyxl write: r="…" first. (b"", b"") for a cell written otherwise.
_CELL_FAST = re.compile(rb'<c(?:\s+r="([A-Z]{1,3})(\d{1,7})")?[\s>/]')
_ROW_FAST = re.compile(rb'<row(?:\s+r="(\d{1,7})")?[\s>/]')
_PREFIXED = re.compile(rb"<[^\s<>/!?:]+:(?:c|row)[\s>/]")
_FIRST, _SECOND = itemgetter(0), itemgetter(1)
_MAX_TAG = 1 << 20  # no sane tag is a megabyte long


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def _scan_part(stream: IO[bytes], *, worksheet: bool) -> None:
    """One XML part streamed in 1 MB chunks, each cut before its last "<": no entity declarations; in a
    worksheet, no row wider than IMPORT_MAX_COLUMNS cells (counted and by position) and no grid (first
    row/column to the last a cell names) above IMPORT_MAX_ROWS rows or IMPORT_MAX_CELLS cells."""
    wide = settings.IMPORT_MAX_COLUMNS
    too_wide = SpreadsheetError(
        f"表格过宽：有一行超过 {wide} 个单元格。请只保留模板中的列（删除右侧多余的列）后重新导入。")
    widest = current = 0
    rows = rows_with_ref = cells = cells_with_ref = 0
    max_row = max_column = 0
    tail = b""
    while True:
        chunk = stream.read(1 << 20)
        data = tail + chunk
        # Cut before the last "<": every tag (and <!DOCTYPE) before it is whole; the rest waits for the next chunk.
        keep = len(data) if not chunk else data.rfind(b"<")
        if keep < 0:  # text only: no tag starts in it
            keep = len(data)
        block, tail = data[:keep], data[keep:]
        if len(tail) > _MAX_TAG:
            raise SpreadsheetError("文件已损坏或不是 xlsx 格式，请重新保存后导入。")
        if _DTD.search(block):
            raise SpreadsheetError("文件中含有 XML 实体声明（DOCTYPE/ENTITY），已拒绝导入。请在 Excel 中重新保存后导入。")
        if worksheet and block:
            prefixed = (b":c" in block or b":row" in block) and _PREFIXED.search(block) is not None
            if not prefixed:  # the fast path: every cell starts <c r="A1"
                refs = _CELL_FAST.findall(block)
                if refs and (b"", b"") not in refs:
                    max_column = max(max_column, max(map(_column_number, set(map(_FIRST, refs)))))
                    max_row = max(max_row, max(map(int, map(_SECOND, refs))))
                    cells += len(refs)
                    cells_with_ref += len(refs)
                    row_refs = _ROW_FAST.findall(block)
                    rows += len(row_refs)
                    row_refs = [r for r in row_refs if r]
                    rows_with_ref += len(row_refs)
                    if row_refs:
                        max_row = max(max_row, max(map(int, row_refs)))
                    if not chunk:
                        break
                    continue
            # Any other form (attributes in another order, prefixes, cells without a position): tag by tag.
            for match in _ROW_OR_CELL.finditer(block):
                if match.group(1) == b"row":
                    current = 0
                    rows += 1
                else:
                    current += 1
                    cells += 1
                    if current > widest:
                        widest = current
                        if widest > wide:
                            raise too_wide
            refs = _CELL_REF.findall(block)
            if refs:
                cells_with_ref += len(refs)
                max_column = max(max_column, max(map(_column_number, set(map(_FIRST, refs)))))
                max_row = max(max_row, max(map(int, map(_SECOND, refs))))
            row_refs = _ROW_REF.findall(block)
            if row_refs:
                rows_with_ref += len(row_refs)
                max_row = max(max_row, max(map(int, row_refs)))
        if not chunk:
            break
    if not worksheet:
        return
    # Rows and cells that state no position follow the one before: counted on top, to be safe.
    last_row = max_row + (rows - rows_with_ref)
    last_column = max_column + (widest if cells > cells_with_ref else 0)
    if last_column > wide:
        raise too_wide
    if last_row - 1 > settings.IMPORT_MAX_ROWS:
        raise SpreadsheetError(f"行数超过上限 {settings.IMPORT_MAX_ROWS} 行，请拆分后分批导入。")
    if last_row * last_column > settings.IMPORT_MAX_CELLS:
        raise SpreadsheetError(
            f"表格过大：从 A1 到最后一个单元格共 {last_row} 行 × {last_column} 列，超过 {settings.IMPORT_MAX_CELLS} "
            "个单元格。请删除多余的行和列（包括只有格式的空单元格）或拆分后分批导入。")


def read_sheet(fileobj: IO[bytes], *, required: Iterable[str], optional: Iterable[str] = ()) -> SheetRows:
    """Sheet one, header row one; extra columns ignored; blank rows skipped.

    Read with python-calamine (SEC-2 amended) once check_xlsx has passed: cached values only (a formula is
    never evaluated), values adapted by `cell_value` to what openpyxl gave before."""
    check_xlsx(fileobj)
    required, optional = list(required), list(optional)
    try:
        workbook = CalamineWorkbook.from_filelike(fileobj)
        if not workbook.sheet_names:
            raise SpreadsheetError("文件中没有工作表。")
        sheet = workbook.get_sheet_by_index(0)
        row_iter = sheet.iter_rows()  # from the first non-empty row and column (sheet.start)
    except SpreadsheetError:
        raise
    except Exception:  # calamine raises several kinds on a damaged package
        raise SpreadsheetError("无法读取该 xlsx 文件，文件可能已损坏，请重新保存后导入。") from None
    finally:
        fileobj.seek(0)
    first_row, first_column = sheet.start or (0, 0)  # 0-based
    header_row = next(row_iter, None) if first_row == 0 else None
    if header_row is None or not any(v != "" for v in header_row):
        raise SpreadsheetError("第一个工作表为空：第1行应为表头。")
    headers = [""] * first_column + [str(cell_value(v) if v != "" else "").strip() for v in header_row]
    missing = [h for h in required if h not in headers]
    if missing:
        raise SpreadsheetError(
            f"表头不符：缺少列 {'、'.join(missing)}。第1行应为：{'、'.join(required + optional)}。"
        )
    # Positions in calamine's rows, which start at the first non-empty column.
    wanted = [(h, headers.index(h) - first_column) for h in required + optional if h in headers]
    max_rows = settings.IMPORT_MAX_ROWS
    convert = cell_value

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for number, values in enumerate(row_iter, start=2):
            if number - 1 > max_rows:
                raise SpreadsheetError(f"行数超过上限 {max_rows} 行，请拆分后分批导入。")
            if all(v == "" or (v.__class__ is str and not v.strip()) for v in values):
                continue
            width = len(values)
            out = {}
            for header, i in wanted:
                value = values[i] if i < width else ""
                # Most cells are text: kept as they are without a call (cell_value is the rule).
                out[header] = (value or None) if value.__class__ is str else convert(value)
            yield number, out

    return SheetRows(headers=headers, rows=rows())


_EXACT_FLOAT = 2**53  # every integer below it is exact in a double


def cell_value(value: Any) -> Any:
    """A calamine value as openpyxl gave it, so that the cell parsers and the `第N行 列名: reason` messages
    stay as they were: an empty cell is None (not ""); a whole number is an int (calamine reads every
    number as a float) unless it is beyond 2**53, where the float has lost digits and stays a float (a
    身份证号 stored as a number is refused as before); dates stay dates (datetime.date, or datetime.datetime
    with a time), text stays text (a number stored as text is not converted), booleans stay booleans."""
    if value.__class__ is float:
        if value.is_integer() and -_EXACT_FLOAT < value < _EXACT_FLOAT:
            return int(value)
        return value
    if value == "" and value.__class__ is str:
        return None
    return value


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
