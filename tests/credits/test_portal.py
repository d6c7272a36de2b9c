"""Teacher portal and principal pages: content, permissions per role, query counts (SPEC §1, SEC-1)."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from credits.models import HoursSubmission, LedgerEntry
from credits.services import hours_submit
from training.models import Project
from training.services import result_record

TEACHER_PAGES = ["credits:portal", "credits:transcript", "credits:transcript-xlsx", "credits:hours", "training:projects"]
PRINCIPAL_PAGES = ["credits:school-hours", "training:school-enrolments"]
ROLES = ["superuser", "bureau", "district", "principal", "teacher", "auditor"]


def login(client, users, role):
    if role != "anonymous":
        client.force_login(users[role])


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
@pytest.mark.parametrize("page", TEACHER_PAGES + PRINCIPAL_PAGES)
def test_page_permissions_per_role(client, users, role, page):
    login(client, users, role)
    response = client.get(reverse(page))
    allowed = (page in TEACHER_PAGES and role == "teacher") or (page in PRINCIPAL_PAGES and role == "principal")
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == (200 if allowed else 403)


@pytest.fixture
def project(db):
    return Project.objects.create(
        code="P1", name="师德师风专题", level="市培", mode="集中面授", kind="必修", theme="师德",
        hours=D("20"), credits=D("20"), start_on=dt.date(2026, 3, 1), end_on=dt.date(2026, 3, 3), organiser="市教育局",
        status="enrolling",
    )


@pytest.mark.time_machine(dt.datetime(2026, 11, 23, 10, 0))
def test_portal_progress_follows_the_ledger(client, users, city, project):
    client.force_login(users["teacher"])
    page = client.get(reverse("credits:portal")).content.decode()
    assert 'aria-valuenow="0"' in page
    result_record(project=project, teacher=city["teachers"][0], grade="合格", completed_on=dt.date(2026, 3, 3),
                  certified_hours=None, actor=None)
    page = client.get(reverse("credits:portal")).content.decode()
    assert '<span class="figure">20</span> / 72' in page
    assert 'aria-valuenow="27"' in page  # 20 of 72 credits
    assert 'aria-valuenow="5"' in page  # 20 of 360 cycle hours


def test_portal_query_count_does_not_grow_with_the_ledger(client, users, city, project, django_assert_max_num_queries):
    client.force_login(users["teacher"])
    for code in range(30):
        p = Project.objects.create(**{**{f.name: getattr(project, f.name) for f in Project._meta.concrete_fields if f.name not in ("id", "code")}, "code": f"X{code}"})
        result_record(project=p, teacher=city["teachers"][0], grade="合格", completed_on=dt.date(2026, 3, 3), certified_hours=None, actor=None)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("credits:portal")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("credits:transcript")).status_code == 200


def test_transcript_download_is_the_teachers_own_ledger(client, users, city, project):
    result_record(project=project, teacher=city["teachers"][0], grade="合格", completed_on=dt.date(2026, 3, 3), certified_hours=None, actor=None)
    result_record(project=project, teacher=city["teachers"][1], grade="合格", completed_on=dt.date(2026, 3, 3), certified_hours=None, actor=None)
    client.force_login(users["teacher"])
    response = client.get(reverse("credits:transcript-xlsx"))
    import io

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("日期", "年度", "来源") and len(rows) == 2
    assert rows[1][1] == 2026 and rows[1][8] == 20


def test_teacher_submits_hours_and_own_principal_approves(client, users, city):
    client.force_login(users["teacher"])
    response = client.post(reverse("credits:hours"), {
        "kind": "school_based", "title": "语文组教研", "studied_on": "2026-10-10", "hours": "4", "theme": "学科教学",
        "evidence": "教研记录第12页",
    })
    assert response.status_code == 302
    submission = HoursSubmission.objects.get()
    client.force_login(users["principal"])
    client.post(reverse("credits:school-hours-decide", args=[submission.pk]), {"decision": "approve"})
    entry = LedgerEntry.objects.get()
    assert (entry.teacher, entry.hours, entry.source, entry.approved_by) == (city["teachers"][0], D("4"), "school_based", users["principal"])
    # deciding twice does not post twice
    client.post(reverse("credits:school-hours-decide", args=[submission.pk]), {"decision": "approve"})
    assert LedgerEntry.objects.count() == 1


def test_principal_cannot_decide_another_schools_submission(client, users, city):
    other = city["teachers"][1]
    from bureau.services import user_assign_role
    from tests.factories import UserFactory

    user = UserFactory()
    user_assign_role(user=user, role="teacher", teacher=other, actor=None)
    submission = hours_submit(teacher=other, kind="self_study", title="读书", studied_on=dt.date(2026, 10, 1), hours=D("2"),
                              theme="其他", evidence="读书笔记", actor=user, today=dt.date(2026, 11, 23))
    client.force_login(users["principal"])
    response = client.post(reverse("credits:school-hours-decide", args=[submission.pk]), {"decision": "approve"})
    assert response.status_code == 404
    assert LedgerEntry.objects.count() == 0


def test_reject_without_note_is_refused_in_chinese(client, users, city):
    submission = hours_submit(teacher=city["teachers"][0], kind="self_study", title="读书", studied_on=dt.date(2026, 10, 1),
                              hours=D("2"), theme="其他", evidence="读书笔记", actor=users["teacher"], today=dt.date(2026, 11, 23))
    client.force_login(users["principal"])
    response = client.post(reverse("credits:school-hours-decide", args=[submission.pk]), {"decision": "reject"}, follow=True)
    assert "退回申报请填写原因" in response.content.decode()
    submission.refresh_from_db()
    assert submission.state == "submitted"


def test_teacher_applies_from_portal_and_principal_approves(client, users, city, project):
    client.force_login(users["teacher"])
    client.post(reverse("training:apply", args=[project.pk]))
    page = client.get(reverse("training:projects")).content.decode()
    assert "已报名" in page
    client.force_login(users["principal"])
    page = client.get(reverse("training:school-enrolments")).content.decode()
    assert city["teachers"][0].name in page
    enrolment = project.enrolments.get()
    client.post(reverse("training:school-enrolment-decide", args=[enrolment.pk]), {"decision": "approve"})
    enrolment.refresh_from_db()
    assert enrolment.state == "school_approved"


def test_principal_nominates_only_own_teachers(client, users, city, project):
    client.force_login(users["principal"])
    response = client.post(reverse("training:school-nominate"), {"teacher": city["teachers"][1].pk, "project": project.pk})
    assert response.status_code == 404
    client.post(reverse("training:school-nominate"), {"teacher": city["teachers"][0].pk, "project": project.pk})
    assert project.enrolments.get().nominated


