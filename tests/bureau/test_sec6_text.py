"""SEC-6 in bureau: the three kinds of text (bureau.text), the spreadsheet reader refusing control
characters, the writer cleaning every string, and sheet titles made valid whatever the name."""

import datetime as dt
import io
import re
import zipfile

import pytest
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from bureau.importing import run_import
from bureau.imports import TeacherImporter
from bureau.models import Notice, School, Teacher
from bureau.spreadsheets import CellError, SheetSpec, as_text, sheet_title, write_workbook
from bureau.text import clean_multiline, clean_single_line, validate_no_control_characters
from tests.bureau.test_scoping import change_form_data, login_as, org, page_url  # noqa: F401 (org: a fixture)
from tests.factories import SchoolFactory, TeacherFactory, UserFactory, make_id_number
from tests.xlsx import TEACHER_HEADERS, xlsx_bytes

VT = "\x0b"  # Word's Shift+Enter
MESSAGE = "不能包含控制字符"
_CONTROL_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def assert_clean_xlsx(data: bytes) -> None:
    """Every part of the package is free of control characters (XML 1.0 cannot hold them)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            text = archive.read(name).decode("utf-8", errors="replace")
            assert not _CONTROL_IN_XML.search(text), name


def assert_valid_title(title: str) -> None:
    assert title and len(title.encode("utf-16-le")) // 2 <= 31
    assert not set(title) & set(":/\\?*[]")
    assert not title.startswith("'") and not title.endswith("'")
    assert not _CONTROL_IN_XML.search(title)


# --- the three kinds of text ---------------------------------------------------------------------

def test_multiline_text_keeps_line_breaks_as_newlines_and_drops_other_controls():
    assert clean_multiline("一\r\n二\r三\x0b四\x0c五\t六\n七") == "一\n二\n三\n四\n五\t六\n七"
    assert clean_multiline("a\x00b\x07c\x1fd\x7fe\x85f\x9fg") == "abcdefg"
    assert clean_multiline("没有控制字符") == "没有控制字符"


def test_single_line_text_turns_breaks_into_one_space_and_drops_other_controls():
    assert clean_single_line("同意\x0b请补材料") == "同意 请补材料"
    assert clean_single_line("a\r\n\tb\x00c\x85") == "a bc"
    assert clean_single_line(VT + "说明" + VT) == "说明"


@pytest.mark.parametrize("char", ["\x00", "\t", "\n", "\r", VT, "\x0c", "\x1f", "\x7f", "\x85", "\x9f"])
def test_names_and_codes_with_any_control_character_are_refused(char):
    with pytest.raises(ValidationError) as caught:
        validate_no_control_characters(f"王{char}小明")
    assert MESSAGE in caught.value.messages[0]
    validate_no_control_characters("王小明 Ｌｉ·阿依古丽")  # spaces and CJK punctuation are text


def test_model_validation_refuses_a_teacher_name_with_a_vertical_tab(db):
    teacher = TeacherFactory(name="王小明")
    teacher.name = f"王{VT}小明"
    with pytest.raises(ValidationError) as caught:
        teacher.full_clean()
    assert MESSAGE in caught.value.message_dict["name"][0]


def test_free_text_is_cleaned_on_save_whatever_wrote_it(db):
    user = UserFactory()
    notice = Notice.objects.create(recipient=user, key="k", title=f"标题{VT}第二行", body=f"一\r\n二{VT}三\x00")
    notice.refresh_from_db()
    assert (notice.title, notice.body) == ("标题 第二行", "一\n二\n三")


def test_api_model_serializers_carry_the_rule(db):
    from training.serializers import ProjectSerializer

    serializer = ProjectSerializer(data={
        "code": "P1", "name": f"研修{VT}项目", "level": "市培", "mode": "集中面授", "kind": "必修", "theme": "师德",
        "hours": "20", "credits": "20", "start_on": "2026-03-01", "end_on": "2026-03-03", "organiser": "市教育局"})
    assert not serializer.is_valid()
    assert MESSAGE in str(serializer.errors["name"][0])


# --- the admin form --------------------------------------------------------------------------------

@pytest.mark.parametrize("page, field, model", [("teacher change T1", "name", Teacher),
                                                ("school change S1", "name", School)])
def test_admin_form_refuses_a_name_with_a_vertical_tab(client, users, org, page, field, model):  # noqa: F811
    client = login_as(client, users, "bureau")
    url = page_url(page, org)
    data = change_form_data(client.get(url))
    before = data[field]
    data[field] = f"王{VT}小明"
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors[field]
    assert MESSAGE in str(errors)
    assert getattr(model.objects.get(pk=org[page.split()[-1]].pk), field) == before


# --- the reader ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [f"王{VT}小明", "王\n小明", "王\t小明", "王\x85小明", "王_x000B_小明"])
def test_reader_refuses_a_cell_with_a_control_character(value):
    """_x000B_ is how Excel stores a vertical tab; openpyxl hands it over undecoded."""
    with pytest.raises(CellError, match=MESSAGE):
        as_text(value)


def test_reader_strips_control_characters_at_either_end_as_whitespace():
    assert as_text(f"{VT}王小明\n") == "王小明"


def teacher_row(name):
    values = {
        "工号": "A001", "姓名": name, "性别": "女", "出生日期": dt.date(1985, 3, 14),
        "身份证号": make_id_number(dt.date(1985, 3, 14), male=False), "学校代码": "S1", "任教学科": "数学",
        "职称": "一级教师", "学历": "本科", "参加工作日期": dt.date(2007, 9, 1), "入校日期": dt.date(2015, 9, 1),
        "编制类型": "在编", "在职状态": "在职", "班主任": "是",
    }
    return [values[h] for h in TEACHER_HEADERS]


@pytest.mark.parametrize("name", ["王\n小明", "王_x000B_小明", "王\x85小明"])
def test_teacher_import_refuses_a_name_with_a_control_character(db, name):
    SchoolFactory(code="S1")
    report = run_import(TeacherImporter(actor=None, today=dt.date(2026, 11, 23)),
                        xlsx_bytes(TEACHER_HEADERS, [teacher_row(name)]))
    assert [str(e) for e in report.errors] == [f"第2行 姓名: {MESSAGE}（如从 Word 粘贴带来的换行符），请删除后重新输入"]
    assert not Teacher.objects.exists()


# --- the writer ------------------------------------------------------------------------------------

def test_writer_cleans_every_string_it_writes():
    buffer = io.BytesIO()
    write_workbook(buffer, [SheetSpec(f"教师{VT}", [f"姓{VT}名", "说明"],
                                      [[f"王{VT}小明", f"=1+1{VT}"], ["李\x00四", "一\r\n二"]], date_columns=(1,))])
    assert_clean_xlsx(buffer.getvalue())
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert sheet.title == "教师"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows == [("姓名", "说明"), ("王小明", "=1+1"), ("李四", "一\n二")]
    assert sheet["B2"].data_type == "s"  # still not a formula


# openpyxl's own write-only sheet generator, left behind by the failure, complains when collected.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_writer_that_fails_closes_the_rows_it_was_reading():
    closed = []

    def rows():
        try:
            yield ["甲"]
            yield [object()]  # openpyxl cannot write this
            yield ["never"]
        finally:
            closed.append(True)

    with pytest.raises(ValueError):
        write_workbook(io.BytesIO(), [SheetSpec("表", ["列"], rows())])
    assert closed == [True]


# --- sheet titles ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("王:/\\?*[]'学分档案", "王'学分档案"),
    ("'王'学分档案", "王'学分档案"),
    ("学分档案'", "学分档案"),
    ("''''", "工作表"),
    ("", "工作表"),
    (f"王{VT}小明", "王 小明"),
    ("History", "工作表"),
    ("甲" * 40, "甲" * 31),
    ("𠀀" * 20, "𠀀" * 15),  # 31 UTF-16 units, as Excel counts: an astral character is two
    ("甲" * 30 + "'乙", "甲" * 30),
])
def test_sheet_title_is_valid_whatever_the_text(text, expected):
    title = sheet_title(text)
    assert title == expected
    assert_valid_title(title)


def test_sheet_titles_are_unique_in_a_workbook_ignoring_case():
    assert sheet_title("Sheet", taken=["sheet"]) == "Sheet(2)"
    assert sheet_title("甲" * 31, taken=["甲" * 31, "甲" * 28 + "(2)"]) == "甲" * 28 + "(3)"


def test_write_workbook_makes_every_title_valid():
    buffer = io.BytesIO()
    write_workbook(buffer, [SheetSpec("王:/\\?*[]'", ["a"], []), SheetSpec("王", ["a"], []),
                            SheetSpec("'" + "长" * 40, ["a"], [])])
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["王", "王(2)", "长" * 31]
