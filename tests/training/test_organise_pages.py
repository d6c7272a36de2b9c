"""Organiser pages (SPEC §1 "who organises what"): /organise/projects/ (list + create) and the project hub.

Bureau staff organise every project, district staff their 县培, principals their 校本; teachers and
auditors are refused; another unit's project answers 404.
"""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse

from bureau.services import ApplicationError
from training.models import Enrolment, Project, ProjectEvent
from training.projects import project_create, project_update
from training.services import enrolment_apply, enrolment_transition

TODAY = dt.date(2026, 11, 23)


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
        "city": make_project("C1"),
        "d1": make_project("X1", level="县培", owner_district=d1),
        "d2": make_project("X2", level="县培", owner_district=d2),
        "s1": make_project("B1", level="校本", owner_school=s1),
        "s2": make_project("B2", level="校本", owner_school=s2),
    }


def form_data(**over):
    data = dict(code="N1", name="新教师入职培训", level="市培", mode="集中面授", kind="必修", theme="新教师", hours="24",
                credits="", start_on="2027-01-10", end_on="2027-01-12", organiser="区教师发展中心", capacity="40",
                enrol_opens_on="2026-12-01", enrol_closes_on="2026-12-20", target_subjects="语文、数学")
    data.update(over)
    return data


# --- who may open which page ------------------------------------------------------------------------

OWN = {"bureau": "C1", "district": "X1", "principal": "B1"}
OTHER = {"bureau": None, "district": "X2", "principal": "B2"}


@pytest.mark.parametrize("role, expected", [
    ("bureau", 200), ("district", 200), ("principal", 200), ("teacher", 403), ("auditor", 403)])
def test_project_list_per_role(client, users, owned, role, expected):
    client.force_login(users[role])
    assert client.get(reverse("training:organise-projects")).status_code == expected


