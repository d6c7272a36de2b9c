"""Notices along the enrolment chain: the teacher hears of each step, whoever acts next is told, each
once (stable keys), after commit, and never the actor of their own step."""

import datetime as dt
from decimal import Decimal as D

import pytest

from bureau.choices import Role
from bureau.models import Notice
from bureau.services import user_assign_role
from tests.factories import UserFactory
from training.models import Enrolment, Project
from training.services import enrolment_apply, enrolment_transition

TODAY = dt.date(2026, 11, 23)


def make_project(**over):
    values = dict(code="P1", name="新课标研修", level="市培", mode="集中面授", kind="必修", theme="学科教学",
                  hours=D("24"), start_on=dt.date(2026, 12, 1), end_on=dt.date(2026, 12, 5), organiser="市教师发展中心",
                  status="enrolling")
    values.update(over)
    return Project.objects.create(**values)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def titles(user):
    return sorted(Notice.objects.filter(recipient=user).values_list("title", flat=True))


def test_each_step_acknowledged_and_the_next_actor_told(users, city, commit):
    teacher, principal, bureau = users["teacher"], users["principal"], users["bureau"]
    with commit():
        enrolment = enrolment_apply(project=make_project(), teacher=city["teachers"][0], actor=teacher, today=TODAY)
    assert titles(teacher) == ["已收到您的报名：新课标研修，等待学校审核"]
    assert titles(principal) == ["待审核报名：张一（T1）· 新课标研修"]
    assert titles(bureau) == []
    with commit():
        enrolment_transition(enrolment=enrolment, action="school_approve", actor=principal, today=TODAY)
    assert "学校已审核通过：新课标研修，等待主办单位录取" in titles(teacher)
    assert titles(bureau) == ["待录取报名：张一（T1）· 新课标研修"]
    assert Notice.objects.get(recipient=bureau).link.endswith(f"?project={enrolment.project_id}&state=school_approved")
    assert titles(users["district"]) == []  # a bureau project: the bureau's staff decide
    with commit():
        enrolment_transition(enrolment=enrolment, action="approve", actor=bureau, today=TODAY)
    assert "报名结果：新课标研修 已录取" in titles(teacher)
    assert Notice.objects.filter(recipient=teacher).count() == 3


def test_a_rejection_is_acknowledged_with_its_reason(users, city, commit):
    enrolment = Enrolment.objects.create(project=make_project(), teacher=city["teachers"][0])
    with commit():
        enrolment_transition(enrolment=enrolment, action="reject", actor=users["principal"], reason="课务冲突", today=TODAY)
    assert titles(users["teacher"]) == ["报名结果：新课标研修 未通过（课务冲突）"]


@pytest.mark.parametrize("owner, told", [("district", "district"), ("school", "principal"), (None, "bureau")])
def test_the_organisers_staff_are_told_after_the_school_approves(users, city, commit, owner, told):
    d1, s1 = city["districts"][0], city["schools"][0]
    over = {"district": {"level": "县培", "owner_district": d1}, "school": {"level": "校本", "owner_school": s1}}.get(owner, {})
    enrolment = Enrolment.objects.create(project=make_project(**over), teacher=city["teachers"][0])
    other_district_staff = UserFactory()
    user_assign_role(user=other_district_staff, role=Role.DISTRICT, district=city["districts"][1], actor=None)
    with commit():
        enrolment_transition(enrolment=enrolment, action="school_approve", actor=users["principal"], today=TODAY)
    staff = {"district": users["district"], "principal": users["principal"], "bureau": users["bureau"]}
    for name, user in staff.items():
        expected = 1 if (name == told and name != "principal") else 0  # the principal acted: not told
        assert Notice.objects.filter(recipient=user, title__startswith="待录取").count() == expected, name
    assert not Notice.objects.filter(recipient=other_district_staff).exists()


def test_a_nomination_tells_the_teacher_and_not_the_nominating_principal(users, city, commit):
    with commit():
        enrolment_apply(project=make_project(), teacher=city["teachers"][0], actor=users["principal"], today=TODAY)
    assert titles(users["teacher"]) == ["学校已选派您参加：新课标研修，等待学校审核"]
    assert titles(users["principal"]) == []


def test_a_retried_step_never_notifies_twice(users, city, django_capture_on_commit_callbacks):
    enrolment = Enrolment.objects.create(project=make_project(), teacher=city["teachers"][0])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enrolment_transition(enrolment=enrolment, action="school_approve", actor=users["principal"], today=TODAY)
    assert Notice.objects.count() == 0
    for _ in range(2):  # the same commit's callbacks delivered twice (a retried worker)
        for callback in callbacks:
            callback()
    assert Notice.objects.filter(recipient=users["teacher"]).count() == 1
    assert Notice.objects.filter(recipient=users["bureau"]).count() == 1
