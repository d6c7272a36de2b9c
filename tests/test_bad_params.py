"""SEC-6: malformed or out-of-range query parameters answer 400 with a Chinese message, never 500.

One year rule everywhere (bureau.params, docs/decisions.md): a whole number from 2000 to 2100."""

import pytest
from django.core.management import CommandError, call_command

from bureau.params import YEAR_MESSAGE

BAD_YEARS = ["0", "1999", "2101", "10000", "2026.5", "abc", "-2026", "1e3", "9" * 30, "9" * 5000]
GOOD_YEARS = ["2000", "2100"]

# page -> roles that may open it (the year is checked after the permission check)
PAGES = {
    "/portal/": ["teacher"],
    "/school/": ["principal"],
    "/dashboard/": ["bureau", "district", "auditor"],
    "/dashboard/teacher/T1/": ["bureau", "principal"],
    "/reports/": ["bureau", "auditor"],
    "/reports/compliance.xlsx": ["bureau", "principal"],
    "/reports/ledger.xlsx": ["district", "principal"],
    "/exchange/": ["bureau", "district", "auditor"],
    "/exchange/school/": ["principal"],
    "/exchange/me/": ["teacher"],
    "/exchange/workbook.xlsx": ["bureau", "principal"],
    "/backbone/plan/": ["bureau", "district", "auditor"],
}
PAGE_CASES = [(url, role) for url, roles in PAGES.items() for role in roles]


@pytest.mark.parametrize(("url", "role"), PAGE_CASES)
@pytest.mark.parametrize("year", BAD_YEARS)
def test_sec6_page_answers_400_for_a_bad_year(client, users, url, role, year):
    client.force_login(users[role])
    response = client.get(url, {"year": year})
    assert response.status_code == 400
    assert YEAR_MESSAGE in response.content.decode()


@pytest.mark.parametrize(("url", "role"), PAGE_CASES)
@pytest.mark.parametrize("year", GOOD_YEARS)
def test_sec6_page_takes_the_edges_of_the_year_range(client, users, url, role, year):
    client.force_login(users[role])
    assert client.get(url, {"year": year}, follow=True).status_code == 200


def test_sec6_bad_year_of_a_page_is_not_shown_to_the_anonymous(client, city):
    """The permission check comes first: a stranger is sent to sign in, not told about the year."""
    assert client.get("/portal/", {"year": "0"}).status_code == 302


@pytest.mark.parametrize("year", ["0", "abc", "10000"])
def test_sec6_exchange_post_with_a_bad_year_answers_400(client, users, year):
    client.force_login(users["bureau"])
    assert client.post("/exchange/open/", {"year": year}).status_code == 400


def test_sec6_exchange_me_refuses_an_unknown_title(client, users):
    client.force_login(users["teacher"])
    response = client.get("/exchange/me/", {"title": "院士"})
    assert response.status_code == 400 and "职称应为" in response.content.decode()


@pytest.mark.parametrize("query", [
    {"from": "2026-13-01"}, {"to": "abc"}, {"from": "0001-01-01"}, {"to": "9999-12-31"}, {"school": "abc"},
    {"school": "²"}, {"school": "0"}, {"school": "9" * 30},
])
def test_sec6_claims_turnaround_answers_400_for_bad_dates_and_ids(client, users, query):
    client.force_login(users["bureau"])
    assert client.get("/claims/turnaround/", query).status_code == 400


@pytest.mark.parametrize("query", [{"school": "S1\x00"}, {"source": "x\x00"}, {"school": "S" * 101}])
def test_sec6_ledger_workbook_answers_400_for_nul_or_overlong_filters(client, users, query):
    client.force_login(users["bureau"])
    assert client.get("/reports/ledger.xlsx", {"year": "2026", **query}).status_code == 400


@pytest.mark.parametrize("role", ["bureau", "district", "principal", "teacher", "auditor"])
@pytest.mark.parametrize("year", BAD_YEARS)
def test_sec6_api_ledger_answers_400_for_a_bad_year(client, users, role, year):
    client.force_login(users[role])
    response = client.get("/api/ledger/", {"year": year})
    assert response.status_code == 400
    assert response.json() == {"year": [YEAR_MESSAGE]}


