"""teachers.xlsx (SPEC §7): every validation rule at its edge, atomicity, --skip-invalid, idempotence."""

import datetime as dt

import pytest

from bureau.errors import ApplicationError
from bureau.importing import run_import
from bureau.imports import TeacherImporter
from bureau.models import AuditEntry, Posting, Teacher
from bureau.spreadsheets import SpreadsheetError
from tests.factories import SchoolFactory, make_id_number
from tests.xlsx import TEACHER_HEADERS, xlsx_bytes

TODAY = dt.date(2026, 11, 23)


def _wrong_check_digit():
    good = make_id_number(dt.date(1985, 3, 14), male=False)
    return good[:-1] + ("1" if good[-1] != "1" else "2")


def row(**over):
    values = {
        "工号": "A001",
        "姓名": "周敏",
        "性别": "女",
        "出生日期": dt.date(1985, 3, 14),
        "身份证号": make_id_number(dt.date(1985, 3, 14), male=False),
        "学校代码": "S1",
        "任教学科": "数学",
        "职称": "一级教师",
        "学历": "本科",
        "参加工作日期": dt.date(2007, 9, 1),
        "入校日期": dt.date(2015, 9, 1),
        "编制类型": "在编",
        "在职状态": "在职",
        "班主任": "是",
    }
    values.update(over)
    return [values[h] for h in TEACHER_HEADERS]


def run(rows, *, skip_invalid=False, actor=None, headers=TEACHER_HEADERS, today=TODAY, dry_run=False):
    return run_import(
        TeacherImporter(actor=actor, today=today), xlsx_bytes(headers, rows), skip_invalid=skip_invalid, dry_run=dry_run
    )


@pytest.fixture
def school(db):
    return SchoolFactory(code="S1")


def errors_of(report):
    return [str(e) for e in report.errors]


def test_valid_row_creates_teacher_and_opens_posting(school):
    report = run([row()])
    assert (report.created, report.errors, report.written) == (1, [], True)
    teacher = Teacher.objects.get(staff_no="A001")
    assert teacher.school == school and teacher.is_class_teacher and teacher.title == "一级教师"
    (posting,) = Posting.objects.filter(teacher=teacher)
    assert (posting.school, posting.started_on, posting.ended_on) == (school, dt.date(2015, 9, 1), None)
    assert AuditEntry.objects.filter(action="bureau.teachers.imported").count() == 1


def test_text_dates_and_numeric_staff_no_are_read(school):
    report = run([row(工号=10086, 出生日期="1985-03-14", 参加工作日期="2007-09-01", 入校日期="2015-9-1")])
    assert report.errors == []
    assert Teacher.objects.get(staff_no="10086").joined_school_on == dt.date(2015, 9, 1)


def test_reimporting_the_same_file_changes_nothing(school):
    run([row(), row(工号="A002", 身份证号=None)])
    history_before = Teacher.history.count()
    report = run([row(), row(工号="A002", 身份证号=None)])
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert Teacher.history.count() == history_before
    assert Posting.objects.count() == 2


def test_changed_field_updates_and_keeps_history(school):
    run([row()])
    report = run([row(职称="高级教师")])
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    teacher = Teacher.objects.get(staff_no="A001")
    assert teacher.title == "高级教师"
    assert teacher.history.count() == 2


def test_school_change_closes_open_posting_and_opens_new_one(school):
    other = SchoolFactory(code="S2")
    run([row()])
    run([row(学校代码="S2", 入校日期=dt.date(2026, 9, 1))])
    postings = list(Posting.objects.filter(teacher__staff_no="A001").order_by("started_on"))
    assert [(p.school_id, p.started_on, p.ended_on) for p in postings] == [
        (school.pk, dt.date(2015, 9, 1), dt.date(2026, 8, 31)),
        (other.pk, dt.date(2026, 9, 1), None),
    ]


def test_school_change_without_new_join_date_starts_today(school):
    SchoolFactory(code="S2")
    run([row()])
    run([row(学校代码="S2")])
    open_post = Posting.objects.get(teacher__staff_no="A001", ended_on__isnull=True)
    assert open_post.started_on == TODAY
    assert Posting.objects.get(teacher__staff_no="A001", ended_on__isnull=False).ended_on == TODAY - dt.timedelta(days=1)


