"""seed_demo: a believable city, repeatable by seed, whose exported roster re-imports unchanged."""

import datetime as dt

from django.core.management import call_command
from django.db import transaction

from bureau.choices import Location, Stage
from bureau.models import Cluster, School, Teacher
from bureau.rules import check_id_number, full_years
from credits.models import LedgerEntry


def test_demo_city_is_believable_and_exports_a_roster_that_reimports_unchanged(db, tmp_path, capsys):
    call_command("seed_demo", "--teachers", "120", "--seed", "7", "--export", str(tmp_path))
    out = capsys.readouterr().out
    assert "120 名教师" in out and "用户名 teacher" in out
    assert set(School.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert set(School.objects.values_list("location", flat=True)) == set(Location.values)
    assert all(c.lead_school and c.lead_school.cluster_id == c.pk for c in Cluster.objects.all())
    today = dt.date.today()
    for t in Teacher.objects.all():
        assert 21 <= full_years(t.birth_date, today) <= 60
        assert t.birth_date < t.employed_on <= t.joined_school_on <= today
        check_id_number(t.id_number, birth_date=t.birth_date, male=t.gender == "男")
    assert LedgerEntry.objects.exists()

    call_command("import_schools", str(tmp_path / "schools.xlsx"))
    call_command("import_teachers", str(tmp_path / "teachers.xlsx"))
    out = capsys.readouterr().out
    assert "新增 0，更新 0，无变化 120" in out


def test_same_seed_gives_the_same_city(db):
    def snapshot():
        return list(Teacher.objects.order_by("staff_no").values_list("name", "birth_date", "school__code", "title"))

    with transaction.atomic():
        call_command("seed_demo", "--teachers", "40", "--seed", "3")
        first = snapshot()
        transaction.set_rollback(True)
    call_command("seed_demo", "--teachers", "40", "--seed", "3")
    assert snapshot() == first and len(first) == 40


def _motion_counts():
    from backbone.models import Application, Objection, SelectionRound
    from bureau.models import Notice
    from credits.models import Claim
    from exchange.models import ExchangePlan, Proposal

    return {
        "plans": list(ExchangePlan.objects.values_list("status", flat=True)),
        "proposals": sorted(Proposal.objects.values_list("status", flat=True)),
        "rounds": list(SelectionRound.objects.values_list("status", flat=True)),
        "applications": Application.objects.count(),
        "objections": list(Objection.objects.values_list("application__round__status", flat=True)),
        "claims": sorted(Claim.objects.values_list("state", flat=True)),
        "notices": Notice.objects.count(),
        "teachers": Teacher.objects.count(),
        "ledger": LedgerEntry.objects.count(),
        "schools": School.objects.count(),
    }


def test_demo_year_in_motion_and_a_second_run_resets_it(db, capsys):
    """Issue 17 item 7: an open exchange plan with proposals, a county round in its notice period with an
    objection, a claim at each review step and notices; a re-run on the same database empties the demo
    and makes it again (same counts) and prints the logins again."""
    from credits.models import ClaimState

    call_command("seed_demo", "--teachers", "300", "--seed", "2026")
    first_out = capsys.readouterr().out
    first = _motion_counts()
    assert first["plans"] == ["open"]
    assert first["proposals"] and {"proposed", "approved", "returned"} <= set(first["proposals"])
    assert first["rounds"] == ["notice"] and first["applications"] >= 2
    assert first["objections"] == ["notice"]
    assert set(first["claims"]) == {ClaimState.SCHOOL_REVIEW, ClaimState.DISTRICT_REVIEW, ClaimState.RETURNED,
                                    ClaimState.APPROVED, ClaimState.REJECTED}
    assert first["notices"] >= 5
    assert "用户名 teacher" in first_out

    call_command("seed_demo", "--teachers", "300", "--seed", "2026")
    second_out = capsys.readouterr().out
    assert "已清空" in second_out and "用户名 principal" in second_out and "用户名 teacher" in second_out
    assert _motion_counts() == first


def test_seed_demo_never_erases_a_city_that_is_not_the_demo(db, capsys):
    from tests.factories import SchoolFactory

    SchoolFactory()
    call_command("seed_demo", "--teachers", "40")
    assert "跳过" in capsys.readouterr().out
    assert School.objects.count() == 1


def test_make_demo_takes_a_port(tmp_path):
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "steps.log"
    fake = bin_dir / "python"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    fake.chmod(0o755)
    (bin_dir / ".installed").touch()
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    result = subprocess.run(["make", "demo", f"BIN={bin_dir}", "PORT=8001"], cwd=root, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert log.read_text().splitlines()[-1].endswith("runserver 127.0.0.1:8001")
    assert "http://127.0.0.1:8001/" in result.stdout