@pytest.mark.parametrize("role", ["bureau", "teacher"])
@pytest.mark.parametrize("year", ["2000", "2100"])
def test_sec6_api_ledger_takes_the_edges(client, users, role, year):
    client.force_login(users[role])
    assert client.get("/api/ledger/", {"year": year}).status_code == 200


@pytest.mark.parametrize("role", ["bureau", "district", "principal", "teacher", "auditor"])
@pytest.mark.parametrize("year", BAD_YEARS)
def test_sec6_api_summary_answers_400_for_a_bad_year(client, users, role, year):
    client.force_login(users[role])
    response = client.get("/api/teachers/T1/summary/", {"year": year})
    assert response.status_code == 400
    assert response.json() == {"year": [YEAR_MESSAGE]}


@pytest.mark.parametrize("year", ["2000", "2100"])
def test_sec6_api_summary_takes_the_edges(client, users, year):
    client.force_login(users["teacher"])
    response = client.get("/api/teachers/T1/summary/", {"year": year})
    assert response.status_code == 200 and response.json()["year"] == int(year)


@pytest.mark.parametrize("url", [
    "/api/teachers/T1%00/summary/", "/dashboard/teacher/T1%00/", "/dashboard/teacher/T1%00/transcript.xlsx",
    "/verify/C1%00/", "/certificates/C1%00.pdf", "/verify/C1%00/credential.jwt", "/certificates/C1%00.jwt",
])
def test_sec6_nul_in_a_staff_number_is_not_found(client, users, url):
    client.force_login(users["bureau"])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("query", [
    {"staff_no": "T1", "title": "院士"}, {"staff_no": "T1"}, {"title": "高级教师"},
    {"staff_no": "T1", "title": "高级教师", "on": "2026-02-30"},
    {"staff_no": "T1", "title": "高级教师", "on": "0001-01-01"},
    {"staff_no": "T1", "title": "高级教师", "on": "9999-12-31"},
    {"staff_no": "T1\x00", "title": "高级教师"},
])
def test_sec6_api_promotion_check_answers_400_for_bad_input(client, users, query):
    client.force_login(users["bureau"])
    assert client.get("/api/exchange/promotion-check/", query).status_code == 400


@pytest.mark.parametrize("query", [{"start_on__gte": "10000-01-01"}, {"status": "x"}, {"page": "abc"}])
def test_sec6_api_projects_filters_never_fail(client, users, query):
    client.force_login(users["bureau"])
    assert client.get("/api/projects/", query).status_code in (400, 404)


@pytest.mark.parametrize("command", ["exchange_plan", "compliance_report", "backbone_candidates", "certificate_register"])
@pytest.mark.parametrize("year", ["0", "abc", "2026.5", "10000"])
def test_sec6_commands_refuse_a_bad_year_with_a_chinese_error(db, tmp_path, command, year):
    extra = ["--tier", "县级", "--type", "骨干教师"] if command == "backbone_candidates" else []
    with pytest.raises(CommandError, match="年度应为 2000–2100"):
        call_command(command, "--year", year, "--output", str(tmp_path / "out.xlsx"), *extra)


def test_unknown_api_address_answers_json_404(client, users):
    client.force_login(users["bureau"])
    response = client.get("/api/projects/-6.1e-05/")  # no route matches (a dot in the id)
    assert response.status_code == 404 and response.json() == {"detail": "接口地址不存在。"}


def test_schema_says_an_empty_optional_query_value_is_allowed(client, users):
    client.force_login(users["bureau"])
    schema = client.get("/api/schema/?format=json").json()
    year = next(p for p in schema["paths"]["/api/ledger/"]["get"]["parameters"] if p["name"] == "year")
    assert year == {"in": "query", "name": "year", "schema": {"type": "integer", "minimum": 2000, "maximum": 2100},
                    "allowEmptyValue": True}
    assert client.get("/api/ledger/", {"year": "", "page": ""}).status_code == 200


def test_sec6_a_bad_year_on_the_command_line_is_a_usage_error_not_a_traceback(db, tmp_path, capsys):
    from exchange.management.commands.exchange_plan import Command

    with pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(["manage.py", "exchange_plan", "--year", "0", "--output", str(tmp_path / "x.xlsx")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--year: 0：年度应为 2000–2100" in err and "Traceback" not in err
