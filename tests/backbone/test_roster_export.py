"""The backbone roster workbook and page (SPEC §7 名册, §8 backbone_roster): one row per entry ever made."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from backbone.exports import ROSTER_HEADERS, roster_status_word
from backbone.models import RosterEntry
from tests.export_helpers import export_content

TODAY = dt.date(2026, 11, 30)


def entry(teacher, cert, *, status="active", awarded=dt.date(2023, 9, 10), expires=dt.date(2028, 9, 10), tier="县级",
          type_="骨干教师"):
    return RosterEntry.objects.create(teacher=teacher, tier=tier, type=type_, certificate_no=cert, awarded_on=awarded,
                                      expires_on=expires, status=status, school_at_award=teacher.school)


@pytest.fixture
def roster(city):
    t1, t2, t3 = city["teachers"]
    return [
        entry(t1, "GG-001"),
        entry(t1, "GG-000", status="revoked", tier="市级"),
        entry(t2, "GG-002", status="lapsed", awarded=dt.date(2020, 9, 1), expires=dt.date(2025, 9, 1)),
        entry(t3, "=cmd|' /C calc'!A0", type_="学科带头人"),
    ]


@pytest.mark.parametrize("status, expires, word", [
    ("active", TODAY + dt.timedelta(days=1), "有效"),
    ("active", TODAY, "已过期"),  # expiry day reached, the lapse job not yet run: the file says what is true
    ("revoked", TODAY + dt.timedelta(days=100), "已撤销"),
    ("lapsed", TODAY, "已过期"),
    ("reawarded", TODAY + dt.timedelta(days=100), "已重新认定"),
])
def test_status_words_at_the_expiry_edge(status, expires, word):
    assert roster_status_word(status, expires, TODAY) == word


def test_command_writes_every_entry_ever_made_in_the_spec_layout(roster, tmp_path, city):
    out = tmp_path / "roster.xlsx"
    call_command("backbone_roster", "--output", str(out))
    sheet = load_workbook(out)["名册"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == ROSTER_HEADERS
    assert len(rows) == 5
    by_cert = {r[0]: r for r in rows[1:]}
    assert by_cert["GG-000"][10] == "已撤销"
    assert by_cert["GG-002"][10] == "已过期"
    t1 = city["teachers"][0]
    assert by_cert["GG-001"][1:8] == ("T1", t1.name, "S1", "城东区", "县级", "骨干教师", t1.subject)
    assert by_cert["GG-001"][8].date() == dt.date(2023, 9, 10)
    assert sheet.freeze_panes == "A2"
    # formula-safe: the hostile certificate number is text, never a formula
    assert any(str(r[0]).lstrip("'").startswith("=cmd") for r in rows[1:])
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_command_refuses_a_missing_directory(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="输出目录不存在"):
        call_command("backbone_roster", "--output", str(tmp_path / "no" / "x.xlsx"))


@pytest.mark.parametrize("role, status, certs", [
    ("bureau", 200, {"GG-001", "GG-000", "GG-002", "=cmd|' /C calc'!A0"}),
    ("auditor", 200, {"GG-001", "GG-000", "GG-002", "=cmd|' /C calc'!A0"}),
    ("district", 200, {"GG-001", "GG-000", "GG-002"}),
    ("principal", 200, {"GG-001", "GG-000"}),
    ("teacher", 403, None),
])
def test_page_and_export_per_role(client, users, roster, role, status, certs, django_assert_max_num_queries):
    client.force_login(users[role])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("backbone:roster"))
    assert response.status_code == status
    if certs is None:
        assert client.get(reverse("backbone:roster") + "?format=xlsx").status_code == 403
        return
    assert {e.certificate_no for e in response.context["page"].object_list} == certs
    url = reverse("backbone:roster") + "?format=xlsx"
    content = client.get(url).content if role == "principal" else export_content(client, url)
    rows = list(load_workbook(io.BytesIO(content))["名册"].iter_rows(values_only=True))[1:]
    assert {str(r[0]).lstrip("'") for r in rows} == certs


def test_page_filters_and_anonymous_goes_to_login(client, users, roster):
    response = client.get(reverse("backbone:roster"))
    assert response.status_code == 302 and "/login" in response["Location"]
    client.force_login(users["bureau"])
    response = client.get(reverse("backbone:roster") + "?status=revoked&tier=市级")
    assert [e.certificate_no for e in response.context["page"].object_list] == ["GG-000"]
    response = client.get(reverse("backbone:roster") + "?status=bogus&tier=x")
    assert response.status_code == 200 and response.context["page"].paginator.count == 4


def test_the_roster_of_the_demo_city_opens_in_libreoffice(db, tmp_path):
    from tests.libreoffice import first_sheet_rows

    call_command("seed_demo", "--teachers", "200", "--seed", "5")
    out = tmp_path / "roster.xlsx"
    call_command("backbone_roster", "--output", str(out))
    rows = first_sheet_rows(out, tmp_path)
    assert rows[0] == ROSTER_HEADERS
    assert len(rows) - 1 == RosterEntry.objects.count() > 3
    assert {r[10] for r in rows[1:]} >= {"有效", "已撤销", "已过期"}
