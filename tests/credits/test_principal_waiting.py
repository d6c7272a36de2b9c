"""Principals are told of what waits for them (issue 17 item 3): a notice once per new enrolment, hours
submission and claim, and the counts on their dashboard linking to where each is decided; a decision
shows on the next view of the (cached) dashboard, and the page's queries stay bounded."""

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bureau.models import Notice
from credits.claims import ClaimFields, claim_submit, claim_transition
from credits.models import HoursSubmission, SubmissionKind
from credits.services import hours_decide, hours_submit
from training.models import Project
from training.services import enrolment_apply, enrolment_transition

TODAY = dt.date(2026, 11, 23)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _project():
    return Project.objects.create(
        code="P1", name="新课标研修", level="市培", mode="集中面授", kind="必修", theme="学科教学", hours=D("24"),
        start_on=dt.date(2026, 12, 1), end_on=dt.date(2026, 12, 5), organiser="市教师发展中心", status="enrolling")


def _hours(users, city, title="校本教研活动", days_ago=1):
    return hours_submit(teacher=city["teachers"][0], kind=SubmissionKind.SCHOOL_BASED, title=title,
                        studied_on=TODAY - dt.timedelta(days=days_ago), hours=D("2"), theme="学科教学", evidence="签到表",
                        actor=users["teacher"], today=TODAY)


def _claim(users, city):
    fields = ClaimFields(title="国培计划：数字化教学能力提升", organiser="北京师范大学", started_on=dt.date(2026, 10, 10),
                         ended_on=dt.date(2026, 10, 12), hours=D("24"), mode="网络研修", theme="信息技术")
    upload = SimpleUploadedFile("证书.pdf", PDF, content_type="application/pdf")
    return claim_submit(teacher=city["teachers"][0], fields=fields, files=[upload], actor=users["teacher"],
                        now=dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC))


def _notices(user):
    return {n.title: n.link for n in Notice.objects.filter(recipient=user)}


def test_the_principal_is_told_of_each_new_enrolment_hours_submission_and_claim_once(users, city, commit, media):
    principal = users["principal"]
    with commit():
        enrolment_apply(project=_project(), teacher=city["teachers"][0], actor=users["teacher"], today=TODAY)
    with commit():
        submission = _hours(users, city)
    with commit():
        _claim(users, city)
    notices = _notices(principal)
    assert notices == {
        "待审核报名：张一（T1）· 新课标研修": reverse("training:school-enrolments"),
        "待审核学时：张一（T1）· 校本教研活动": reverse("credits:school-hours"),
        "待审核：张一的学时认定“国培计划：数字化教学能力提升”": reverse("claims:school"),
    }
    # the teacher is not told of their own submission; nobody else at another school hears of it
    assert "待审核学时：张一（T1）· 校本教研活动" not in _notices(users["teacher"])
    assert not Notice.objects.filter(recipient=users["district"]).exists()
    # keyed: the same submission never notifies twice
    from credits.services import _tell_deciders
    with commit():
        _tell_deciders(submission, city["teachers"][0])
    assert Notice.objects.filter(recipient=principal).count() == 3


def test_hours_of_a_school_without_a_principal_go_to_district_staff(users, city, commit):
    principal = users["principal"]
    principal.is_active = False
    principal.save()
    with commit():
        _hours(users, city)
    assert _notices(users["district"]) == {"待审核学时：张一（T1）· 校本教研活动": reverse("credits:district-hours")}
    assert not Notice.objects.filter(recipient=principal).exists()


def _counts(html):
    block = html[html.index('id="waiting"'):]
    block = block[:block.index("</div>\n  </div>") if "</div>\n  </div>" in block else len(block)]
    return {label: (int(value), url) for url, label, value in re.findall(
        r'<a class="metric" href="([^"]+)"><div class="label">([^<]+)</div><div class="value">(\d+)</div></a>', block)}


def test_the_dashboard_counts_what_waits_and_follows_each_decision(client, users, city, media):
    client.force_login(users["principal"])
    url = reverse("credits:school-dashboard")
    assert _counts(client.get(url).content.decode()) == {
        "报名审核": (0, reverse("training:school-enrolments")), "学时审核": (0, reverse("credits:school-hours")),
        "学时认定": (0, reverse("claims:school"))}
    enrolment = enrolment_apply(project=_project(), teacher=city["teachers"][0], actor=users["teacher"], today=TODAY)
    first = _hours(users, city)
    _hours(users, city, title="读书分享")
    claim = _claim(users, city)
    # a teacher of another school counts nowhere here
    HoursSubmission.objects.create(teacher=city["teachers"][1], kind=SubmissionKind.SCHOOL_BASED, title="别校",
                                   studied_on=TODAY, hours=D("1"), theme="学科教学", evidence="x")
    counts = _counts(client.get(url).content.decode())
    assert {label: count for label, (count, _) in counts.items()} == {"报名审核": 1, "学时审核": 2, "学时认定": 1}
    # each decision shows on the next view of the cached page
    enrolment_transition(enrolment=enrolment, action="school_approve", actor=users["principal"])
    hours_decide(submission=first, approve=True, note="", actor=users["principal"])
    claim_transition(claim=claim, action="school_approve", actor=users["principal"],
                     now=dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC))
    counts = _counts(client.get(url).content.decode())
    assert {label: count for label, (count, _) in counts.items()} == {"报名审核": 0, "学时审核": 1, "学时认定": 0}
    for _, link in counts.values():
        assert client.get(link).status_code == 200


def test_staff_looking_at_a_school_see_no_principal_counts(client, users, city):
    client.force_login(users["bureau"])
    html = client.get(reverse("credits:staff-school-dashboard", args=[city["schools"][0].pk])).content.decode()
    assert 'id="waiting"' not in html


def test_the_dashboard_queries_stay_bounded_with_more_waiting(client, users, city, django_assert_max_num_queries, media):
    client.force_login(users["principal"])
    url = reverse("credits:school-dashboard")
    with django_assert_max_num_queries(30) as small:
        client.get(url)
    for i in range(5):
        _hours(users, city, title=f"活动{i}", days_ago=i + 1)
    _claim(users, city)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)
