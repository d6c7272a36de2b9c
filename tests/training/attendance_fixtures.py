"""Shared set-up of the attendance tests: one project per organiser, sessions around today, a roster."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from tests.factories import TeacherFactory
from training.models import Enrolment, Project, Session

TODAY = timezone.localdate()
RESULT_HEADERS = ["项目编号", "工号", "姓名", "考核结果", "完成日期", "认定学时"]
ATTENDANCE_HEADERS = ["项目编号", "工号", "姓名", "日期", "出勤"]


def make_project(code, **over):
    values = dict(
        code=code, name=f"研修{code}", level="市培", mode="集中面授", kind="必修", theme="学科教学", hours=D("24"),
        start_on=TODAY - dt.timedelta(days=40), end_on=TODAY + dt.timedelta(days=20), organiser="承办单位",
        status="running",
    )
    values.update(over)
    return Project.objects.create(**values)


def day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


@pytest.fixture
def owned(city):
    """C1 (the bureau's), X1 (D1's 县培), X2 (D2's 县培), B1 (S1's 校本), B2 (S2's 校本); each with two sessions
    held (20 and 10 days ago) and one to come (in 5 days), and the teachers of its unit admitted."""
    d1, d2 = city["districts"]
    s1, s2, s3 = city["schools"]
    extra = TeacherFactory(staff_no="T4", name="赵四", school=s1)
    projects = {
        "C1": make_project("C1"),
        "X1": make_project("X1", level="县培", owner_district=d1),
        "X2": make_project("X2", level="县培", owner_district=d2),
        "B1": make_project("B1", level="校本", mode="校本研修", owner_school=s1),
        "B2": make_project("B2", level="校本", mode="校本研修", owner_school=s2),
    }
    members = {
        "C1": city["teachers"] + [extra],
        "X1": [city["teachers"][0], city["teachers"][1], extra],
        "X2": [city["teachers"][2]],
        "B1": [city["teachers"][0], extra],
        "B2": [city["teachers"][1]],
    }
    for code, project in projects.items():
        for offset, title in [(-20, "开班"), (-10, "专题"), (5, "结业")]:
            Session.objects.create(project=project, held_on=day(offset), title=title)
        for teacher in members[code]:
            Enrolment.objects.create(project=project, teacher=teacher, state="approved")
    return projects


def session_of(project, offset):
    return Session.objects.get(project=project, held_on=day(offset))


def enrolment_of(project, staff_no):
    return Enrolment.objects.get(project=project, teacher__staff_no=staff_no)
