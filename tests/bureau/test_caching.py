"""Cached reads (bureau.versions), the cached signed-in user (bureau.auth), the per-user cached pages
(bureau.pages) and the 退出 confirmation: every change a page shows must show on the next request."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse

from bureau import versions
from bureau.choices import Role
from bureau.models import Notice, School
from bureau.services import notice_send, user_assign_role
from credits.models import LedgerEntry
from credits.services import hours_submit
from training.models import Project
from training.services import result_record

ROLES = ["superuser", "bureau", "district", "principal", "teacher", "auditor"]

# Every test here runs on the in-process cache and on a real Redis through django-redis (production).
pytestmark = pytest.mark.usefixtures("both_caches")


# --- bureau.versions ------------------------------------------------------------------------------


def test_cached_value_is_kept_until_a_version_is_bumped(db):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert versions.cached("k", ["v.a", "v.b"], compute, 60) == 1
    assert versions.cached("k", ["v.a", "v.b"], compute, 60) == 1
    versions.bump("v.b")
    assert versions.cached("k", ["v.a", "v.b"], compute, 60) == 2
    assert versions.cached("k", ["v.a", "v.b"], compute, 60) == 2
    assert len(calls) == 2


def test_none_is_not_cached(db):
    calls = []
    versions.cached("k", ["v"], lambda: calls.append(1), 60)
    versions.cached("k", ["v"], lambda: calls.append(1), 60)
    assert len(calls) == 2


def test_an_entry_stamped_with_old_versions_is_replaced(db):
    """A reader that computed before a change stores its value under the versions it read; the bump
    after commit retires it."""
    versions.bump("v")
    cache.set("k", ((0,), "stale"), 60)  # as if computed before the first bump
    assert versions.cached("k", ["v"], lambda: "fresh", 60) == "fresh"


@pytest.mark.django_db(transaction=True)
def test_a_bump_inside_a_transaction_is_repeated_at_commit():
    versions.bump("v")
    with transaction.atomic():
        versions.bump("v")
        inside = versions.current("v")
        # a reader now, before the commit, still sees the old rows and stores them under `inside`
        versions.cached("k", ["v"], lambda: "old rows", 60)
    assert versions.current("v") == [inside[0] + 1]
    assert versions.cached("k", ["v"], lambda: "new rows", 60) == "new rows"


def test_a_lost_counter_restarts_at_a_random_value(db):
    """A counter evicted or lost in a Redis restart must not come back at a value an old entry carries."""
    versions.cached("k", ["v"], lambda: "before", 60)
    stamp = cache.get("k")[1]
    cache.delete("v")  # evicted
    assert versions.cached("k", ["v"], lambda: "after", 60) == "after"
    assert cache.get("k")[1] != stamp
    cache.delete("v")
    versions.bump("v")  # a bump of a missing counter starts it too
    assert versions.current("v")[0] not in (0, 1, stamp[0])


def test_pinned_versions_store_an_entry_that_is_already_out_of_date(db):
    """A page rendered for a user loaded before a change (demotion) is stored under the old versions."""
    old = versions.current("user.v")[0]
    versions.bump("user.v")
    assert versions.cached("page", ["user.v"], lambda: "for the old role", 60, pinned={"user.v": old}) == "for the old role"
    assert versions.cached("page", ["user.v"], lambda: "for the new role", 60) == "for the new role"


# --- the cached signed-in user --------------------------------------------------------------------


def test_deactivated_user_is_signed_out_on_the_next_request(client, users):
    client.force_login(users["teacher"])
    assert client.get(reverse("credits:portal")).status_code == 200
    assert client.get(reverse("credits:portal")).status_code == 200  # now from the cache
    user = users["teacher"]
    user.is_active = False
    user.save()
    response = client.get(reverse("credits:portal"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_changed_password_signs_other_sessions_out(client, users):
    client.force_login(users["teacher"])
    assert client.get(reverse("credits:portal")).status_code == 200
    user = get_user_model().objects.get(pk=users["teacher"].pk)
    user.set_password("another-password-2026")
    user.save()
    response = client.get(reverse("credits:portal"))
    assert response.status_code == 302


def test_changed_role_takes_effect_on_the_next_request(client, users, city):
    client.force_login(users["teacher"])
    assert client.get(reverse("credits:portal")).status_code == 200
    user_assign_role(user=users["teacher"], role=Role.PRINCIPAL, school=city["schools"][0], actor=None)
    assert client.get(reverse("credits:portal")).status_code == 403
    assert client.get(reverse("credits:school-dashboard")).status_code == 200


def test_a_principal_made_teacher_no_longer_gets_the_cached_dashboard(client, users, city):
    client.force_login(users["principal"])
    assert client.get(reverse("credits:school-dashboard")).status_code == 200
    assert client.get(reverse("credits:school-dashboard")).status_code == 200  # served from the cache
    user_assign_role(user=users["principal"], role=Role.TEACHER, teacher=city["teachers"][1], actor=None)
    assert client.get(reverse("credits:school-dashboard")).status_code == 403


def test_a_page_cached_for_one_user_is_never_served_to_another(client, users, city):
    """The cached page is looked up by the session's own user id."""
    client.force_login(users["teacher"])
    mine = client.get(reverse("credits:portal")).content.decode()
    assert "张一的学分" in mine
    client.force_login(users["principal"])
    assert client.get(reverse("credits:portal")).status_code == 403


