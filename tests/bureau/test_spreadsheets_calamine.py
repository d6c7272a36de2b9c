"""Issue 18 item 1: imports read with python-calamine. The values the cell parsers see are those openpyxl
gave (bureau.spreadsheets.cell_value), and the archive is inspected before calamine opens it (SEC-2)."""

import datetime as dt
import io
import re
import secrets
import time
import zipfile

import pytest
from openpyxl import Workbook

from bureau.imports import _id_number
from bureau.spreadsheets import (
    CellError,
    SpreadsheetError,
    as_date,
    as_int,
    as_text,
    cell_value,
    check_xlsx,
    read_sheet,
)
from tests.xlsx import xlsx_bytes

HEADERS = ["整数", "小数", "日期", "文本日期", "空", "布尔", "身份证号", "时间"]
ID_NUMBER = "110101199003070011"


def read(headers, rows, **kwargs):
    sheet = read_sheet(xlsx_bytes(headers, rows), required=headers, **kwargs)
    return sheet.headers, list(sheet.rows)


def test_cell_values_are_those_openpyxl_gave():
    _, rows = read(HEADERS, [[1, 1.5, dt.date(2026, 3, 1), "2026-03-01", None, True, ID_NUMBER,
                              dt.datetime(2026, 3, 1, 10, 30)]])
    ((number, row),) = rows
    assert number == 2
    assert row["整数"] == 1 and type(row["整数"]) is int  # calamine reads 1.0
    assert row["小数"] == 1.5 and type(row["小数"]) is float
    assert row["日期"] == dt.date(2026, 3, 1)
    assert row["文本日期"] == "2026-03-01" and as_date(row["文本日期"]) == dt.date(2026, 3, 1)
    assert row["空"] is None  # calamine reads ""
    assert row["布尔"] is True
    assert row["身份证号"] == ID_NUMBER and _id_number(row["身份证号"]) == ID_NUMBER
    assert row["时间"] == dt.datetime(2026, 3, 1, 10, 30) and as_date(row["时间"]) == dt.date(2026, 3, 1)


def test_text_that_looks_like_a_number_stays_text():
    _, ((_, row),) = read(["工号", "编号"], [["007", "12.50"]])
    assert row == {"工号": "007", "编号": "12.50"}
    assert as_text(row["工号"]) == "007"


def test_whole_numbers_become_ints_and_text_as_before():
    _, ((_, row),) = read(["工号", "名额", "负数"], [[12345, 30.0, -3]])
    assert as_text(row["工号"]) == "12345"  # not "12345.0"
    assert as_int(row["名额"]) == 30 and type(row["名额"]) is int
    assert row["负数"] == -3


def test_an_id_number_stored_as_a_number_is_still_refused():
    """Beyond 2**53 a double has lost digits: calamine's float stays a float and the import refuses it,
    whether Excel stored 1.1010119900307E+17 or a program stored all 18 digits (calamine reads a double)."""
    _, rows = read(["身份证号"], [[int(ID_NUMBER)], [110101199003070011.0]])
    for _, row in rows:
        assert type(row["身份证号"]) is float
        with pytest.raises(CellError, match="应以文本格式填写"):
            _id_number(row["身份证号"])
    assert cell_value(2.0**53 - 1) == 2**53 - 1 and cell_value(2.0**53) == 2.0**53


def test_cell_value_edges():
    assert cell_value("") is None
    assert cell_value(" ") == " "  # blank text is blank (is_blank), not None, as with openpyxl
    assert cell_value(0.0) == 0 and type(cell_value(0.0)) is int
    assert cell_value(-0.5) == -0.5
    assert cell_value(False) is False
    assert cell_value(dt.date(2026, 1, 1)) == dt.date(2026, 1, 1)


def test_blank_rows_are_skipped_and_rows_keep_their_excel_numbers():
    _, rows = read(["工号"], [["A1"], [None], ["  "], ["A4"]])
    assert [(n, r["工号"]) for n, r in rows] == [(2, "A1"), (5, "A4")]


