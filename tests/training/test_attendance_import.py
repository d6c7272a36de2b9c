"""The attendance import (import_attendance) and results.xlsx scoped to the importer's own projects, with the
minimum attendance rate refused row by row (SPEC §7 import rules, §1 "3+1")."""

import pytest
from django.core.management import CommandError, call_command

from bureau.models import AuditEntry
from credits.models import LedgerEntry
from tests.xlsx import write_xlsx
from training.attendance import attendance_record, project_min_attendance_set
from training.models import Attendance, Result

from .attendance_fixtures import (  # noqa: F401
    ATTENDANCE_HEADERS,
    RESULT_HEADERS,
    TODAY,
    day,
    enrolment_of,
    owned,
    session_of,
)


def d(offset):
    return f"{day(offset):%Y-%m-%d}"


def import_attendance(tmp_path, rows, *args):
    call_command("import_attendance", write_xlsx(tmp_path / "a.xlsx", ATTENDANCE_HEADERS, rows), *args)


def import_results(tmp_path, rows, *args):
    call_command("import_results", write_xlsx(tmp_path / "r.xlsx", RESULT_HEADERS, rows), *args)


def marks():
    return sorted(Attendance.objects.values_list("session__project__code", "session__held_on",
                                                 "enrolment__teacher__staff_no", "present"))


GOOD = [["B1", "T1", "张一", d(-20), "是"], ["B1", "T4", "赵四", d(-20), "否"], ["B1", "T1", "张一", d(-10), "是"]]


def test_attendance_import_then_reimport_changes_nothing(owned, tmp_path, capsys, users):
    import_attendance(tmp_path, GOOD, "--by", "principal")
    assert marks() == [("B1", day(-20), "T1", True), ("B1", day(-20), "T4", False), ("B1", day(-10), "T1", True)]
    assert "新增 3，更新 0，无变化 0" in capsys.readouterr().out
    import_attendance(tmp_path, GOOD, "--by", "principal")
    assert "新增 0，更新 0，无变化 3" in capsys.readouterr().out
    changed = [list(r) for r in GOOD]
    changed[1][4] = "是"
    import_attendance(tmp_path, changed, "--by", "principal")
    assert "新增 0，更新 1，无变化 2" in capsys.readouterr().out
    assert Attendance.objects.get(enrolment__teacher__staff_no="T4").recorded_by == users["principal"]
    assert AuditEntry.objects.filter(action="training.attendance.imported").count() == 3


@pytest.mark.parametrize("bad, message", [
    (["B2", "T2", "李二", d(-20), "是"], "第2行 项目编号: “B2”不是您主办的项目，不能导入其考勤"),
    (["ZZ", "T1", "张一", d(-20), "是"], "第2行 项目编号: “ZZ”项目不存在"),
    (["B1", "T2", "李二", d(-20), "是"], "第2行 工号: “T2”没有报名该项目"),
    (["B1", "T1", "张三", d(-20), "是"], "第2行 姓名: 与工号 T1 的教师姓名不符"),
    (["B1", "T1", "张一", d(-19), "是"], f"第2行 日期: 该项目没有 {d(-19)} 的场次，请先在场次页面添加"),
    (["B1", "T1", "张一", d(5), "是"], f"第2行 日期: {d(5)} 的场次尚未举行"),
    (["B1", "T1", "张一", d(-20), "到了"], "第2行 出勤: “到了”应为 是 或 否"),
])
def test_attendance_import_invalid_rows_write_nothing(owned, tmp_path, capsys, users, bad, message):
    with pytest.raises(CommandError):
        import_attendance(tmp_path, [bad, GOOD[2]], "--by", "principal")
    assert message in capsys.readouterr().err
    assert not Attendance.objects.exists()


def test_attendance_import_refuses_a_state_off_the_list_and_duplicates(owned, tmp_path, capsys):
    from training.models import Enrolment

    Enrolment.objects.filter(pk=enrolment_of(owned["B1"], "T4").pk).update(state="withdrawn")
    with pytest.raises(CommandError):
        import_attendance(tmp_path, [GOOD[1], GOOD[0], GOOD[0]])
    err = capsys.readouterr().err
    assert "第2行 工号: 报名状态为“已退出”，不在参训名单中" in err
    assert "第4行 日期: 与第3行重复（同一项目、同一工号、同一日期）" in err