def test_anonymous_is_sent_to_log_in(client, owned):
    for url in (reverse("training:organise-projects"), reverse("training:organise-project", args=[owned["d1"].pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url
    response = client.post(reverse("training:organise-project-step", args=[owned["d1"].pk]), {"action": "publish"})
    assert response.status_code == 302 and "/accounts/login/" in response.url


@pytest.mark.parametrize("role, listed", [
    ("bureau", {"C1", "X1", "X2", "B1", "B2"}), ("district", {"X1"}), ("principal", {"B1"})])
def test_each_organiser_lists_only_its_own_projects(client, users, owned, role, listed):
    client.force_login(users[role])
    response = client.get(reverse("training:organise-projects"))
    assert {p.code for p in response.context["page"]} == listed


@pytest.mark.parametrize("role", ["bureau", "district", "principal"])
def test_the_hub_opens_for_the_organiser_and_another_units_project_is_404(client, users, owned, role):
    client.force_login(users[role])
    own = Project.objects.get(code=OWN[role])
    assert client.get(reverse("training:organise-project", args=[own.pk])).status_code == 200
    if OTHER[role]:
        other = Project.objects.get(code=OTHER[role])
        assert client.get(reverse("training:organise-project", args=[other.pk])).status_code == 404
        response = client.post(reverse("training:organise-project-step", args=[other.pk]), {"action": "publish"})
        assert response.status_code == 404
        other.refresh_from_db()
        assert other.status == "draft"
    if role != "bureau":  # the city's project is not theirs either
        assert client.get(reverse("training:organise-project", args=[owned["city"].pk])).status_code == 404


@pytest.mark.parametrize("role", ["teacher", "auditor"])
def test_teachers_and_auditors_are_refused_the_hub_and_its_steps(client, users, owned, role):
    client.force_login(users[role])
    assert client.get(reverse("training:organise-project", args=[owned["city"].pk])).status_code == 403
    response = client.post(reverse("training:organise-project-step", args=[owned["city"].pk]), {"action": "publish"})
    assert response.status_code == 403


def test_the_list_takes_a_fixed_number_of_queries(client, users, city, django_assert_max_num_queries):
    for i in range(30):
        make_project(f"L{i}", level="县培", owner_district=city["districts"][0])
    client.force_login(users["district"])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("training:organise-projects"))
    assert len(response.context["page"]) == 30


# --- creating ---------------------------------------------------------------------------------------


def test_a_district_creates_a_county_project_for_its_own_district(client, users, city):
    client.force_login(users["district"])
    response = client.post(reverse("training:organise-projects"), form_data(level="国培"))
    project = Project.objects.get(code="N1")
    assert response.status_code == 302 and response.url == reverse("training:organise-project", args=[project.pk])
    assert (project.level, project.owner_district, project.owner_school, project.status) == (
        "县培", city["districts"][0], None, "draft")
    assert list(project.target_districts.all()) == [city["districts"][0]]
    assert project.target_subjects == ["语文", "数学"]
    event = ProjectEvent.objects.get(project=project)
    assert (event.action, event.from_state, event.to_state, event.actor) == ("create", "", "draft", users["district"])


def test_a_principal_creates_a_school_project_for_the_school(client, users, city):
    client.force_login(users["principal"])
    client.post(reverse("training:organise-projects"), form_data(mode="校本研修"))
    project = Project.objects.get(code="N1")
    assert (project.level, project.owner_school, project.owner_district) == ("校本", city["schools"][0], None)


def test_bureau_staff_choose_level_and_districts(client, users, city):
    client.force_login(users["bureau"])
    client.post(reverse("training:organise-projects"), form_data(level="省培", target_districts=[city["districts"][1].pk]))
    project = Project.objects.get(code="N1")
    assert (project.level, project.owner_district, project.owner_school) == ("省培", None, None)
    assert list(project.target_districts.all()) == [city["districts"][1]]


@pytest.mark.parametrize("over, message", [
    ({"end_on": "2027-01-09"}, "结束日期：不能早于开始日期"),
    ({"hours": "-1"}, "学时"),
    ({"enrol_closes_on": "2026-11-30"}, "报名截止：不能早于报名开始"),
    ({"enrol_closes_on": "2027-01-13"}, "报名截止：不能晚于项目结束日期"),
    ({"name": "新教师\x0b培训"}, "控制字符"),
    ({"code": "C1"}, "已被使用"),
])
def test_a_bad_project_is_refused_with_the_reason(client, users, owned, over, message):
    client.force_login(users["district"])
    data = form_data(**over)
    response = client.post(reverse("training:organise-projects"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Project.objects.filter(name=data["name"], code=data["code"]).exclude(code="C1").exists()


def test_edge_end_on_the_start_day_and_zero_hours_are_accepted(users, city):
    project = project_create(actor=users["district"], fields=form_data(end_on=dt.date(2027, 1, 10), hours=D("0"),
                                                                       start_on=dt.date(2027, 1, 10), enrol_opens_on=None,
                                                                       enrol_closes_on=dt.date(2027, 1, 10), capacity=None,
                                                                       credits=None, target_subjects=[]))
    assert project.start_on == project.end_on and project.hours == 0


@pytest.mark.parametrize("role", ["teacher", "auditor"])
def test_the_service_refuses_roles_that_organise_nothing(users, city, role):
    with pytest.raises(ApplicationError, match="无权新建"):
        project_create(actor=users[role], fields=form_data())


# --- editing and the life cycle ---------------------------------------------------------------------


def test_the_organiser_edits_a_draft_and_the_change_is_recorded(client, users, owned):
    project = owned["d1"]
    client.force_login(users["district"])
    response = client.post(reverse("training:organise-project", args=[project.pk]),
                           form_data(code="X1", name="县级班主任培训", theme="班主任"))
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.theme, project.level) == ("县级班主任培训", "班主任", "县培")
    event = ProjectEvent.objects.get(project=project, action="update")
    assert event.actor == users["district"] and "项目名称" in event.reason


def test_a_project_open_for_enrolment_can_no_longer_be_edited(client, users, owned):
    project = owned["d1"]
    Project.objects.filter(pk=project.pk).update(status="enrolling")
    client.force_login(users["district"])
    response = client.get(reverse("training:organise-project", args=[project.pk]))
    assert response.context["form"] is None
    client.post(reverse("training:organise-project", args=[project.pk]), form_data(code="X1", name="改名"))
    project.refresh_from_db()
    assert project.name == "研修"
    with pytest.raises(ApplicationError, match="不能再修改"):
        project_update(project=project, actor=users["district"], fields=form_data(code="X1"))


def test_the_life_cycle_buttons_move_the_project(client, users, owned):
    project = owned["s1"]
    client.force_login(users["principal"])
    url = reverse("training:organise-project-step", args=[project.pk])
    client.post(url, {"action": "publish"})
    client.post(url, {"action": "open_enrolment"})
    response = client.post(url, {"action": "finish"}, follow=True)  # not from 报名中: refused with the reason
    assert "不能执行“结束”" in response.content.decode()
    project.refresh_from_db()
    assert project.status == "enrolling"
    assert list(ProjectEvent.objects.filter(project=project).values_list("action", flat=True)) == [
        "publish", "open_enrolment"]


# --- audience of a school's project; its organiser's step on enrolments ----------------------------


def test_a_school_project_is_for_its_own_teachers_only(users, city, owned):
    project = owned["s1"]
    Project.objects.filter(pk=project.pk).update(status="enrolling")
    t1, t2, _ = city["teachers"]
    enrolment = enrolment_apply(project=project, teacher=t1, actor=users["teacher"], today=TODAY)
    from bureau.services import user_assign_role
    from tests.factories import UserFactory

    other = UserFactory(username="t2")
    user_assign_role(user=other, role="teacher", actor=users["superuser"], teacher=t2)
    with pytest.raises(ApplicationError, match="仅面向主办学校的教师"):
        enrolment_apply(project=project, teacher=t2, actor=other, today=TODAY)
    # The principal approves as the school and then as the project's organiser.
    enrolment_transition(enrolment=enrolment, action="school_approve", actor=users["principal"])
    enrolment_transition(enrolment=enrolment, action="approve", actor=users["principal"], today=TODAY)
    assert Enrolment.objects.get(pk=enrolment.pk).state == "approved"


def test_the_teacher_portal_hides_other_schools_projects(client, users, owned):
    Project.objects.filter(code__in=["B1", "B2"]).update(status="enrolling")
    client.force_login(users["teacher"])
    response = client.get(reverse("training:projects"))
    assert [p.code for p in response.context["projects"]] == ["B1"]


def test_the_hub_takes_a_fixed_number_of_queries(client, users, owned, city, django_assert_max_num_queries):
    from tests.factories import TeacherFactory

    project = owned["d1"]
    for i in range(15):
        Enrolment.objects.create(project=project, teacher=TeacherFactory(school=city["schools"][0], staff_no=f"H{i}"))
    client.force_login(users["district"])
    for action in ("publish", "open_enrolment"):
        client.post(reverse("training:organise-project-step", args=[project.pk]), {"action": action})
    Project.objects.filter(pk=project.pk).update(status="published")
    with django_assert_max_num_queries(14):
        response = client.get(reverse("training:organise-project", args=[project.pk]))
    assert response.context["counts"] == {"enrolled": 15, "approved": 0}