def test_header_row_must_be_row_one():
    buffer = io.BytesIO()
    book = Workbook()
    book.active["B3"] = "工号"
    book.active["B4"] = "A1"
    book.save(buffer)
    buffer.seek(0)
    with pytest.raises(SpreadsheetError, match="第一个工作表为空"):
        read_sheet(buffer, required=["工号"])


def test_headers_may_start_after_column_a():
    book = Workbook()
    sheet = book.active
    sheet["B1"], sheet["C1"] = "工号", "姓名"
    sheet["B2"], sheet["C2"] = "A1", "张三"
    sheet["C4"] = "李四"
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    result = read_sheet(buffer, required=["姓名", "工号"])
    assert result.headers == ["", "工号", "姓名"]
    assert list(result.rows) == [(2, {"姓名": "张三", "工号": "A1"}), (4, {"姓名": "李四", "工号": None})]


def test_extra_columns_and_short_rows():
    _, rows = read(["工号", "姓名"], [["A1"]])
    assert rows == [(2, {"工号": "A1", "姓名": None})]


# --- SEC-2: the archive is inspected before calamine opens it -------------------------------------------


def rewrite(content: io.BytesIO, name: str, change) -> io.BytesIO:
    """The same xlsx with one part changed (or added) by `change(old bytes) -> new bytes`."""
    out = io.BytesIO()
    with zipfile.ZipFile(content) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        names = source.namelist()
        for item in names:
            data = source.read(item)
            target.writestr(item, change(data) if item == name else data)
        if name not in names:
            target.writestr(name, change(b""))
    out.seek(0)
    return out


def school_file():
    return xlsx_bytes(["工号", "姓名"], [["A1", "张三"]])


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "[Content_Types].xml",
                                  "xl/_rels/workbook.xml.rels"])
def test_entity_declarations_are_refused_in_any_xml_part(part):
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>\n')

    def add_dtd(data):
        return bomb + re.sub(rb"^<\?xml[^>]*\?>\s*", b"", data)

    with pytest.raises(SpreadsheetError, match="实体声明"):
        read_sheet(rewrite(school_file(), part, add_dtd), required=["工号"])


def test_an_entity_split_across_chunks_is_found():
    """The scan reads 1 MB chunks cut before the last "<": a declaration across the cut is still found."""
    def add(data):
        start = data.index(b"<sheetData>") + len(b"<sheetData>")
        filler = (1 << 20) - 3 - start - len(b'<x a=""/>')  # "<!E" ends the first megabyte
        return data[:start] + b'<x a="' + secrets.token_hex(filler)[:filler].encode() + b'"/><!ENTITY a "b">' + data[start:]

    content = rewrite(school_file(), "xl/worksheets/sheet1.xml", add)
    with zipfile.ZipFile(content) as archive:
        assert archive.read("xl/worksheets/sheet1.xml")[(1 << 20) - 3:(1 << 20)] == b"<!E"
    content.seek(0)
    with pytest.raises(SpreadsheetError, match="实体声明"):
        check_xlsx(content)


def test_a_position_hidden_behind_a_quoted_angle_bracket_is_found():
    """An attribute value may hold ">": the cell's r="…" after it is still read (calamine reads it)."""
    def far(data):
        return data.replace(b"</sheetData>", b'<row r="3"><c foo=">" r="XFD3"><v>1</v></c></row></sheetData>')

    with pytest.raises(SpreadsheetError, match="表格过宽"):
        check_xlsx(rewrite(school_file(), "xl/worksheets/sheet1.xml", far))


def test_too_many_entries(settings):
    settings.IMPORT_MAX_ENTRIES = 12
    content = school_file()
    out = io.BytesIO()
    with zipfile.ZipFile(content) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.namelist():
            target.writestr(item, source.read(item))
        for i in range(20):
            target.writestr(f"docProps/extra{i}.txt", "x")
    out.seek(0)
    with pytest.raises(SpreadsheetError, match="压缩炸弹"):
        check_xlsx(out)


