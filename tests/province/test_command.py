"""`province_report --year Y --output FILE.xlsx` (SPEC §8): masked by default; full 身份证号 only for a
permitted --user, recorded in the audit trail (SEC-3)."""

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from bureau.models import AuditEntry
from tests.factories import UserFactory
from tests.province.conftest import A1_ID, YEAR, full_id_user


def id_of_a1(path):
    sheet = load_workbook(path)["教师"]
    return next(r[2] for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "A1")


def test_writes_masked_numbers_by_default(province_city, tmp_path):
    path = tmp_path / "p.xlsx"
    call_command("province_report", "--year", str(YEAR), "--output", str(path))
    assert id_of_a1(path) == A1_ID[0] + "*" * 16 + A1_ID[-1]
    assert not AuditEntry.objects.filter(action="province.report.id_numbers_exported").exists()


def test_full_numbers_need_a_user(province_city, tmp_path):
    path = tmp_path / "p.xlsx"
    with pytest.raises(CommandError, match="--user"):
        call_command("province_report", "--year", str(YEAR), "--output", str(path), "--with-id-numbers")
    assert not path.exists()


@pytest.mark.parametrize("who", ["clerk", "auditor", "nobody"])
def test_full_numbers_refused_without_the_permission(province_city, tmp_path, who):
    if who == "auditor":
        from bureau.services import user_assign_role

        user_assign_role(user=UserFactory(username="auditor"), role="auditor", actor=None)
    path = tmp_path / "p.xlsx"
    with pytest.raises(CommandError):
        call_command("province_report", "--year", str(YEAR), "--output", str(path), "--with-id-numbers",
                     "--user", who)
    assert not path.exists()
    assert not AuditEntry.objects.filter(action="province.report.id_numbers_exported").exists()


def test_full_numbers_for_a_permitted_user_are_audited(province_city, tmp_path):
    keeper = full_id_user()
    path = tmp_path / "p.xlsx"
    call_command("province_report", "--year", str(YEAR), "--output", str(path), "--with-id-numbers",
                 "--user", "keeper")
    assert id_of_a1(path) == A1_ID
    entry = AuditEntry.objects.get(action="province.report.id_numbers_exported")
    assert entry.actor == keeper and entry.data == {"year": YEAR, "target": "command:p.xlsx"}


def test_missing_output_directory_is_refused(province_city, tmp_path):
    with pytest.raises(CommandError, match="输出目录不存在"):
        call_command("province_report", "--year", str(YEAR), "--output", str(tmp_path / "no" / "p.xlsx"))