def test_signed_out_session_gets_no_cached_page(client, users):
    client.force_login(users["teacher"])
    client.get(reverse("credits:portal"))
    client.post(reverse("logout"))
    response = client.get(reverse("credits:portal"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_old_session_gets_no_cached_page_after_a_password_reset(client, users):
    """Another browser signed in before the reset: after the user signs in again and the page is cached
    for the new password, the old session still gets no page."""
    from django.test import Client

    old = Client()
    old.force_login(users["teacher"])
    assert old.get(reverse("credits:portal")).status_code == 200
    user = get_user_model().objects.get(pk=users["teacher"].pk)
    user.set_password("after-the-reset-2026")
    user.save()
    client.force_login(user)
    assert client.get(reverse("credits:portal")).status_code == 200  # rendered and stored for the new password
    response = old.get(reverse("credits:portal"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_teacher_record_moved_to_another_account_leaves_the_old_one(client, users, city):
    from tests.factories import UserFactory

    client.force_login(users["teacher"])
    assert "张一的学分" in client.get(reverse("credits:portal")).content.decode()
    teacher = city["teachers"][0]
    teacher.user = UserFactory(username="new-owner")
    teacher.save()
    assert client.get(reverse("credits:portal")).status_code == 403


@pytest.mark.time_machine(dt.datetime(2026, 11, 23, 10, 0))
def test_a_teacher_moved_to_another_school_leaves_the_old_dashboard(client, users, city):
    client.force_login(users["principal"])
    assert 'id="short-count">1<' in client.get(reverse("credits:school-dashboard")).content.decode()
    teacher = city["teachers"][0]
    teacher.school = city["schools"][1]
    teacher.save()
    assert 'id="short-count">0<' in client.get(reverse("credits:school-dashboard")).content.decode()


def test_renamed_school_shows_at_once(client, users, city):
    client.force_login(users["principal"])
    assert "东一小学" in client.get(reverse("credits:school-dashboard")).content.decode()
    school = School.objects.get(pk=city["schools"][0].pk)
    school.name = "东一实验小学"
    school.save()
    assert "东一实验小学" in client.get(reverse("credits:school-dashboard")).content.decode()


# --- per-user cached pages ------------------------------------------------------------------------


@pytest.fixture
def project(db):
    return Project.objects.create(
        code="P1", name="师德师风专题", level="市培", mode="集中面授", kind="必修", theme="师德",
        hours=D("20"), credits=D("20"), start_on=dt.date(2026, 3, 1), end_on=dt.date(2026, 3, 3), organiser="市教育局",
        status="enrolling",
    )


@pytest.mark.time_machine(dt.datetime(2026, 11, 23, 10, 0))
def test_warm_portal_makes_no_query_and_the_next_change_shows(client, users, city, project, django_assert_num_queries):
    teacher = city["teachers"][0]
    client.force_login(users["teacher"])
    client.get(reverse("credits:portal"))
    with django_assert_num_queries(0):
        page = client.get(reverse("credits:portal")).content.decode()
    assert '<span class="figure">0</span> / 72' in page

    result_record(project=project, teacher=teacher, grade="合格", completed_on=dt.date(2026, 3, 3),
                  certified_hours=None, actor=None)
    assert '<span class="figure">20</span> / 72' in client.get(reverse("credits:portal")).content.decode()

    hours_submit(teacher=teacher, actor=users["teacher"], today=dt.date(2026, 11, 23), kind="school_based",
                 title="教研组听评课", hours=D("4"), studied_on=dt.date(2026, 11, 20), theme="学科教学",
                 evidence="听课记录")
    assert "您有 1 条学时申报待审核" in client.get(reverse("credits:portal")).content.decode()

    notice_send(recipient=users["teacher"], key="t-1", title="测试通知")
    assert 'id="unread-count">1<' in client.get(reverse("credits:portal")).content.decode()
    Notice.objects.get(key="t-1").delete()
    assert 'id="unread-count"' not in client.get(reverse("credits:portal")).content.decode()

    teacher.name = "张一一"
    teacher.save()
    assert "张一一的学分" in client.get(reverse("credits:portal")).content.decode()


@pytest.mark.time_machine(dt.datetime(2026, 11, 23, 10, 0))
def test_each_year_is_its_own_page(client, users, city):
    client.force_login(users["teacher"])
    assert "（2026 年度）" in client.get(reverse("credits:portal")).content.decode()
    assert "（2025 年度）" in client.get(reverse("credits:portal") + "?year=2025").content.decode()
    bad = client.get(reverse("credits:portal") + "?year=abc")  # SEC-6: 400, never this year's page instead
    assert bad.status_code == 400 and "年度应为 2000–2100" in bad.content.decode()


@pytest.mark.time_machine(dt.datetime(2026, 11, 23, 10, 0))
def test_warm_dashboard_makes_no_query_and_a_new_ledger_row_shows(client, users, city, django_assert_num_queries):
    client.force_login(users["principal"])
    client.get(reverse("credits:school-dashboard"))
    with django_assert_num_queries(0):
        before = client.get(reverse("credits:school-dashboard")).content.decode()
    assert 'id="short-count">1<' in before  # 张一 has no credits yet
    LedgerEntry.objects.create(
        teacher=city["teachers"][0], entry_date=dt.date(2026, 5, 1), source="school_based", source_key="test-1",
        description="校本研修", hours=D("72"), credits=D("72"), mode="校本研修",
    )
    assert 'id="short-count">0<' in client.get(reverse("credits:school-dashboard")).content.decode()


def test_cached_pages_are_per_user(client, users, city):
    """Two principals of the same school: each sees their own name in the header."""
    from tests.factories import UserFactory

    other = UserFactory(username="principal2", first_name="另一位校长")
    user_assign_role(user=other, role=Role.PRINCIPAL, school=city["schools"][0], actor=None)
    client.force_login(users["principal"])
    client.get(reverse("credits:school-dashboard"))
    client.force_login(other)
    assert "另一位校长" in client.get(reverse("credits:school-dashboard")).content.decode()


@pytest.mark.time_machine(dt.datetime(2026, 11, 23, 10, 0))
def test_a_one_time_message_is_shown_and_not_cached(client, users, city):
    """A flash message is shown on the next page, fresh, and is gone on the one after."""
    client.force_login(users["teacher"])
    client.get(reverse("credits:portal"))
    response = client.post(reverse("credits:hours"), {
        "kind": "school_based", "title": "教研组听评课", "hours": "4", "studied_on": "2026-11-20", "theme": "学科教学",
        "evidence": "听课记录",
    }, follow=False)
    assert response.status_code == 302
    first = client.get(reverse("credits:portal")).content.decode()
    second = client.get(reverse("credits:portal")).content.decode()
    assert "已提交，等待校长审核。" in first
    assert "已提交，等待校长审核。" not in second


# --- 退出 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_logout_asks_then_signs_out(client, users, role):
    client.force_login(users[role])
    page = client.get(reverse("logout"))
    assert page.status_code == 200 and "确认退出" in page.content.decode()
    assert client.session.get("_auth_user_id")  # a GET does not sign out
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_logout_page_sends_anonymous_visitors_to_the_login(client, db):
    response = client.get(reverse("logout"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_pages_carry_no_csrf_token_but_the_logout_form_does(client, users):
    client.force_login(users["teacher"])
    assert "csrfmiddlewaretoken" not in client.get(reverse("credits:portal")).content.decode()
    assert "csrfmiddlewaretoken" in client.get(reverse("logout")).content.decode()
