"""Issue 17: workbooks read like reports. Shares are numbers with a percent format (the value stays the
share), dates are dates, and a closing 说明 sheet says what the file is, for which year and scope, made
when and by whom; the data sheets keep their header row one (SPEC §7)."""

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from bureau.spreadsheets import About, Percent, SheetSpec, write_workbook


def read(specs, about=None):
    buffer = io.BytesIO()
    write_workbook(buffer, specs, about=about)
    buffer.seek(0)
    return load_workbook(buffer)


def test_percent_cells_and_columns_stay_numbers_with_a_percent_format():
    book = read([
        SheetSpec("汇总", ["指标", "数值"], [["人数", 7], ["达标率", Percent(6 / 7)], ["合格率", None]]),
        SheetSpec("学校", ["代码", "比例", "日期"], [["A", 0.2, dt.date(2026, 3, 1)], ["B", None, None]],
                  percent_columns=(1,), date_columns=(2,)),
    ])
    summary = book["汇总"]
    assert summary["B3"].value == pytest.approx(6 / 7) and summary["B3"].number_format == "0.0%"
    assert summary["B2"].value == 7 and summary["B2"].number_format == "General"
    assert summary["B4"].value is None
    schools = book["学校"]
    assert schools["B2"].value == 0.2 and schools["B2"].number_format == "0.0%"
    assert schools["C2"].value == dt.datetime(2026, 3, 1) and schools["C2"].number_format == "yyyy-mm-dd"
    assert schools["A1"].value == "代码" and schools.freeze_panes == "A2"


@pytest.mark.django_db
def test_the_about_sheet_closes_the_workbook_and_names_the_user(django_user_model):
    user = django_user_model.objects.create_user("auditor-x", first_name="审计员")
    book = read([SheetSpec("数据", ["a"], [[1]])],
                about=About("测试文件", year=2026, scope="城东区", by=user, notes=("第一条说明",)))
    assert book.sheetnames == ["数据", "说明"]
    rows = [tuple(r) for r in book["说明"].iter_rows(values_only=True)]
    about = dict(rows[1:])
    assert rows[0] == ("项目", "内容")
    assert (about["文件"], about["年度"], about["范围"], about["生成人"], about["说明"]) == (
        "测试文件", 2026, "城东区", "审计员", "第一条说明")
    assert isinstance(about["生成时间"], dt.datetime)
    assert book["说明"]["B5"].number_format == "yyyy-mm-dd hh:mm"


def test_formula_text_in_the_about_sheet_is_still_text():
    book = read([SheetSpec("数据", ["a"], [[1]])], about=About("=cmd|' /C calc'!A0", scope="+1"))
    cells = {r[0].value: r[1] for r in book["说明"].iter_rows(min_row=2)}
    assert cells["文件"].data_type == "s" and cells["文件"].value.startswith("=")
