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
