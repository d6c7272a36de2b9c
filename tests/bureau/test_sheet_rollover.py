"""A sheet that would pass Excel's 1,048,576 rows continues on a second sheet with the same headers
(issue 18 item 3, bureau.spreadsheets.StreamingWorkbook)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from openpyxl import load_workbook

from bureau.spreadsheets import About, Percent, SheetSpec, StreamingWorkbook, write_workbook


def test_a_full_sheet_continues_with_the_same_headers_and_formats(monkeypatch):
    monkeypatch.setattr(StreamingWorkbook, "MAX_ROWS", 4)  # the header and three rows per sheet
    rows = [[dt.date(2026, 1, n), f"=cmd{n}", 0.5 + n / 100, Percent(0.25)] for n in range(1, 8)]
    buffer = io.BytesIO()
    write_workbook(buffer, [SheetSpec("学分登记", ["日期", "说明", "比例", "份额"], rows, date_columns=(0,),
                                      percent_columns=(2,), widths={1: 40})],
                   about=About("学分登记明细", year=2026))
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["学分登记", "学分登记(2)", "学分登记(3)", "说明"]
    seen = []
    for title, count in (("学分登记", 3), ("学分登记(2)", 3), ("学分登记(3)", 1)):
        sheet = book[title]
        values = list(sheet.iter_rows(values_only=True))
        assert values[0] == ("日期", "说明", "比例", "份额") and len(values) == count + 1, title
        assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
        assert 40 <= sheet.column_dimensions["B"].width < 41  # xlsxwriter stores the width with its padding
        first = sheet["A2"], sheet["B2"], sheet["C2"], sheet["D2"]
        assert first[0].number_format == "yyyy-mm-dd" and first[1].data_type == "s" and first[1].quotePrefix
        assert first[2].number_format == first[3].number_format == "0.0%"
        seen += [r[1] for r in values[1:]]
    assert seen == [f"=cmd{n}" for n in range(1, 8)]  # every row once, in order


def test_a_sheet_of_exactly_the_limit_makes_no_second_sheet(monkeypatch):
    monkeypatch.setattr(StreamingWorkbook, "MAX_ROWS", 4)
    buffer = io.BytesIO()
    write_workbook(buffer, [SheetSpec("教师", ["工号"], [[n] for n in range(3)])])
    assert load_workbook(io.BytesIO(buffer.getvalue())).sheetnames == ["教师"]
    buffer = io.BytesIO()
    write_workbook(buffer, [SheetSpec("教师", ["工号"], [[n] for n in range(4)])])
    assert load_workbook(io.BytesIO(buffer.getvalue())).sheetnames == ["教师", "教师(2)"]


def _rows_of(archive: zipfile.ZipFile, name: str) -> tuple[int, bytes]:
    """</row> tags of a sheet's XML, counted streaming (a tag cut by a chunk's end is found with the
    5 bytes kept: no 6-byte tag fits in them twice), and the start of the sheet."""
    count, head, tail = 0, b"", b""
    with archive.open(name) as stream:
        while chunk := stream.read(1 << 20):
            if len(head) < 4096:
                head += chunk[:4096]
            data = tail + chunk
            count += data.count(b"</row>")
            tail = data[-5:]
    return count, head


def test_a_1100000_row_export_continues_on_a_second_sheet(tmp_path):
    """At Excel's real limit, a narrow ledger-shaped sheet (two columns): about 10 s."""
    path = tmp_path / "big.xlsx"
    write_workbook(path, [SheetSpec("学分登记", ["工号", "学分"], ([f"T{n:07d}", 1.0] for n in range(1_100_000)))])
    with zipfile.ZipFile(path) as archive:
        book = archive.read("xl/workbook.xml").decode()
        assert re.findall(r'<sheet [^>]*name="([^"]+)"', book) == ["学分登记", "学分登记(2)"]
        first, head1 = _rows_of(archive, "xl/worksheets/sheet1.xml")
        second, head2 = _rows_of(archive, "xl/worksheets/sheet2.xml")
    assert first == 1_048_576  # the header and 1,048,575 rows
    assert second == 1 + 1_100_000 - 1_048_575
    for head in (head1, head2):  # both frozen under the header row
        assert b'state="frozen"' in head
    book = load_workbook(path, read_only=True)
    try:
        for title, first_staff_no in (("学分登记", "T0000000"), ("学分登记(2)", "T1048575")):
            assert list(book[title].iter_rows(max_row=2, values_only=True)) == [("工号", "学分"), (first_staff_no, 1)]
    finally:
        book.close()
