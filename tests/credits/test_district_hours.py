"""A district approves its teachers' hours (SPEC §1): the principal decides school-based and self-study hours;
where the school has no principal account, district staff decide them on their own page."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse

from bureau.services import ApplicationError
from credits.models import HoursSubmission, LedgerEntry
from credits.services import hours_decide


def submit(teacher, title="校本教研"):
    return HoursSubmission.objects.create(teacher=teacher, kind="self_study", title=title,
                                          studied_on=dt.date(2026, 10, 9), hours=D("4"), evidence="学习笔记")


def test_district_staff_decide_where_the_school_has_no_principal(users, city):
    headless = submit(city["teachers"][1])  # 东二小学: no principal account
    hours_decide(submission=headless, approve=True, note="", actor=users["district"])
    assert LedgerEntry.objects.get().teacher == city["teachers"][1]


def test_where_the_school_has_a_principal_the_principal_decides(users, city):
    with pytest.raises(ApplicationError, match="本校校长"):
        hours_decide(submission=submit(city["teachers"][0]), approve=True, note="", actor=users["district"])


def test_an_inactive_principal_account_leaves_it_to_the_district(users, city):
    users["principal"].is_active = False
    users["principal"].save()
    hours_decide(submission=submit(city["teachers"][0]), approve=True, note="", actor=users["district"])


def test_another_district_never_decides(users, city):
    with pytest.raises(ApplicationError):
        hours_decide(submission=submit(city["teachers"][2]), approve=True, note="", actor=users["district"])


@pytest.mark.parametrize("role, expected", [
    ("district", 200), ("bureau", 403), ("principal", 403), ("teacher", 403), ("auditor", 403)])
def test_page_per_role(client, users, city, role, expected):
    client.force_login(users[role])
    assert client.get(reverse("credits:district-hours")).status_code == expected


def test_anonymous_is_sent_to_log_in(client, db):
    response = client.get(reverse("credits:district-hours"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_page_lists_and_decides_only_headless_schools_of_the_district(client, users, city,
                                                                          django_assert_max_num_queries):
    t1, t2, t3 = city["teachers"]
    mine, with_head, outside = submit(t2, "自学"), submit(t1), submit(t3)
    for i in range(10):
        submit(t2, f"自学{i}")
    client.force_login(users["district"])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("credits:district-hours"))
    listed = {s.pk for s in response.context["pending"]}
    assert mine.pk in listed and with_head.pk not in listed and outside.pk not in listed
    assert [s.name for s in response.context["headless"]] == ["东二小学"]
    decide = reverse("credits:district-hours-decide", args=[with_head.pk])
    assert client.post(decide, {"decision": "approve"}).status_code == 404
    client.post(reverse("credits:district-hours-decide", args=[mine.pk]), {"decision": "reject", "note": "无佐证"})
    mine.refresh_from_db()
    assert (mine.state, mine.decided_by) == ("rejected", users["district"])