@pytest.mark.parametrize(
    "over, expected",
    [
        ({"工号": None}, "第2行 工号: 不能为空"),
        ({"姓名": "  "}, "第2行 姓名: 不能为空"),
        ({"性别": "男性"}, "第2行 性别: “男性”不是允许的值，应为：男、女"),
        ({"职称": "特级教师"}, "第2行 职称: “特级教师”不是允许的值"),
        ({"学历": "研究生"}, "第2行 学历: “研究生”不是允许的值"),
        ({"编制类型": "临聘"}, "第2行 编制类型: “临聘”不是允许的值"),
        ({"在职状态": "病休"}, "第2行 在职状态: “病休”不是允许的值"),
        ({"班主任": "Y"}, "第2行 班主任: “Y”应为 是 或 否"),
        ({"出生日期": "1985/13/01"}, "第2行 出生日期: “1985/13/01”不是有效日期"),
        ({"出生日期": "三月"}, "第2行 出生日期: “三月”不是日期"),
        ({"学校代码": "S9"}, "第2行 学校代码: “S9”学校不存在，请先导入学校"),
        ({"入校日期": dt.date(2007, 8, 31)}, "第2行 入校日期: 不能早于参加工作日期（2007-09-01）"),
        ({"参加工作日期": dt.date(1985, 3, 14), "入校日期": dt.date(1985, 3, 14)}, "第2行 参加工作日期: 应晚于出生日期"),
        ({"入校日期": TODAY + dt.timedelta(days=1)}, "第2行 入校日期: 不能晚于今天（2026-11-23）"),
        ({"身份证号": _wrong_check_digit()}, "第2行 身份证号: 校验位错误"),
        ({"身份证号": make_id_number(dt.date(1985, 3, 15), male=False)}, "第2行 身份证号: 与出生日期不符"),
        ({"身份证号": make_id_number(dt.date(1985, 3, 14), male=True)}, "第2行 身份证号: 与性别不符"),
        ({"身份证号": 430681198503140020.0}, "第2行 身份证号: 应以文本格式填写"),
    ],
)
def test_each_invalid_cell_is_reported_and_nothing_written(school, over, expected):
    report = run([row(**over), row(工号="OK1", 身份证号=None)])
    assert any(e.startswith(expected) for e in errors_of(report)), errors_of(report)
    assert not report.written
    assert Teacher.objects.count() == 0


def test_edges_that_are_valid(school):
    report = run(
        [
            # joined the school the day employment began; every date today
            row(工号="E1", 参加工作日期=TODAY, 入校日期=TODAY, 身份证号=None),
            row(工号="E2", 班主任=None, 身份证号=None),  # 班主任 blank means 否
        ]
    )
    assert report.errors == []
    assert not Teacher.objects.get(staff_no="E2").is_class_teacher


def test_duplicate_staff_no_in_file(school):
    report = run([row(), row(身份证号=None)])
    assert "第3行 工号: 与第2行重复" in errors_of(report)


def test_duplicate_id_number_in_file_and_in_database(school):
    number = make_id_number(dt.date(1985, 3, 14), male=False)
    report = run([row(), row(工号="A002", 身份证号=number)])
    assert "第3行 身份证号: 与第2行重复" in errors_of(report)
    run([row()])
    report = run([row(工号="A003", 身份证号=number)])
    assert "第2行 身份证号: 已登记在工号 A001 名下" in errors_of(report)


def test_errors_are_all_listed_in_row_order(school):
    report = run([row(性别="X", 职称="Y"), row(工号="A2", 学历="Z", 身份证号=None)])
    assert [(e.row, e.column) for e in report.errors] == [(2, "性别"), (2, "职称"), (3, "学历")]


def test_skip_invalid_writes_valid_rows_and_reports_the_rest(school):
    report = run([row(), row(工号="A002", 性别="X", 身份证号=None)], skip_invalid=True)
    assert report.written and report.created == 1 and report.invalid_rows == 1
    assert list(Teacher.objects.values_list("staff_no", flat=True)) == ["A001"]


def test_dry_run_writes_nothing_but_counts(school):
    report = run([row()], dry_run=True)
    assert report.created == 1 and not report.written
    assert Teacher.objects.count() == 0 and AuditEntry.objects.count() == 0


def test_blank_id_number_keeps_the_one_on_record(school):
    run([row()])
    run([row(身份证号=None)])
    assert Teacher.objects.get(staff_no="A001").id_number