def test_a_far_away_cell_is_refused_before_calamine_allocates_the_grid():
    """A1 and XFD1048576 alone: a 17-billion-cell grid for calamine. Refused at once from the XML."""
    def far(data):
        return data.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c>'
                                              b"</row></sheetData>")

    started = time.perf_counter()
    with pytest.raises(SpreadsheetError, match="表格过宽"):
        read_sheet(rewrite(school_file(), "xl/worksheets/sheet1.xml", far), required=["工号"])
    assert time.perf_counter() - started < 2


def test_a_cell_far_down_is_refused(settings):
    settings.IMPORT_MAX_ROWS = 1000

    def far(data):
        return data.replace(b"</sheetData>", b'<row r="5"><c r="A1002"><v>1</v></c></row></sheetData>')

    with pytest.raises(SpreadsheetError, match="行数超过上限 1000 行"):
        read_sheet(rewrite(school_file(), "xl/worksheets/sheet1.xml", far), required=["工号"])


def test_the_grid_is_limited_in_cells(settings):
    settings.IMPORT_MAX_CELLS = 100
    with pytest.raises(SpreadsheetError, match="表格过大：从 A1 到最后一个单元格共 51 行 × 2 列"):
        read_sheet(xlsx_bytes(["工号", "姓名"], [["A", "B"]] * 50), required=["工号"])
    settings.IMPORT_MAX_CELLS = 102
    assert len(list(read_sheet(xlsx_bytes(["工号", "姓名"], [["A", "B"]] * 50), required=["工号"]).rows)) == 50


def test_cells_without_positions_are_counted(settings):
    """Cells that state no r="…" follow the one before (calamine places them so): counted all the same."""
    settings.IMPORT_MAX_COLUMNS = 5
    cells = b"".join(b"<c><v>1</v></c>" for _ in range(6))

    def wide(data):
        return data.replace(b"</sheetData>", b'<row r="3">' + cells + b"</row></sheetData>")

    with pytest.raises(SpreadsheetError, match="表格过宽"):
        check_xlsx(rewrite(school_file(), "xl/worksheets/sheet1.xml", wide))


def test_prefixed_cells_are_counted(settings):
    settings.IMPORT_MAX_COLUMNS = 5
    cells = b"".join(b'<x:c r="%s3"><x:v>1</x:v></x:c>' % bytes([65 + i]) for i in range(6))

    def wide(data):
        return data.replace(b"</sheetData>", b'<x:row r="3">' + cells + b"</x:row></sheetData>")

    with pytest.raises(SpreadsheetError, match="表格过宽"):
        check_xlsx(rewrite(school_file(), "xl/worksheets/sheet1.xml", wide))


def test_a_cached_formula_value_is_read_and_the_formula_never_run():
    """calamine returns the value Excel cached, as openpyxl data_only did; a formula without one is empty."""
    def formulas(data):
        return data.replace(b"</sheetData>", b'<row r="3"><c r="A3" t="str"><f>CONCAT("A","9")</f><v>cached</v></c>'
                                              b'<c r="B3"><f>1+1</f></c></row></sheetData>')

    sheet = read_sheet(rewrite(school_file(), "xl/worksheets/sheet1.xml", formulas), required=["工号", "姓名"])
    assert list(sheet.rows) == [(2, {"工号": "A1", "姓名": "张三"}), (3, {"工号": "cached", "姓名": None})]


def test_a_damaged_sheet_is_one_clear_error():
    def damage(data):
        return data.replace(b"</sheetData>", b"<row><c r=")

    with pytest.raises(SpreadsheetError, match="损坏"):
        read_sheet(rewrite(school_file(), "xl/worksheets/sheet1.xml", damage), required=["工号"])