def test_attendance_import_names_a_day_with_two_sessions(owned, tmp_path, capsys):
    from training.models import Session

    Session.objects.create(project=owned["B1"], held_on=day(-20), title="下午")
    with pytest.raises(CommandError):
        import_attendance(tmp_path, [GOOD[0]])
    assert "有 2 个场次" in capsys.readouterr().err


def test_attendance_import_skip_invalid(owned, tmp_path, users):
    import_attendance(tmp_path, [["B2", "T2", "李二", d(-20), "是"], GOOD[0]], "--by", "principal", "--skip-invalid")
    assert marks() == [("B1", day(-20), "T1", True)]


@pytest.mark.parametrize("by, allowed", [("bureau", {"B1", "B2", "X1", "C1"}), ("district", {"X1"}),
                                         ("principal", {"B1"})])
def test_attendance_import_is_scoped_to_the_importers_projects(owned, users, tmp_path, by, allowed):
    rows = [["B1", "T1", "张一", d(-20), "是"], ["B2", "T2", "李二", d(-20), "是"], ["X1", "T1", "张一", d(-20), "是"],
            ["C1", "T3", "王三", d(-20), "是"]]
    import_attendance(tmp_path, rows, "--by", by, "--skip-invalid")
    assert {code for code, *_ in marks()} == allowed


@pytest.mark.parametrize("username", ["teacher", "auditor"])
def test_attendance_import_refuses_read_only_accounts(owned, tmp_path, users, username):
    with pytest.raises(CommandError, match="没有导入数据的权限"):
        import_attendance(tmp_path, GOOD, "--by", username)


# --- results.xlsx: the importer's own projects, the minimum attendance rate ----------------------------


@pytest.mark.parametrize("by, allowed", [("bureau", {"B1", "X1", "C1"}), ("district", {"X1"}), ("principal", {"B1"})])
def test_results_import_by_is_scoped_to_organised_projects(owned, users, tmp_path, capsys, by, allowed):
    rows = [["B1", "T1", "张一", "合格", d(0), None], ["X1", "T1", "张一", "合格", d(0), None],
            ["C1", "T1", "张一", "合格", d(0), None]]
    import_results(tmp_path, rows, "--by", by, "--skip-invalid")
    assert set(Result.objects.values_list("enrolment__project__code", flat=True)) == allowed
    err = capsys.readouterr().err
    if by == "district":
        assert "第2行 项目编号: “B1”不是您主办的项目，不能导入其考核结果" in err
        assert "第4行 项目编号: “C1”不是您主办的项目，不能导入其考核结果" in err


def test_results_import_refuses_a_passing_grade_below_the_minimum_with_the_rows_reason(owned, tmp_path, capsys, users):
    project = owned["B1"]
    project_min_attendance_set(project=project, rate=50, actor=users["principal"])
    t1 = enrolment_of(project, "T1")
    attendance_record(session=session_of(project, -20), present_ids=[t1.pk], actor=users["principal"], today=TODAY)
    # T1: 1 of 2 held = 50% (exactly the minimum); T4: 0 of 2
    rows = [["B1", "T1", "张一", "优秀", d(0), None], ["B1", "T4", "赵四", "合格", d(0), None]]
    with pytest.raises(CommandError):
        import_results(tmp_path, rows, "--by", "principal")
    assert "第3行 考核结果: 出勤率 0% 低于项目要求的 50%" in capsys.readouterr().err
    assert not Result.objects.exists()
    rows[1][3] = "不合格"
    import_results(tmp_path, rows, "--by", "principal")
    assert dict(Result.objects.values_list("enrolment__teacher__staff_no", "grade")) == {"T1": "优秀", "T4": "不合格"}
    assert LedgerEntry.objects.count() == 1
    import_results(tmp_path, rows, "--by", "principal")  # re-import: nothing changes, nothing refused
    assert "新增 0，更新 0，无变化 2" in capsys.readouterr().out


def test_results_import_rate_counts_the_session_held_by_the_import_day(owned, tmp_path, capsys, users):
    """One session below the minimum: T1 present at 1 of 2 held sessions with a 51% minimum is refused."""
    project = owned["B1"]
    project_min_attendance_set(project=project, rate=51, actor=users["principal"])
    t1 = enrolment_of(project, "T1")
    attendance_record(session=session_of(project, -20), present_ids=[t1.pk], actor=users["principal"], today=TODAY)
    with pytest.raises(CommandError):
        import_results(tmp_path, [["B1", "T1", "张一", "合格", d(0), None]], "--by", "principal")
    assert "第2行 考核结果: 出勤率 50% 低于项目要求的 51%" in capsys.readouterr().err
