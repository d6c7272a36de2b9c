"""The province report (SPEC §7 上报省厅, amended): each sheet's headers and figures on a small city."""

import io

import pytest
from openpyxl import load_workbook

from bureau.rules import mask_id_number
from credits.compliance import ComplianceRun
from province.exports import write_province_workbook
from tests.province.conftest import A1_ID, YEAR

SPEC_HEADERS = {
    "教师": ["工号", "姓名", "身份证号", "性别", "学校代码", "学校名称", "区县", "学段", "城乡类型", "编制类型", "职称", "国培学时",
           "省培学时", "市培学时", "县培学时", "校本学时", "师本学时", "外部认定学时", "集中面授学时", "网络研修学时", "年度学分",
           "是否达标", "周期累计学时", "周期应完成学时", "周期达标"],
    "项目": ["项目编号", "项目名称", "项目级别", "培训方式", "学时", "参训人数", "合格人数", "优秀人数"],
    "覆盖": ["区县", "城乡类型", "应考核人数", "参训人数", "参培率", "薄弱学校应考核人数", "薄弱学校参训人数"],
    "交流": ["区县", "应交流人数", "最低交流人数", "已批准交流人数"],
    "骨干": ["层级", "类别", "在册人数"],
}


def build(year=YEAR, *, full=False):
    buffer = io.BytesIO()
    with ComplianceRun(year) as run:
        write_province_workbook(buffer, run, full_id_numbers=full)
    buffer.seek(0)
    return load_workbook(buffer)


def rows(book, sheet):
    return [list(r) for r in book[sheet].iter_rows(min_row=2, values_only=True)]


def by_header(book, sheet):
    headers = SPEC_HEADERS[sheet]
    return {r[0]: dict(zip(headers, r, strict=True)) for r in rows(book, sheet)}


def test_sheets_and_headers_exactly_as_spec(province_city):
    book = build()
    assert book.sheetnames == [*SPEC_HEADERS, "说明"]  # the §7 sheets, then what the file is (issue 17)
    assert book["覆盖"]["E1"].value == "参培率"
    assert all(c.number_format == "0.0%" for c in book["覆盖"]["E"][1:] if c.value is not None)
    for title, headers in SPEC_HEADERS.items():
        sheet = book[title]
        assert [c.value for c in sheet[1]] == headers
        assert sheet.freeze_panes == "A2"


def test_teacher_rows_by_staff_no_with_school_of_the_compliance_run(province_city):
    teachers = by_header(build(), "教师")
    assert list(teachers) == ["A1", "B1", "B2", "C1"]
    a1 = teachers["A1"]
    assert (a1["学校代码"], a1["学校名称"], a1["区县"], a1["学段"], a1["城乡类型"]) == ("S1", "东一小学", "城东区", "小学", "城区")
    assert (a1["性别"], a1["编制类型"], a1["职称"]) == ("女", "在编", "高级教师")
    assert (teachers["B2"]["编制类型"], teachers["B1"]["性别"]) == ("特岗", "男")
    assert teachers["C1"]["是否达标"] == "免考核"


def test_hours_by_level_and_mode(province_city):
    a1 = by_header(build(), "教师")["A1"]
    assert (a1["国培学时"], a1["省培学时"], a1["县培学时"]) == (24, 10, 0)  # 县培 of 2025 is not in 2026
    assert a1["市培学时"] == 5  # 8, its reversal −8, then 5: the reversal is summed
    assert (a1["校本学时"], a1["师本学时"]) == (16, 6)
    assert a1["外部认定学时"] == 15  # both claims, the one carrying a project's code too
    assert a1["集中面授学时"] == 24 + 3  # 国培 and the face-to-face claim; 市培 is 混合式: neither mode column
    assert a1["网络研修学时"] == 10 + 12


def test_verdicts_and_cycle_come_from_the_compliance_run(province_city):
    teachers = by_header(build(), "教师")
    with ComplianceRun(YEAR) as run:
        expected = {t.staff_no: t for t in run.teachers()}
    for staff_no, row in teachers.items():
        t = expected[staff_no]
        assert row["年度学分"] == float(t.annual_credits)
        assert row["是否达标"] == t.verdict
        assert row["周期累计学时"] == float(t.cycle_hours)
        assert row["周期应完成学时"] == t.cycle_required
    assert teachers["A1"]["年度学分"] == 24 + 10 + 5 + 16 + 6 + 15 + 2
    assert teachers["A1"]["是否达标"] == "是" and teachers["B1"]["是否达标"] == "否"
    assert teachers["A1"]["周期达标"] is None  # 2026 is the first year of the 2026–2030 cycle


