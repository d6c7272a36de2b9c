"""The project admin scoped to who organises what (SPEC §1): district staff and principals see and change only
their own projects; a project they add is theirs (owner and level forced); the imports stay bureau staff's."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse

from training.models import Project, ProjectEvent


def make_project(code, **over):
    values = dict(code=code, name="研修", level="市培", mode="集中面授", kind="必修", theme="学科教学", hours=D("24"),
                  start_on=dt.date(2026, 12, 1), end_on=dt.date(2026, 12, 5), organiser="承办单位", status="draft")
    values.update(over)
    return Project.objects.create(**values)


@pytest.fixture
def owned(city):
    d1, d2 = city["districts"]
    s1, s2, _ = city["schools"]
    return {
        "C1": make_project("C1"), "X1": make_project("X1", level="县培", owner_district=d1),
        "X2": make_project("X2", level="县培", owner_district=d2), "B1": make_project("B1", level="校本", owner_school=s1),
    }


CHANGELIST = reverse("admin:training_project_changelist")


@pytest.mark.parametrize("role, listed", [
    ("bureau", {"C1", "X1", "X2", "B1"}), ("district", {"X1"}), ("principal", {"B1"}), ("auditor", {"C1", "X1", "X2", "B1"})])
def test_changelist_per_role(client, users, owned, role, listed):
    client.force_login(users[role])
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert {p.code for p in response.context["cl"].result_list} == listed


def test_teachers_never_reach_the_admin(client, users, owned):
    client.force_login(users["teacher"])
    assert client.get(CHANGELIST).status_code == 302


@pytest.mark.parametrize("role, code, expected", [
    ("district", "X1", 200), ("district", "X2", 302), ("district", "C1", 302),
    ("principal", "B1", 200), ("principal", "X1", 302), ("bureau", "X2", 200)])
def test_change_page_only_for_own_projects(client, users, owned, role, code, expected):
    client.force_login(users[role])
    response = client.get(reverse("admin:training_project_change", args=[owned[code].pk]))
    assert response.status_code == expected
    if expected == 302:
        assert response.url == reverse("admin:index")


def admin_add_data(**over):
    data = {"code": "A1", "name": "县级培训", "level": "国培", "mode": "集中面授", "kind": "必修", "theme": "学科教学",
            "hours": "12", "start_on": "2027-03-01", "end_on": "2027-03-02", "organiser": "区进修学校",
            "target_stages": "[]", "target_subjects": "[]", "target_titles": "[]",
            "sessions-TOTAL_FORMS": "0", "sessions-INITIAL_FORMS": "0", "sessions-MIN_NUM_FORMS": "0",
            "sessions-MAX_NUM_FORMS": "1000", "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0",
            "events-MIN_NUM_FORMS": "0", "events-MAX_NUM_FORMS": "1000"}
    data.update(over)
    return data


@pytest.mark.parametrize("role, level, owner", [("district", "县培", "district"), ("principal", "校本", "school")])
def test_a_project_added_in_the_admin_is_the_creators_units(client, users, city, role, level, owner):
    client.force_login(users[role])
    response = client.post(reverse("admin:training_project_add"), admin_add_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    project = Project.objects.get(code="A1")
    assert project.level == level
    if owner == "district":
        assert project.owner_district == city["districts"][0]
        assert list(project.target_districts.all()) == [city["districts"][0]]
    else:
        assert project.owner_school == city["schools"][0]
    assert ProjectEvent.objects.get(project=project).action == "create"


@pytest.mark.parametrize("role", ["district", "principal"])
def test_the_imports_are_bureau_staffs(client, users, owned, role):
    client.force_login(users[role])
    for name in ("admin:training_project_import", "admin:training_project_import_quotas"):
        assert client.get(reverse(name)).status_code == 403
    assert "从 Excel 导入" not in client.get(CHANGELIST).content.decode()


def test_auditors_cannot_add(client, users, owned):
    client.force_login(users["auditor"])
    assert client.get(reverse("admin:training_project_add")).status_code == 403


def test_district_approves_its_teachers_enrolment_with_the_admin_action(client, users, city, owned):
    from training.models import Enrolment

    enrolment = Enrolment.objects.create(project=owned["X1"], teacher=city["teachers"][0], state="school_approved")
    client.force_login(users["district"])
    client.post(reverse("admin:training_enrolment_changelist"),
                {"action": "approve_selected", "_selected_action": [enrolment.pk]})
    enrolment.refresh_from_db()
    assert enrolment.state == "approved"


def test_a_mistake_in_the_admin_form_shows_beside_the_form_not_as_403(client, users, city):
    client.force_login(users["district"])
    response = client.post(reverse("admin:training_project_add"), admin_add_data(end_on="2027-02-01"))
    assert response.status_code == 200
    assert "结束日期：不能早于开始日期。" in response.content.decode()
    assert not Project.objects.filter(code="A1").exists()


def test_a_running_project_opens_read_only_in_the_admin(client, users, owned):
    Project.objects.filter(pk=owned["X1"].pk).update(status="running")
    client.force_login(users["district"])
    url = reverse("admin:training_project_change", args=[owned["X1"].pk])
    response = client.get(url)
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert client.post(url, admin_add_data(code="X1")).status_code == 403  # no change permission, nothing saved
    assert Project.objects.get(pk=owned["X1"].pk).name == "研修"


def test_bureau_hands_a_county_project_to_its_district_in_the_admin(client, users, city, owned):
    d1 = city["districts"][0]
    project = make_project("X9", level="县培")
    client.force_login(users["bureau"])
    response = client.post(reverse("admin:training_project_change", args=[project.pk]),
                           admin_add_data(code="X9", level="县培", owner_district=str(d1.pk)))
    assert response.status_code == 302, response.content.decode()[:2000]
    project.refresh_from_db()
    assert project.owner_district == d1
    assert ProjectEvent.objects.filter(project=project, reason="主办单位改为城东区").exists()
    from training.organisers import may_organise

    assert may_organise(users["district"], project)
