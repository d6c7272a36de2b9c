"""Enrolment: the approval chain's transitions in one place, and capacity under concurrency (SPEC §3)."""

import datetime as dt
import threading
from decimal import Decimal as D

import pytest
from django.db import connection

from bureau.choices import Role
from bureau.services import ApplicationError, user_assign_role
from tests.factories import SchoolFactory, TeacherFactory, UserFactory
from training import rules
from training.models import Enrolment, EnrolmentEvent, Project
from training.services import enrolment_apply, enrolment_transition

TODAY = dt.date(2026, 11, 23)


def make_project(**over):
    values = dict(
        code="P1", name="新课标研修", level="县培", mode="集中面授", kind="必修", theme="学科教学",
        hours=D("24"), start_on=dt.date(2026, 12, 1), end_on=dt.date(2026, 12, 5), organiser="区教师发展中心",
        status="enrolling",
    )
    values.update(over)
    return Project.objects.create(**values)


def teacher_user(teacher):
    user = UserFactory()
    user_assign_role(user=user, role=Role.TEACHER, teacher=teacher, actor=None)
    return user


ALL_STATES = {"applied", "school_approved", "approved", "rejected", "attending", "completed", "withdrawn", "no_show",
              "waitlisted"}


@pytest.mark.parametrize("action", sorted(rules.TRANSITIONS))
def test_every_forbidden_transition_is_refused(action):
    step = rules.TRANSITIONS[action]
    allowed, target = step.from_states, step.to_state
    for state in ALL_STATES:
        assert (rules.next_state(state, action) == target) == (state in allowed)


def test_full_chain_teacher_applies_school_then_organiser_approves(users, city):
    project = make_project()
    teacher = city["teachers"][0]
    enrolment = enrolment_apply(project=project, teacher=teacher, actor=users["teacher"], today=TODAY)
    with pytest.raises(ApplicationError, match="不能执行“主办单位录取”"):
        enrolment_transition(enrolment=enrolment, action="approve", actor=users["bureau"])
    with pytest.raises(ApplicationError, match="无权"):
        enrolment_transition(enrolment=enrolment, action="school_approve", actor=users["teacher"])
    enrolment_transition(enrolment=enrolment, action="school_approve", actor=users["principal"])
    enrolment_transition(enrolment=enrolment, action="approve", actor=users["district"])
    enrolment.refresh_from_db()
    assert enrolment.state == "approved"
    assert list(EnrolmentEvent.objects.filter(enrolment=enrolment).values_list("to_state", "actor__username")) == [
        ("applied", "teacher"), ("school_approved", "principal"), ("approved", "district"),
    ]


def test_principal_nominates_own_teacher_only(users, city):
    project = make_project()
    enrolment = enrolment_apply(project=project, teacher=city["teachers"][0], actor=users["principal"], today=TODAY)
    assert enrolment.nominated
    with pytest.raises(ApplicationError, match="本校校长"):
        enrolment_apply(project=project, teacher=city["teachers"][1], actor=users["principal"], today=TODAY)


def test_principal_of_another_school_cannot_approve(users, city):
    project = make_project()
    other_teacher = city["teachers"][1]
    enrolment = enrolment_apply(project=project, teacher=other_teacher, actor=teacher_user(other_teacher), today=TODAY)
    with pytest.raises(ApplicationError, match="无权"):
        enrolment_transition(enrolment=enrolment, action="school_approve", actor=users["principal"])


def test_reject_needs_a_reason(users, city):
    enrolment = enrolment_apply(project=make_project(), teacher=city["teachers"][0], actor=users["teacher"], today=TODAY)
    with pytest.raises(ApplicationError, match="原因"):
        enrolment_transition(enrolment=enrolment, action="reject", actor=users["principal"])
    enrolment_transition(enrolment=enrolment, action="reject", actor=users["principal"], reason="课务冲突")


@pytest.mark.parametrize(
    "over, message",
    [
        ({"status": "published"}, "不在报名期"),
        ({"enrol_opens_on": TODAY + dt.timedelta(days=1)}, "报名将于"),
        ({"enrol_closes_on": TODAY - dt.timedelta(days=1)}, "报名已于"),
        ({"target_subjects": ["英语"]}, "面向学科：英语"),
        ({"target_stages": ["高中"]}, "面向学段：高中"),
    ],
)
def test_apply_refused_outside_window_or_audience(users, city, over, message):
    with pytest.raises(ApplicationError, match=message):
        enrolment_apply(project=make_project(**over), teacher=city["teachers"][0], actor=users["teacher"], today=TODAY)


def test_window_edges_are_open(users, city):
    project = make_project(enrol_opens_on=TODAY, enrol_closes_on=TODAY)
    assert enrolment_apply(project=project, teacher=city["teachers"][0], actor=users["teacher"], today=TODAY)


def test_capacity_full_and_withdrawal_frees_a_seat(users, city):
    project = make_project(capacity=1)
    first = enrolment_apply(project=project, teacher=city["teachers"][0], actor=users["teacher"], today=TODAY)
    second_teacher = TeacherFactory(school=city["schools"][0])
    with pytest.raises(ApplicationError, match="名额已满"):
        enrolment_apply(project=project, teacher=second_teacher, actor=teacher_user(second_teacher), today=TODAY)
    enrolment_transition(enrolment=first, action="withdraw", actor=users["teacher"])
    assert enrolment_apply(project=project, teacher=second_teacher, actor=second_teacher.user, today=TODAY)


