"""REST API: schema and docs, role scoping per endpoint (SEC-1), enrolment through the API."""

import datetime as dt
from decimal import Decimal as D

import pytest

from training.models import Project
from training.services import result_record

ROLES = ["superuser", "bureau", "district", "principal", "teacher", "auditor"]
# Which of T1 (S1, district D1), T2 (S2, D1), T3 (S3, D2) each role may see.
VISIBLE = {
    "superuser": {"T1", "T2", "T3"},
    "bureau": {"T1", "T2", "T3"},
    "auditor": {"T1", "T2", "T3"},
    "district": {"T1", "T2"},
    "principal": {"T1"},
    "teacher": {"T1"},
}


@pytest.fixture
def posted(city, users):
    project = Project.objects.create(
        code="P1", name="班主任能力提升", level="市培", mode="集中面授", kind="必修", theme="班主任",
        hours=D("16"), start_on=dt.date(2026, 4, 1), end_on=dt.date(2026, 4, 2), organiser="市教育局", status="enrolling",
    )
    for teacher in city["teachers"]:
        result_record(project=project, teacher=teacher, grade="合格", completed_on=dt.date(2026, 4, 2), certified_hours=None, actor=None)
    return project


def staff_nos(response):
    return {row["staff_no"] for row in response.json()["results"]}


@pytest.mark.parametrize("url", ["/api/projects/", "/api/enrolments/", "/api/results/", "/api/ledger/", "/api/teachers/T1/summary/"])
def test_anonymous_is_refused_everywhere(client, url, posted):
    assert client.get(url).status_code in (401, 403)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ["enrolments", "results", "ledger"])
def test_list_endpoints_are_scoped_per_role(client, users, posted, role, endpoint):
    client.force_login(users[role])
    response = client.get(f"/api/{endpoint}/")
    assert response.status_code == 200
    assert staff_nos(response) == VISIBLE[role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("staff_no", ["T1", "T2", "T3"])
def test_summary_only_for_visible_teachers(client, users, posted, role, staff_no):
    client.force_login(users[role])
    response = client.get(f"/api/teachers/{staff_no}/summary/?year=2026")
    if staff_no in VISIBLE[role]:
        assert response.status_code == 200
        assert response.json()["annual_credits"] == "16.00" and response.json()["compliant"] is False
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_ledger_is_read_only_for_everyone(client, users, posted, role):
    client.force_login(users[role])
    entry_id = client.get("/api/ledger/").json()["results"][0]["id"]
    assert client.post("/api/ledger/", {}).status_code == 405
    assert client.delete(f"/api/ledger/{entry_id}/").status_code == 405
    assert client.patch(f"/api/ledger/{entry_id}/", {"credits": "99"}, content_type="application/json").status_code == 405


@pytest.mark.parametrize("role", ROLES)
def test_projects_are_readable_by_every_signed_in_role(client, users, posted, role):
    client.force_login(users[role])
    assert [p["code"] for p in client.get("/api/projects/?status=enrolling").json()["results"]] == ["P1"]
    assert client.post("/api/projects/", {"code": "X"}).status_code == 405


def test_teacher_enrols_through_the_api_and_sees_the_reason_when_refused(client, users, city):
    project = Project.objects.create(
        code="P2", name="信息技术", level="县培", mode="网络研修", kind="选修", theme="信息技术", hours=D("10"),
        start_on=dt.date(2026, 12, 1), end_on=dt.date(2026, 12, 2), organiser="区教师发展中心", status="enrolling", capacity=1,
    )
    client.force_login(users["teacher"])
    response = client.post("/api/enrolments/", {"project": project.pk})
    assert response.status_code == 201 and response.json()["state"] == "applied"
    response = client.post("/api/enrolments/", {"project": project.pk})
    assert response.status_code == 400 and "不能重复报名" in response.json()["detail"]


@pytest.mark.parametrize("role, status", [("auditor", 403), ("district", 403), ("principal", 201)])
def test_only_teacher_or_principal_may_enrol(client, users, city, role, status):
    project = Project.objects.create(
        code="P3", name="新教师", level="县培", mode="集中面授", kind="必修", theme="新教师", hours=D("10"),
        start_on=dt.date(2026, 12, 1), end_on=dt.date(2026, 12, 2), organiser="区教师发展中心", status="enrolling",
    )
    client.force_login(users[role])
    response = client.post("/api/enrolments/", {"project": project.pk, "teacher": city["teachers"][0].pk})
    assert response.status_code == status


def test_schema_and_docs_are_served_without_a_cdn(client, users):
    client.force_login(users["bureau"])
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/ledger/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs and "cdn" not in docs.lower()


def _project(code, status, **kwargs):
    return Project.objects.create(
        code=code, name=f"项目{code}", level="市培", mode="集中面授", kind="必修", theme="班主任", hours=D("8"),
        start_on=dt.date(2026, 5, 1), end_on=dt.date(2026, 5, 2), organiser="市教育局", status=status, **kwargs,
    )


@pytest.fixture
def catalogue(city):
    """A draft, an archived, an open project for all, one aimed at the other district (D2), one at D1."""
    _project("DRAFT", "draft")
    _project("OLD", "archived")
    _project("ALL", "enrolling")
    _project("D2ONLY", "published").target_districts.add(city["districts"][1])
    _project("D1ONLY", "running").target_districts.add(city["districts"][0])
    return {"DRAFT", "OLD", "ALL", "D2ONLY", "D1ONLY"}


@pytest.mark.parametrize("role", ["superuser", "bureau", "district", "principal", "auditor"])
def test_staff_and_principals_keep_the_whole_catalogue(client, users, catalogue, role):
    client.force_login(users[role])
    assert {row["code"] for row in client.get("/api/projects/").json()["results"]} == catalogue


def test_teacher_sees_only_projects_open_to_them_never_a_draft(client, users, catalogue):
    client.force_login(users["teacher"])  # T1 of S1 in D1
    assert {row["code"] for row in client.get("/api/projects/").json()["results"]} == {"ALL", "D1ONLY"}
    draft = Project.objects.get(code="DRAFT")
    assert client.get(f"/api/projects/{draft.pk}/").status_code == 404
    assert client.get("/api/projects/", {"status": "draft"}).json()["results"] == []


def test_teacher_still_sees_a_project_they_attended_after_it_is_archived(client, users, city, catalogue):
    old = Project.objects.get(code="OLD")
    result_record(project=old, teacher=city["teachers"][0], grade="合格", completed_on=dt.date(2026, 5, 2),
                  certified_hours=None, actor=None)
    client.force_login(users["teacher"])
    assert {row["code"] for row in client.get("/api/projects/").json()["results"]} == {"ALL", "D1ONLY", "OLD"}