def test_extra_columns_are_ignored_and_id_column_optional(school):
    headers = [h for h in TEACHER_HEADERS if h != "身份证号"] + ["备注"]
    values = [v for h, v in zip(TEACHER_HEADERS, row()) if h != "身份证号"] + ["随便写"]
    report = run([values], headers=headers)
    assert report.errors == [] and report.created == 1


def test_blank_rows_are_skipped_and_rows_keep_excel_numbers(school):
    report = run([row(), [None] * len(TEACHER_HEADERS), row(工号="A3", 性别="X", 身份证号=None)])
    assert errors_of(report) == ["第4行 性别: “X”不是允许的值，应为：男、女"]


def test_wrong_headers_are_one_clear_error(school):
    headers = ["工号", "名字"] + TEACHER_HEADERS[2:]
    with pytest.raises(SpreadsheetError, match="表头不符：缺少列 姓名"):
        run([row()], headers=headers)


def test_header_only_file_is_refused(school):
    with pytest.raises(SpreadsheetError, match="只有表头"):
        run([])


def test_an_exact_integer_id_number_is_read_a_float_is_refused():
    """A cell whose stored value has all 18 digits reads as an int; Excel's doubles (floats) lost some."""
    from bureau.imports import _id_number
    from bureau.spreadsheets import CellError

    number = make_id_number(dt.date(1985, 3, 14), male=False)
    assert _id_number(int(number)) == number
    with pytest.raises(CellError, match="文本格式"):
        _id_number(float(number))


def test_class_teacher_column_may_be_absent(school):
    headers = [h for h in TEACHER_HEADERS if h != "班主任"]
    report = run([row()[:-1]], headers=headers)
    assert report.errors == [] and not Teacher.objects.get().is_class_teacher


def test_id_number_owner_outside_the_scope_is_not_named(users, city):
    """SEC-3: an import never tells a district whether a number belongs to a teacher outside it. Every
    number a district sets is held for the bureau alike, so a number of another district's teacher and a
    number nobody has give the very same report; the bureau (who sees all) is told the owner."""
    owned = make_id_number(dt.date(1985, 3, 14), male=False)
    fresh = make_id_number(dt.date(1985, 3, 14), male=False, serial=77)
    Teacher.objects.filter(pk=city["teachers"][2].pk).update(id_number=owned)  # T3, the other district
    first = run([row(工号="NEW1", 学校代码="S1", 身份证号=owned)], actor=users["district"])
    second = run([row(工号="NEW2", 学校代码="S1", 身份证号=fresh)], actor=users["district"])
    assert errors_of(first) == errors_of(second) == []
    assert first.summary() == second.summary() and "1 个身份证号已提交市教育局核验" in first.summary()
    for staff_no, number in (("NEW1", owned), ("NEW2", fresh)):
        teacher = Teacher.objects.get(staff_no=staff_no)
        assert (teacher.id_number, teacher.pending_id_number) == (None, number)
    report = run([row(工号="NEW3", 学校代码="S1", 身份证号=owned)], actor=users["bureau"])
    assert "第2行 身份证号: 已登记在工号 T3 名下" in errors_of(report)


def test_bureau_confirms_held_numbers_and_is_told_of_a_conflict(users, city):
    from bureau.services import id_number_confirm

    owned = make_id_number(dt.date(1985, 3, 14), male=False)
    fresh = make_id_number(dt.date(1985, 3, 14), male=False, serial=77)
    Teacher.objects.filter(pk=city["teachers"][2].pk).update(id_number=owned)
    run([row(工号="NEW1", 学校代码="S1", 身份证号=owned), row(工号="NEW2", 学校代码="S1", 身份证号=fresh)],
        actor=users["district"])
    with pytest.raises(ApplicationError, match="只有市教育局"):
        id_number_confirm(teacher=Teacher.objects.get(staff_no="NEW2"), actor=users["district"])
    assert id_number_confirm(teacher=Teacher.objects.get(staff_no="NEW2"), actor=users["bureau"]) is None
    assert id_number_confirm(teacher=Teacher.objects.get(staff_no="NEW1"), actor=users["bureau"]) == "T3"
    assert list(Teacher.objects.filter(staff_no__in=["NEW1", "NEW2"]).order_by("staff_no")
                .values_list("id_number", "pending_id_number")) == [(None, owned), (fresh, "")]