def test_id_numbers_masked_unless_full(province_city):
    masked = by_header(build(), "教师")
    assert masked["A1"]["身份证号"] == A1_ID[0] + "*" * 16 + A1_ID[-1] == mask_id_number(A1_ID)
    assert masked["B2"]["身份证号"] is None  # no number on record: blank
    assert A1_ID not in str(rows(build(), "教师"))
    assert by_header(build(full=True), "教师")["A1"]["身份证号"] == A1_ID


def test_formula_looking_names_are_text(province_city):
    book = build()
    cell = book["教师"]["B2"]
    assert cell.value == "=1+2" and cell.data_type == "s"


def test_project_sheet_counts_results_dated_in_the_year(province_city):
    projects = by_header(build(), "项目")
    assert list(projects) == ["P-C", "P-N", "P-P"]  # P-OLD's result is dated 2025
    assert projects["P-N"] == {"项目编号": "P-N", "项目名称": "国培项目P-N", "项目级别": "国培", "培训方式": "集中面授", "学时": 24,
                               "参训人数": 2, "合格人数": 1, "优秀人数": 0}
    # 合格人数 counts every passing grade (优秀 too): 合格人数 ÷ 参训人数 is the CR-8 pass rate
    assert (projects["P-P"]["参训人数"], projects["P-P"]["合格人数"], projects["P-P"]["优秀人数"]) == (1, 1, 1)


def test_coverage_per_district_and_location(province_city):
    coverage = rows(build(), "覆盖")
    assert coverage == [
        ["城东区", "城区", 1, 1, 1, 0, 0],
        ["城东区", "乡村", 2, 1, 0.5, 2, 1],  # B2's school-based row makes them a participant (CR-8)
        ["城西区", "镇区", 0, 0, None, 0, 0],  # C1 has a result but is not subject
    ]


def test_exchange_sheet_per_district_from_the_plan(province_city):
    assert rows(build(), "交流") == [
        ["城东区", 3, 2, 1],  # S1: 1 eligible → 1; S2: 2 → 1; only the approved proposal counts
        ["城西区", 0, 0, 0],
    ]


def test_exchange_sheet_blank_without_a_plan(province_city):
    book = build(YEAR + 1)
    assert [c.value for c in book["交流"][1]] == SPEC_HEADERS["交流"] and rows(book, "交流") == []


def test_backbone_entries_in_force_on_31_december(province_city):
    counts = {(tier, type_): n for tier, type_, n in rows(build(), "骨干")}
    assert len(counts) == 9
    assert counts[("省级", "教学名师")] == 1
    assert counts[("市级", "学科带头人")] == 0  # one expired, one ended by a re-award in the year
    assert counts[("县级", "骨干教师")] == 1  # revoked in 2027: still held at the end of 2026
    assert sum(counts.values()) == 2
    assert [(t, k) for t, k, _ in rows(build(), "骨干")][:3] == [("省级", "教学名师"), ("省级", "学科带头人"), ("省级", "骨干教师")]


@pytest.mark.parametrize("year", [2025])
def test_an_earlier_year_reads_its_own_rows(province_city, year):
    a1 = by_header(build(year), "教师")["A1"]
    assert a1["县培学时"] == 6 and a1["国培学时"] == 0


def test_legacy_control_characters_never_reach_the_file(province_city):
    """SEC-6: a name stored before the rule, with a vertical tab, is written cleaned."""
    from bureau.models import School, Teacher

    Teacher.objects.filter(staff_no="B1").update(name="李\x0b一")
    School.objects.filter(code="S2").update(name="东二\x0b小学")
    book = build()
    b1 = by_header(book, "教师")["B1"]
    assert (b1["姓名"], b1["学校名称"]) == ("李一", "东二小学")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.django_db(transaction=True)  # as in production: the cursors are WITH HOLD, outside a transaction
def test_a_failed_write_leaves_the_connection_usable(province_city, monkeypatch, tmp_path):
    from django.core.management import call_command

    from bureau.models import Teacher
    from province import exports

    def broken(t, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(exports, "_hours", broken)
    with pytest.raises(OSError):
        call_command("province_report", "--year", str(YEAR), "--output", str(tmp_path / "p.xlsx"))
    assert Teacher.objects.count() == 4
    monkeypatch.undo()
    call_command("province_report", "--year", str(YEAR), "--output", str(tmp_path / "p.xlsx"))
    assert load_workbook(tmp_path / "p.xlsx")["教师"].max_row == 5
