"""SEC-2 and SPEC §7: a bad file gets one clear error and nothing is written."""

import io
import zipfile

import pytest
from django.core.management import CommandError, call_command

from bureau.models import AuditEntry, School
from tests.xlsx import SCHOOL_HEADERS, xlsx_bytes


def call_import(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    call_command("import_schools", str(path))


def refused(tmp_path, name, content, message):
    with pytest.raises(CommandError, match=message):
        call_import(tmp_path, name, content)
    assert School.objects.count() == 0 and AuditEntry.objects.count() == 0


def test_empty_file(db, tmp_path):
    refused(tmp_path, "schools.xlsx", b"", "文件为空")


def test_csv_renamed_to_xlsx(db, tmp_path):
    refused(tmp_path, "schools.xlsx", "学校代码,学校名称\nS1,一小\n".encode(), "不是 xlsx 格式")


def test_other_zip_renamed_to_xlsx(db, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    refused(tmp_path, "schools.xlsx", buffer.getvalue(), "不是 xlsx 格式")


def test_truncated_xlsx(db, tmp_path):
    content = xlsx_bytes(SCHOOL_HEADERS, [["S1", "一小", "城东区", "小学", "城区", "否", "", 10]]).getvalue()
    refused(tmp_path, "schools.xlsx", content[: len(content) // 2], "损坏")


def test_zip_bomb(db, tmp_path, settings):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))
    refused(tmp_path, "schools.xlsx", buffer.getvalue(), "压缩炸弹")


def test_fifty_megabytes(db, tmp_path):
    refused(tmp_path, "schools.xlsx", b"PK\x03\x04" + b"\0" * (50 * 1024 * 1024), "文件过大")


def test_header_row_empty(db, tmp_path):
    refused(tmp_path, "schools.xlsx", xlsx_bytes(None, []).getvalue(), "第一个工作表为空")


def test_wrong_headers(db, tmp_path):
    content = xlsx_bytes(["代码", "名称"], [["S1", "一小"]]).getvalue()
    refused(tmp_path, "schools.xlsx", content, "表头不符：缺少列 学校代码、学校名称、区县、学段、城乡类型、薄弱学校")


def test_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("import_schools", str(tmp_path / "none.xlsx"))


def test_formulas_are_not_evaluated(db, tmp_path):
    """A formula cell is read as its cached value (none when Excel never computed it): never run."""
    content = xlsx_bytes(SCHOOL_HEADERS, [["S1", "=1+1", "城东区", "小学", "城区", "否", "", 10]]).getvalue()
    with pytest.raises(CommandError, match="存在 1 行错误"):
        call_import(tmp_path, "schools.xlsx", content)
    assert School.objects.count() == 0
