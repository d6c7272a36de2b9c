"""Who organises which project (SPEC §1 "3+1"): bureau every project, a district its 县培, a school its 校本."""

import datetime as dt
from decimal import Decimal as D

import pytest

from bureau.services import ApplicationError
from training.models import Project, ProjectEvent
from training.organisers import may_organise, organised_projects, owner_for_new_project
from training.services import project_transition


def make_project(code, **over):
    values = dict(
        code=code, name="研修", level="市培", mode="集中面授", kind="必修", theme="学科教学", hours=D("24"),
        start_on=dt.date(2026, 12, 1), end_on=dt.date(2026, 12, 5), organiser="承办单位", status="draft",
    )
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


@pytest.mark.parametrize("role, expected", [
    ("bureau", {"C1", "X1", "X2", "B1", "B2"}),
    ("district", {"X1"}),
    ("principal", {"B1"}),
    ("teacher", set()),
    ("auditor", set()),
])
def test_each_role_organises_only_its_own_projects(users, owned, role, expected):
    user = users[role]
    assert set(organised_projects(user).values_list("code", flat=True)) == expected
    assert {code for code, p in [(p.code, p) for p in owned.values()] if may_organise(user, p)} == expected


def test_a_district_does_not_organise_a_city_project_aimed_at_it(users, owned, city):
    owned["city"].target_districts.add(city["districts"][0])
    assert not may_organise(users["district"], owned["city"])


def test_new_projects_carry_the_creators_unit_and_level(users, city):
    assert owner_for_new_project(users["district"]) == {
        "owner_district_id": city["districts"][0].pk, "owner_school_id": None, "level": "县培"}
    assert owner_for_new_project(users["principal"]) == {
        "owner_school_id": city["schools"][0].pk, "owner_district_id": None, "level": "校本"}
    assert owner_for_new_project(users["bureau"]) == {}


@pytest.mark.parametrize("role, code, allowed", [
    ("district", "X1", True), ("district", "X2", False), ("district", "C1", False),
    ("principal", "B1", True), ("principal", "B2", False), ("bureau", "X2", True), ("auditor", "C1", False),
])
def test_the_organiser_moves_its_project_along_and_is_recorded(users, owned, role, code, allowed):
    project = Project.objects.get(code=code)
    if allowed:
        project_transition(project=project, action="publish", actor=users[role])
        assert ProjectEvent.objects.get(project=project).actor == users[role]
    else:
        with pytest.raises(ApplicationError, match="主办单位"):
            project_transition(project=project, action="publish", actor=users[role])
        assert not ProjectEvent.objects.filter(project=project).exists()


def test_a_project_has_one_owner_at_most(city):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        make_project("BAD", owner_district=city["districts"][0], owner_school=city["schools"][0])