def test_cannot_apply_twice(users, city):
    project = make_project()
    enrolment_apply(project=project, teacher=city["teachers"][0], actor=users["teacher"], today=TODAY)
    with pytest.raises(ApplicationError, match="不能重复报名"):
        enrolment_apply(project=project, teacher=city["teachers"][0], actor=users["teacher"], today=TODAY)


@pytest.mark.django_db(transaction=True)
def test_capacity_never_exceeded_when_many_apply_at_once():
    school = SchoolFactory()
    project = make_project(capacity=3)
    applicants = [(t, teacher_user(t)) for t in (TeacherFactory(school=school) for _ in range(8))]
    barrier = threading.Barrier(len(applicants))
    outcomes = []

    def apply(teacher, user):
        try:
            barrier.wait()
            enrolment_apply(project=project, teacher=teacher, actor=user, today=TODAY)
            outcomes.append("ok")
        except ApplicationError:
            outcomes.append("full")
        finally:
            connection.close()

    threads = [threading.Thread(target=apply, args=pair) for pair in applicants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["full"] * 5 + ["ok"] * 3
    assert Enrolment.objects.filter(project=project).count() == 3


PROJECT_STATES = {"draft", "published", "enrolling", "running", "finished", "archived"}


@pytest.mark.parametrize("action", sorted(rules.PROJECT_TRANSITIONS))
def test_project_life_cycle_refuses_every_other_from_state(action):
    step = rules.PROJECT_TRANSITIONS[action]
    allowed, target = step.from_states, step.to_state
    for state in PROJECT_STATES:
        assert (rules.project_next_status(state, action) == target) == (state in allowed)


def test_project_life_cycle_through_the_service(users):
    from training.services import project_transition

    project = make_project(status="draft")
    for action in ("publish", "open_enrolment", "start", "finish", "archive"):
        project = project_transition(project=project, action=action, actor=users["bureau"])
    assert project.status == "archived"
    with pytest.raises(ApplicationError, match="不能执行“发布”"):
        project_transition(project=project, action="publish", actor=users["bureau"])
    with pytest.raises(ApplicationError, match="只有该项目的主办单位"):
        project_transition(project=make_project(code="P2", status="draft"), action="publish", actor=users["district"])


def test_surveys_once_per_teacher_and_satisfaction_only_after_completion(client, users, city):
    from training.models import SurveyResponse
    from training.selectors import project_statistics

    project = make_project()
    enrolment = enrolment_apply(project=project, teacher=city["teachers"][0], actor=users["teacher"], today=TODAY)
    client.force_login(users["teacher"])
    client.post(f"/portal/projects/{project.pk}/survey/needs/", {"score": "4", "comment": "希望多些课例"})
    client.post(f"/portal/projects/{project.pk}/survey/needs/", {"score": "5"})
    response = client.post(f"/portal/projects/{project.pk}/survey/satisfaction/", {"score": "5"}, follow=True)
    assert "结业后才能填写满意度调查" in response.content.decode()
    Enrolment.objects.filter(pk=enrolment.pk).update(state="completed")
    client.post(f"/portal/projects/{project.pk}/survey/satisfaction/", {"score": "3"})
    assert sorted(SurveyResponse.objects.values_list("kind", "score")) == [("needs", 4), ("satisfaction", 3)]
    stats = project_statistics(project.pk)
    assert (stats["survey_needs"], stats["survey_satisfaction"]) == (4, 3)


@pytest.mark.parametrize("project_status, enrolment_state, accepted", [
    ("enrolling", "applied", True), ("running", "attending", True),
    ("running", "completed", False), ("finished", "attending", False), ("archived", "approved", False),
])
def test_needs_survey_closes_when_the_training_is_over(users, city, project_status, enrolment_state, accepted):
    """Issue 14: the needs survey (需求调研) was accepted after the project had finished."""
    from training.models import Project, SurveyResponse
    from training.services import survey_answer

    project = make_project()
    enrolment = enrolment_apply(project=project, teacher=city["teachers"][0], actor=users["teacher"], today=TODAY)
    Enrolment.objects.filter(pk=enrolment.pk).update(state=enrolment_state)
    Project.objects.filter(pk=project.pk).update(status=project_status)
    project.refresh_from_db()
    if accepted:
        survey_answer(project=project, kind="needs", score=4, comment="", actor=users["teacher"])
    else:
        with pytest.raises(ApplicationError, match="需求调研已关闭"):
            survey_answer(project=project, kind="needs", score=4, comment="", actor=users["teacher"])
    assert SurveyResponse.objects.filter(kind="needs").exists() == accepted


@pytest.mark.parametrize("role", ["principal", "bureau", "auditor"])
def test_only_teachers_answer_surveys(client, users, role):
    project = make_project()
    client.force_login(users[role])
    assert client.post(f"/portal/projects/{project.pk}/survey/needs/", {"score": "4"}).status_code == 403
