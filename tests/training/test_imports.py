"""projects.xlsx and results.xlsx (SPEC §7): validation, idempotence, CR-1/CR-2 through the import."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from bureau.models import AuditEntry
from credits.models import LedgerEntry
from tests.factories import TeacherFactory
from tests.xlsx import write_xlsx
from training.models import Enrolment, Project, ProjectEvent, Result

PROJECT_HEADERS = ["项目编号", "项目名称", "项目级别", "培训方式", "类别", "主题", "学时", "学分", "开始日期", "结束日期", "承办单位", "名额"]
RESULT_HEADERS = ["项目编号", "工号", "姓名", "考核结果", "完成日期", "认定学时"]
P1 = ["GP2026-01", "国培计划示范项目", "国培", "混合式", "必修", "学科教学", 60, 24, "2026-04-01", "2026-06-30", "省教育厅", 100]
P2 = ["XB2026-07", "师德专题", "校本", "校本研修", "必修", "师德", 12, None, "2026-03-01", "2026-03-31", "东风小学", None]


@pytest.fixture
def projects(db, tmp_path):
    call_command("import_projects", write_xlsx(tmp_path / "p.xlsx", PROJECT_HEADERS, [P1, P2]))
    return {p.code: p for p in Project.objects.all()}


@pytest.fixture
def teachers(db):
    return [TeacherFactory(staff_no="T100", name="周敏"), TeacherFactory(staff_no="T200", name="陈静")]


def test_projects_import_and_reimport(projects, tmp_path, capsys):
    gp = projects["GP2026-01"]
    assert (gp.level, gp.mode, gp.hours, gp.credits, gp.capacity, gp.status) == ("国培", "混合式", D("60"), D("24"), 100, "finished")
    assert projects["XB2026-07"].credits is None and projects["XB2026-07"].capacity is None
    call_command("import_projects", write_xlsx(tmp_path / "p.xlsx", PROJECT_HEADERS, [P1, P2]))
    assert "新增 0，更新 0，无变化 2" in capsys.readouterr().out
    # A project enters its life cycle by the import: one event, not repeated by the second import.
    assert sorted(ProjectEvent.objects.values_list("project__code", "action", "from_state", "to_state")) == [
        ("GP2026-01", "import", "", "finished"), ("XB2026-07", "import", "", "finished")]


@pytest.mark.parametrize(
    "index, value, message",
    [
        (2, "省级", "第2行 项目级别: “省级”不是允许的值"),
        (3, "线上", "第2行 培训方式: “线上”不是允许的值"),
        (6, 0, "第2行 学时: 应大于 0"),
        (6, "很多", "第2行 学时: “很多”不是数字"),
        (9, "2026-03-31", "第2行 结束日期: 不能早于开始日期（2026-04-01）"),
        (11, -5, "第2行 名额: 不能小于 0"),
    ],
)
def test_projects_invalid_rows(db, tmp_path, capsys, index, value, message):
    bad = list(P1)
    bad[index] = value
    with pytest.raises(CommandError):
        call_command("import_projects", write_xlsx(tmp_path / "p.xlsx", PROJECT_HEADERS, [bad]))
    assert message in capsys.readouterr().err
    assert Project.objects.count() == 0


def import_results(tmp_path, rows, *args):
    call_command("import_results", write_xlsx(tmp_path / "r.xlsx", RESULT_HEADERS, rows), *args)


def ledger():
    return sorted(LedgerEntry.objects.values_list("teacher__staff_no", "entry_date", "hours", "credits"))


def test_results_imported_twice_leave_the_cr1_ledger(projects, teachers, tmp_path):
    rows = [
        ["GP2026-01", "T100", "周敏", "优秀", "2026-06-30", None],
        ["GP2026-01", "T200", "陈静", "合格", "2026-06-30", 30],
        ["XB2026-07", "T100", "周敏", "不合格", "2026-03-31", None],
        ["XB2026-07", "T200", "陈静", "合格", "2026-03-31", None],
    ]
    import_results(tmp_path, rows)
    import_results(tmp_path, rows)
    assert ledger() == [
        ("T100", dt.date(2026, 6, 30), D("60.00"), D("24.00")),
        ("T200", dt.date(2026, 3, 31), D("12.00"), D("12.00")),  # blank credits: 12 hours × 1
        ("T200", dt.date(2026, 6, 30), D("30.00"), D("12.00")),  # 30 certified × 24/60
    ]
    assert Enrolment.objects.filter(imported=True).count() == 4
    assert Result.objects.count() == 4


def test_changed_result_file_posts_reversal_and_new_row(projects, teachers, tmp_path):
    import_results(tmp_path, [["GP2026-01", "T100", "周敏", "合格", "2026-06-30", None]])
    import_results(tmp_path, [["GP2026-01", "T100", "周敏", "不合格", "2026-06-30", None]])
    assert ledger() == [
        ("T100", dt.date(2026, 6, 30), D("-60.00"), D("-24.00")),
        ("T100", dt.date(2026, 6, 30), D("60.00"), D("24.00")),
    ]


@pytest.mark.parametrize(
    "bad, message",
    [
        (["GP2026-01", "T100", "周小敏", "合格", "2026-06-30", None], "第2行 姓名: 与工号 T100 的教师姓名不符"),
        (["GP2026-99", "T100", "周敏", "合格", "2026-06-30", None], "第2行 项目编号: “GP2026-99”项目不存在"),
        (["GP2026-01", "T999", "无名", "合格", "2026-06-30", None], "第2行 工号: “T999”教师不存在"),
        (["GP2026-01", "T100", "周敏", "良好", "2026-06-30", None], "第2行 考核结果: “良好”不是允许的值"),
        (["GP2026-01", "T100", "周敏", "合格", None, None], "第2行 完成日期: 考核结果为优秀或合格时不能为空"),
        (["GP2026-01", "T100", "周敏", "合格", "2026-06-30", 0], "第2行 认定学时: 应大于 0"),
    ],
)
def test_results_invalid_rows_write_nothing(projects, teachers, tmp_path, capsys, bad, message):
    with pytest.raises(CommandError):
        import_results(tmp_path, [bad, ["XB2026-07", "T200", "陈静", "合格", "2026-03-31", None]])
    assert message in capsys.readouterr().err
    assert LedgerEntry.objects.count() == 0 and Result.objects.count() == 0


def test_results_duplicate_pair_in_file(projects, teachers, tmp_path, capsys):
    row = ["GP2026-01", "T100", "周敏", "合格", "2026-06-30", None]
    with pytest.raises(CommandError):
        import_results(tmp_path, [row, row])
    assert "第3行 工号: 与第2行重复（同一项目、同一工号）" in capsys.readouterr().err


def test_results_skip_invalid(projects, teachers, tmp_path):
    import_results(
        tmp_path,
        [["GP2026-01", "T100", "周小敏", "合格", "2026-06-30", None], ["XB2026-07", "T200", "陈静", "合格", "2026-03-31", None]],
        "--skip-invalid",
    )
    assert ledger() == [("T200", dt.date(2026, 3, 31), D("12.00"), D("12.00"))]


def test_project_credits_change_reposts_results_after_commit(projects, teachers, tmp_path, django_capture_on_commit_callbacks):
    import_results(tmp_path, [["GP2026-01", "T100", "周敏", "合格", "2026-06-30", None]])
    changed = list(P1)
    changed[7] = 30
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        call_command("import_projects", write_xlsx(tmp_path / "p.xlsx", PROJECT_HEADERS, [changed]))
    # one repost scheduled (the other callbacks are cache version bumps)
    assert sum("_repost_project" in c.__qualname__ for c in callbacks) == 1
    assert sum(c for *_, c in ledger()) == D("30.00")


def test_first_import_counts_new_results_as_created(projects, teachers, tmp_path, capsys):
    rows = [["GP2026-01", "T100", "周敏", "合格", "2026-06-30", None], ["XB2026-07", "T200", "陈静", "不合格", "2026-03-31", None]]
    import_results(tmp_path, rows)
    assert "新增 2，更新 0，无变化 0" in capsys.readouterr().out
    rows[1][3] = "合格"
    import_results(tmp_path, rows)
    assert "新增 0，更新 1，无变化 1" in capsys.readouterr().out


# --- the author of a command-line import (--by) -------------------------------------------------------

ROW = ["GP2026-01", "T100", "周敏", "合格", "2026-06-30", None]


def test_import_without_by_is_written_by_the_system_account(projects, teachers, tmp_path):
    import_results(tmp_path, [ROW])
    row = LedgerEntry.objects.get()
    assert (row.entered_by.username, row.approved_by.username) == ("system", "system")
    assert AuditEntry.objects.filter(action="training.results.imported", actor__username="system").exists()


def test_import_by_a_named_account_records_that_account(projects, teachers, tmp_path, users):
    import_results(tmp_path, [ROW], "--by", "bureau")
    assert LedgerEntry.objects.get().entered_by == users["bureau"]


def test_import_by_a_district_account_is_held_to_its_district(projects, tmp_path, users, city):
    TeacherFactory(staff_no="T100", name="周敏", school=city["schools"][2])  # the other district
    with pytest.raises(CommandError):
        import_results(tmp_path, [ROW], "--by", "district")
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("username, message", [
    ("nobody", "找不到启用中的账号“nobody”"),
    ("auditor", "没有导入数据的权限"),
    ("teacher", "没有导入数据的权限"),
])
def test_import_by_an_unknown_or_read_only_account_is_refused(projects, teachers, tmp_path, users, username, message):
    with pytest.raises(CommandError, match=message):
        import_results(tmp_path, [ROW], "--by", username)
    assert not LedgerEntry.objects.exists()


def test_the_system_account_never_signs_in(projects, teachers, tmp_path, client):
    import_results(tmp_path, [ROW])  # makes the account
    system = get_user_model().objects.get(username="system")
    assert not system.has_usable_password()
    client.force_login(system)  # even a session made for it is refused on the next request
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db(transaction=True)
def test_three_concurrent_imports_of_one_results_file_audit_the_rows_once(tmp_path):
    """Issue 14: three imports of the same file at once each audited "N created". Imports of a kind now
    run one at a time, validation included: the first creates, the others find nothing to change."""
    import threading

    from django.db import connection

    call_command("import_projects", write_xlsx(tmp_path / "p.xlsx", PROJECT_HEADERS, [P1]))
    for i in range(30):
        TeacherFactory(staff_no=f"C{i:03d}", name=f"教师{i}")
    path = write_xlsx(tmp_path / "r.xlsx", RESULT_HEADERS,
                      [["GP2026-01", f"C{i:03d}", f"教师{i}", "合格", "2026-06-30", None] for i in range(30)])
    barrier = threading.Barrier(3)
    errors = []

    def worker():
        try:
            barrier.wait()
            call_command("import_results", path)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    audited = [e.data for e in AuditEntry.objects.filter(action="training.results.imported")]
    assert sorted(d["created"] for d in audited) == [0, 0, 30]
    assert LedgerEntry.objects.count() == 30
