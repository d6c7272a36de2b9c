"""Dashboards and exports: permission per role, scoping, the flag banner, query counts (SEC-1, CR-7)."""

import datetime as dt
import io
from decimal import Decimal as D

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from credits.reports import report_build, report_start
from credits.services import ledger_adjust
from tests.export_helpers import export_content

ROLES = ["anonymous", "superuser", "bureau", "district", "principal", "teacher", "auditor"]
STAFF = {"superuser", "bureau", "district", "auditor"}


def login(client, users, role):
    if role != "anonymous":
        client.force_login(users[role])


def pages(city):
    s1, s3 = city["schools"][0], city["schools"][2]
    d1, d2 = city["districts"]
    return {
        # name: (url, roles allowed (200), roles that get 404 because the object is out of scope)
        "school": (reverse("credits:school-dashboard"), {"principal"}, set()),
        "city": (reverse("credits:city-dashboard"), STAFF, set()),
        "district-own": (reverse("credits:district-dashboard", args=[d1.pk]), STAFF, set()),
        "district-other": (reverse("credits:district-dashboard", args=[d2.pk]), {"superuser", "bureau", "auditor"}, {"district"}),
        "staff-school-own": (reverse("credits:staff-school-dashboard", args=[s1.pk]), STAFF, set()),
        "staff-school-other": (reverse("credits:staff-school-dashboard", args=[s3.pk]), {"superuser", "bureau", "auditor"}, {"district"}),
        "teacher-own": (reverse("credits:teacher-detail", args=["T1"]), STAFF | {"principal"}, set()),
        "teacher-other": (reverse("credits:teacher-detail", args=["T3"]), {"superuser", "bureau", "auditor"}, {"district", "principal"}),
        "teacher-xlsx": (reverse("credits:teacher-transcript-xlsx", args=["T2"]), STAFF, {"principal"}),
        "compliance-xlsx": (reverse("credits:compliance-xlsx") + "?year=2026", STAFF | {"principal"}, set()),
        "ledger-xlsx": (reverse("credits:ledger-xlsx") + "?year=2026", STAFF | {"principal"}, set()),
        "reports": (reverse("credits:reports"), {"superuser", "bureau", "auditor"}, set()),
    }


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_and_export_permissions_per_role(client, users, city, role):
    login(client, users, role)
    for name, (url, allowed, hidden) in pages(city).items():
        status = client.get(url).status_code
        if role == "anonymous" or (name == "city" and role == "district"):
            expected = 302  # to the login page; district staff go straight to their district
        elif role in allowed:
            expected = 200
        elif role in hidden:
            expected = 404
        else:
            expected = 403
        assert status == expected, f"{name} as {role}: {status} != {expected}"


@pytest.mark.parametrize("role", ["district", "principal", "teacher", "auditor"])
def test_only_bureau_starts_or_closes_reports(client, users, role):
    login(client, users, role)
    assert client.post(reverse("credits:report-start") + "?year=2026", {"kind": "closed"}).status_code == 403


def short_and_ok(users, city):
    bureau = users["bureau"]
    # S1 holds T1 (short) only → 100% short → flagged; S2 holds T2 (compliant) → not flagged
    ledger_adjust(teacher_id=city["teachers"][1].pk, entry_date=dt.date(2026, 4, 1), hours=D(80), credits=D(80),
                  reason="测试", actor=bureau)


@pytest.mark.time_machine(dt.datetime(2026, 11, 23, 10, 0))
def test_flag_banner_on_flagged_school_only(client, users, city):
    short_and_ok(users, city)
    client.force_login(users["principal"])
    page = client.get(reverse("credits:school-dashboard")).content.decode()
    assert 'id="flag-banner"' in page and "学分达标预警" in page
    client.force_login(users["bureau"])
    page = client.get(reverse("credits:staff-school-dashboard", args=[city["schools"][1].pk]) + "?year=2026").content.decode()
    assert 'id="flag-banner"' not in page


@pytest.mark.time_machine(dt.datetime(2026, 11, 23, 10, 0))
def test_principal_dashboard_query_count_does_not_grow_with_teachers(client, users, city, django_assert_max_num_queries):
    from tests.factories import TeacherFactory

    client.force_login(users["principal"])
    with django_assert_max_num_queries(30) as small:
        client.get(reverse("credits:school-dashboard"))
    for _ in range(40):
        TeacherFactory(school=city["schools"][0])
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("credits:school-dashboard"))


def test_city_dashboard_reads_the_stored_report(client, users, city, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    short_and_ok(users, city)
    report_build(report_id=report_start(year=2026, kind="live", actor=None).pk)
    client.force_login(users["auditor"])
    page = client.get(reverse("credits:city-dashboard") + "?year=2026").content.decode()
    assert 'id="flagged-count">2<' in page and "东一小学" in page and "西一小学" in page  # S1 and S3 short


def test_district_workbook_only_holds_the_district(client, users, city):
    client.force_login(users["district"])
    book = load_workbook(io.BytesIO(export_content(client, reverse("credits:compliance-xlsx") + "?year=2026")))
    assert [r[0] for r in book["学校"].iter_rows(min_row=2, values_only=True)] == ["S1", "S2"]
    assert [r[0] for r in book["教师"].iter_rows(min_row=2, values_only=True)] == ["T1", "T2"]


def test_ledger_export_is_scoped_and_filterable(client, users, city):
    short_and_ok(users, city)
    ledger_adjust(teacher_id=city["teachers"][2].pk, entry_date=dt.date(2026, 4, 1), hours=D(5), credits=D(5),
                  reason="=cmd|' /C calc'!A0", actor=users["bureau"])
    client.force_login(users["principal"])
    book = load_workbook(io.BytesIO(client.get(reverse("credits:ledger-xlsx") + "?year=2026").content))
    assert list(book.active.iter_rows(min_row=2, values_only=True)) == []
    client.force_login(users["auditor"])
    sheet = load_workbook(io.BytesIO(export_content(client, reverse("credits:ledger-xlsx") + "?year=2026"))).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert sorted(r[1] for r in rows) == ["T2", "T3"]
    formula_cell = next(c for c in sheet["L"] if isinstance(c.value, str) and c.value.startswith("="))
    assert formula_cell.data_type == "s"


@pytest.mark.time_machine(dt.datetime(2026, 11, 23, 10, 0))
def test_cached_dashboard_follows_a_new_ledger_row_at_once(client, users, city):
    client.force_login(users["principal"])
    assert 'id="flag-banner"' in client.get(reverse("credits:school-dashboard")).content.decode()
    ledger_adjust(teacher_id=city["teachers"][0].pk, entry_date=dt.date(2026, 4, 1), hours=D(72), credits=D(72),
                  reason="补录", actor=users["bureau"])
    assert 'id="flag-banner"' not in client.get(reverse("credits:school-dashboard")).content.decode()
