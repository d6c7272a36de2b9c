"""The reminder before the start: once per approved enrolment however often the job runs, with a
calendar file the teacher (and only the teacher) can download."""

import datetime as dt
import threading
from decimal import Decimal as D

import pytest
from django.db import connection
from django.urls import reverse

from bureau.choices import Role
from bureau.models import Notice
from bureau.services import user_assign_role
from tests.factories import SchoolFactory, TeacherFactory, UserFactory
from training import rules
from training.calendar import enrolment_calendar, escape_text, fold
from training.models import Enrolment, Project
from training.reminders import reminders_send
from training.tasks import remind_starting

TODAY = dt.date(2026, 11, 23)


def make_project(code="P1", start_on=dt.date(2026, 11, 26), **over):
    values = dict(code=code, name="新课标研修", level="市培", mode="集中面授", kind="必修", theme="学科教学",
                  hours=D("24"), start_on=start_on, end_on=start_on + dt.timedelta(days=2), organiser="市教师发展中心",
                  status="enrolling")
    values.update(over)
    return Project.objects.create(**values)


def reminders(user):
    return Notice.objects.filter(recipient=user, key__endswith=":reminder")


def test_window_is_today_to_n_days_ahead_both_included():
    assert rules.reminder_window(today=TODAY, days=3) == (TODAY, dt.date(2026, 11, 26))


@pytest.mark.parametrize("start, expected", [(TODAY - dt.timedelta(days=1), 0), (TODAY, 1),
                                             (TODAY + dt.timedelta(days=3), 1), (TODAY + dt.timedelta(days=4), 0)])
def test_reminder_at_the_window_edges(users, city, start, expected):
    Enrolment.objects.create(project=make_project(start_on=start), teacher=city["teachers"][0], state="approved")
    assert reminders_send(today=TODAY, days=3) == expected
    assert reminders(users["teacher"]).count() == expected


@pytest.mark.parametrize("state", ["applied", "school_approved", "waitlisted", "withdrawn", "rejected"])
def test_only_approved_enrolments_are_reminded(users, city, state):
    Enrolment.objects.create(project=make_project(), teacher=city["teachers"][0], state=state)
    assert reminders_send(today=TODAY, days=3) == 0


def test_the_job_run_twice_sends_once(users, city, settings):
    settings.TRAINING_REMINDER_DAYS = 3
    enrolment = Enrolment.objects.create(project=make_project(start_on=dt.date.today() + dt.timedelta(days=1)),
                                         teacher=city["teachers"][0], state="approved")
    assert remind_starting.delay().get() == 1
    assert remind_starting.delay().get() == 0
    notice = reminders(users["teacher"]).get()
    assert notice.link == reverse("training:enrolment-calendar", args=[enrolment.pk])
    enrolment.refresh_from_db()
    assert enrolment.reminded_at is not None


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_the_same_moment_send_each_reminder_once():
    school = SchoolFactory()
    project = make_project()
    teachers = [TeacherFactory(school=school) for _ in range(6)]
    for teacher in teachers:
        user = UserFactory()
        user_assign_role(user=user, role=Role.TEACHER, teacher=teacher, actor=None)
        Enrolment.objects.create(project=project, teacher=teacher, state="approved")
    barrier, counts = threading.Barrier(3), []

    def run():
        try:
            barrier.wait()
            counts.append(reminders_send(today=TODAY, days=3))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 6
    assert Notice.objects.filter(key__endswith=":reminder").count() == 6


# --- The calendar file ----------------------------------------------------------------------------------


def test_text_is_escaped_per_rfc_5545():
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_long_lines_fold_at_75_octets_without_splitting_a_character():
    folded = fold("SUMMARY:" + "研修" * 40)
    pieces = folded.split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in pieces)
    assert all(p.startswith(" ") for p in pieces[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(pieces)) == "SUMMARY:" + "研修" * 40


def test_the_calendar_has_one_all_day_event_with_the_project(users, city):
    project = make_project(name="研修,第一期; 班主任", organiser="市教师发展中心")
    enrolment = Enrolment.objects.create(project=project, teacher=city["teachers"][0], state="approved")
    body = enrolment_calendar(enrolment, host="example.org", now=dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc))
    lines = body.split("\r\n")
    assert body.endswith("END:VCALENDAR\r\n") and "\n" not in body.replace("\r\n", "")
    assert "DTSTART;VALUE=DATE:20261126" in lines and "DTEND;VALUE=DATE:20261129" in lines
    assert "SUMMARY:研修\\,第一期\\; 班主任" in lines
    assert lines.count("BEGIN:VEVENT") == 1 and "DTSTAMP:20261123T020000Z" in lines
    assert any("承办单位：市教师发展中心" in line for line in lines)


@pytest.mark.parametrize("role, status", [("teacher", 200), ("principal", 403), ("district", 403), ("bureau", 403),
                                          ("auditor", 403)])
def test_calendar_page_per_role(client, users, city, role, status):
    enrolment = Enrolment.objects.create(project=make_project(), teacher=city["teachers"][0], state="approved")
    client.force_login(users[role])
    response = client.get(reverse("training:enrolment-calendar", args=[enrolment.pk]))
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"].startswith("text/calendar")
        assert b"BEGIN:VEVENT" in response.content


def test_calendar_of_another_teacher_is_404_and_anonymous_goes_to_login(client, users, city):
    other = Enrolment.objects.create(project=make_project(), teacher=city["teachers"][1], state="approved")
    url = reverse("training:enrolment-calendar", args=[other.pk])
    assert client.get(url).status_code == 302
    client.force_login(users["teacher"])
    assert client.get(url).status_code == 404
