"""schools.xlsx (SPEC §7) through the command: exit codes, --skip-invalid, idempotence, districts."""

import pytest
from django.core.management import CommandError, call_command

from bureau.models import Cluster, District, School
from tests.xlsx import SCHOOL_HEADERS, write_xlsx

GOOD = ["S1", "东风小学", "城东区", "小学", "城区", "否", "城东第一片区", 48]


def test_import_creates_schools_districts_and_clusters(db, tmp_path, capsys):
    path = write_xlsx(tmp_path / "s.xlsx", SCHOOL_HEADERS, [GOOD, ["S2", "白沙中学", "城东区", "初中", "乡村", "是", "", None]])
    call_command("import_schools", path)
    s1, s2 = School.objects.order_by("code")
    assert (s1.district.name, s1.stage, s1.location, s1.is_weak, s1.cluster.name, s1.staffing_quota) == (
        "城东区", "小学", "城区", False, "城东第一片区", 48)
    assert (s2.is_weak, s2.cluster, s2.staffing_quota) == (True, None, None)
    assert District.objects.count() == 1 and Cluster.objects.count() == 1
    assert "新增 2" in capsys.readouterr().out


def test_district_matched_by_code_or_name(db, tmp_path):
    District.objects.create(code="430681", name="汨罗市")
    path = write_xlsx(tmp_path / "s.xlsx", SCHOOL_HEADERS, [[*GOOD[:2], "430681", *GOOD[3:]], ["S2", "二小", "汨罗市", *GOOD[3:]]])
    call_command("import_schools", path)
    assert District.objects.count() == 1
    assert set(School.objects.values_list("district__code", flat=True)) == {"430681"}


def test_reimport_changes_nothing(db, tmp_path, capsys):
    path = write_xlsx(tmp_path / "s.xlsx", SCHOOL_HEADERS, [GOOD])
    call_command("import_schools", path)
    call_command("import_schools", path)
    assert "新增 0，更新 0，无变化 1" in capsys.readouterr().out
    assert School.history.count() == 1


@pytest.mark.parametrize(
    "index, value, message",
    [
        (3, "大学", "第2行 学段: “大学”不是允许的值"),
        (4, "农村", "第2行 城乡类型: “农村”不是允许的值"),
        (5, "Y", "第2行 薄弱学校: “Y”应为 是 或 否"),
        (7, -1, "第2行 编制数: 不能小于 0"),
        (7, 12.5, "第2行 编制数: “12.5”不是整数"),
        (0, None, "第2行 学校代码: 不能为空"),
    ],
)
def test_invalid_row_refuses_whole_file_with_nonzero_exit(db, tmp_path, capsys, index, value, message):
    bad = list(GOOD)
    bad[index] = value
    path = write_xlsx(tmp_path / "s.xlsx", SCHOOL_HEADERS, [bad, ["S9", "九小", "城东区", "小学", "城区", "否", "", 1]])
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("import_schools", path)
    assert message in capsys.readouterr().err
    assert School.objects.count() == 0


def test_skip_invalid_writes_the_valid_rows(db, tmp_path, capsys):
    path = write_xlsx(tmp_path / "s.xlsx", SCHOOL_HEADERS, [GOOD, ["S2", "二小", "城东区", "大学", "城区", "否", "", 1]])
    call_command("import_schools", path, "--skip-invalid")
    out = capsys.readouterr()
    assert "第3行 学段" in out.err
    assert list(School.objects.values_list("code", flat=True)) == ["S1"]


def test_duplicate_code_in_file(db, tmp_path, capsys):
    path = write_xlsx(tmp_path / "s.xlsx", SCHOOL_HEADERS, [GOOD, GOOD])
    with pytest.raises(CommandError):
        call_command("import_schools", path)
    assert "第3行 学校代码: 与第2行重复" in capsys.readouterr().err