def test_bureau_and_command_line_imports_set_numbers_at_once(users, city):
    number = make_id_number(dt.date(1985, 3, 14), male=False, serial=55)
    run([row(工号="NEW1", 学校代码="S1", 身份证号=number)], actor=users["bureau"])
    assert Teacher.objects.get(staff_no="NEW1").id_number == number
    other = make_id_number(dt.date(1985, 3, 14), male=False, serial=56)
    run([row(工号="NEW2", 学校代码="S1", 身份证号=other)], actor=None)
    assert Teacher.objects.get(staff_no="NEW2").id_number == other


@pytest.mark.parametrize("skip_invalid", [False, True])
def test_district_cannot_take_over_another_districts_teacher_even_beside_a_bad_row(users, city, skip_invalid):
    """Issue 14 (high): with one unrelated bad row and 只导入有效行, the per-row scope check used to be
    skipped, and a district renamed and moved in a teacher of another district."""
    other = city["teachers"][2]  # T3, in the second district
    rows = [
        row(工号="NEW1", 学校代码="NOPE", 身份证号=None),  # an unrelated bad row (an unknown school)
        row(工号=other.staff_no, 姓名="冒名", 学校代码="S1", 身份证号=None),  # takeover attempt
    ]
    report = run(rows, actor=users["district"], skip_invalid=skip_invalid)
    assert "第3行 工号: 该教师不在您的管辖范围" in errors_of(report)
    other.refresh_from_db()
    assert (other.name, other.school_id) == ("王三", city["schools"][2].pk)


def test_a_repeated_invalid_value_is_reported_on_every_row(school):
    """PERF-3: parsed values are remembered per column; errors are not, each row reports its own."""
    report = run([row(工号=f"R{i}", 身份证号=None, 性别="男性", 入校日期=" 2015-9-1 ") for i in range(3)])
    assert errors_of(report) == [f"第{n}行 性别: “男性”不是允许的值，应为：男、女" for n in (2, 3, 4)]


def test_remembered_values_read_as_each_row_gives_them(school, monkeypatch):
    """PERF-3: past the memo's limit values are still read; a blank cell after a remembered value of the same
    column is still blank; text with spaces, a date and the same date as text all read the same."""
    monkeypatch.setattr("bureau.importing.MEMO_LIMIT", 2)
    rows = [
        row(工号="M1", 任教学科="数学", 身份证号=None),
        row(工号="M2", 任教学科=" 数学 ", 身份证号=None, 入校日期="2015-09-01"),
        row(工号="M3", 任教学科="语文", 身份证号=None, 入校日期=dt.date(2015, 9, 1)),
        row(工号="M4", 任教学科="  ", 身份证号=None),
        row(工号="M5", 任教学科="英语", 身份证号=None, 班主任=None),
        row(工号="M6", 任教学科="英语", 身份证号=None, 班主任="否"),
    ]
    report = run(rows, skip_invalid=True)
    assert errors_of(report) == ["第5行 任教学科: 不能为空"]
    stored = dict(Teacher.objects.values_list("staff_no", "subject"))
    assert stored == {"M1": "数学", "M2": "数学", "M3": "语文", "M5": "英语", "M6": "英语"}
    assert set(Teacher.objects.values_list("joined_school_on", flat=True)) == {dt.date(2015, 9, 1)}
    assert Posting.objects.count() == 5 and Teacher.history.count() == 5


def test_new_teachers_history_and_postings_carry_the_import(school, django_user_model):
    """PERF-3: the rows written by COPY are the rows the instance path wrote: history "+" by the actor,
    a home posting from 入校日期 noted 名册导入, 状态生效日期 the import date."""
    run([row(工号="H1", 身份证号=None), row(工号="H2", 身份证号=None, 学校代码="S1", 入校日期=dt.date(2020, 1, 2))])
    teacher = Teacher.objects.get(staff_no="H2")
    (record,) = teacher.history.all()
    assert (record.history_type, record.school_id, record.joined_school_on, record.status_since) == (
        "+", school.pk, dt.date(2020, 1, 2), TODAY)
    (posting,) = Posting.objects.filter(teacher=teacher)
    assert (posting.kind, posting.started_on, posting.note, posting.ended_on) == ("regular", dt.date(2020, 1, 2),
                                                                                 "名册导入", None)
    assert teacher.created_at == record.created_at and teacher.status_since == TODAY
