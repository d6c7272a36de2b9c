"""One notice inbox: created after commit, never twice for the same event, unread count, optional mail."""

import datetime as dt
from decimal import Decimal as D

from django.core import mail

from bureau.models import Notice
from bureau.services import notice_send
from training.models import Enrolment, Project
from training.services import enrolment_transition


def project():
    return Project.objects.create(code="P1", name="新课标研修", level="县培", mode="集中面授", kind="必修", theme="学科教学",
                                  hours=D("24"), start_on=dt.date(2026, 12, 1), end_on=dt.date(2026, 12, 5),
                                  organiser="区教师发展中心", status="enrolling")


def test_enrolment_decision_notice_after_commit_and_once(users, city, django_capture_on_commit_callbacks):
    enrolment = Enrolment.objects.create(project=project(), teacher=city["teachers"][0], state="school_approved")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enrolment_transition(enrolment=enrolment, action="approve", actor=users["bureau"], today=dt.date(2026, 11, 23))
    assert Notice.objects.count() == 0  # nothing before commit
    for callback in callbacks:
        callback()
    for callback in callbacks:  # the same event delivered twice
        callback()
    notice = Notice.objects.get()
    assert notice.recipient == users["teacher"] and "已录取" in notice.title


def test_unread_count_in_the_header(client, users):
    notice_send(recipient=users["teacher"], key="k1", title="一")
    notice_send(recipient=users["teacher"], key="k2", title="二")
    notice_send(recipient=users["teacher"], key="k2", title="二（重复）")
    client.force_login(users["teacher"])
    assert '<span class="badge warn" id="unread-count">2</span>' in client.get("/portal/").content.decode()


def test_mail_only_when_configured(users, settings, django_capture_on_commit_callbacks):
    users["principal"].email = "head@example.invalid"
    users["principal"].save()
    settings.NOTICE_EMAIL = False
    with django_capture_on_commit_callbacks(execute=True):
        notice_send(recipient=users["principal"], key="a", title="预警")
    assert mail.outbox == []
    settings.NOTICE_EMAIL = True
    with django_capture_on_commit_callbacks(execute=True):
        notice_send(recipient=users["principal"], key="b", title="预警", body="正文")
        notice_send(recipient=users["principal"], key="b", title="预警", body="正文")
    assert [(m.subject, m.to) for m in mail.outbox] == [("预警", ["head@example.invalid"])]
