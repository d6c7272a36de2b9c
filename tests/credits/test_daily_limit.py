"""CR-10: a day of submitted school-based or self-study hours holds at most the policy's daily limit
(CR-3), counting the teacher's pending and approved submissions of that day; refused with the reason on
the hours form, at approval by the principal and on the district's hours page."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse

from bureau.models import Profile
from bureau.services import ApplicationError
from credits.models import HoursSubmission, LedgerEntry, Policy
from credits.services import hours_decide, hours_submit

TODAY = dt.date(2026, 11, 23)
DAY = dt.date(2026, 10, 9)


def submit(users, city, hours, *, kind="self_study", day=DAY):
    return hours_submit(teacher=city["teachers"][0], kind=kind, title="读书", studied_on=day, hours=D(hours), theme="其他",
                        evidence="读书笔记", actor=users["teacher"], today=TODAY)


def test_cr10_eight_hours_on_a_day_accepted(users, city):
    assert submit(users, city, "8").hours == D("8")


def test_cr10_eight_and_a_half_hours_on_a_day_refused(users, city):
    with pytest.raises(ApplicationError, match="2026-10-09 申报 8.5 学时，超过每日上限 8 学时"):
        submit(users, city, "8.5")
    assert not HoursSubmission.objects.exists()


def test_cr10_five_then_three_accepted_five_then_four_refused(users, city):
    submit(users, city, "5")
    with pytest.raises(ApplicationError, match="已申报 5 学时，加上本次 4 学时共 9 学时，超过每日上限 8 学时"):
        submit(users, city, "4", kind="school_based")  # both kinds count towards the same day
    submit(users, city, "3", kind="school_based")
    assert HoursSubmission.objects.count() == 2


def test_cr10_approved_counts_rejected_and_withdrawn_do_not(users, city):
    approved, rejected = submit(users, city, "4"), submit(users, city, "4")
    hours_decide(submission=approved, approve=True, note="", actor=users["principal"])
    hours_decide(submission=rejected, approve=False, note="佐证不足", actor=users["principal"])
    HoursSubmission.objects.filter(pk=submit(users, city, "2").pk).update(state="withdrawn")
    submit(users, city, "4")  # 4 approved + 4 now; the rejected and the withdrawn ones are not counted
    with pytest.raises(ApplicationError):
        submit(users, city, "0.5")


def test_cr10_other_days_and_other_teachers_do_not_count(users, city):
    submit(users, city, "8")
    submit(users, city, "8", day=DAY + dt.timedelta(days=1))
    HoursSubmission.objects.create(teacher=city["teachers"][1], kind="self_study", title="读书", studied_on=DAY,
                                   hours=D("8"), evidence="笔记")
    assert HoursSubmission.objects.filter(teacher=city["teachers"][0]).count() == 2


def test_cr10_the_limit_is_the_policy_of_the_day_s_year(users, city):
    Policy.objects.create(year=2026, daily_hours_limit=D("4"))
    submit(users, city, "4", day=dt.date(2025, 12, 31) + dt.timedelta(days=1))
    with pytest.raises(ApplicationError, match="超过每日上限 4 学时"):
        submit(users, city, "4.5")
    Policy.objects.create(year=2020, daily_hours_limit=D("10"))  # an earlier version: 2025 keeps 10
    submit(users, city, "10", day=dt.date(2025, 12, 31))


def test_cr10_the_hours_form_shows_the_reason(client, users, city):
    client.force_login(users["teacher"])
    assert "不能超过 8 学时；自主研修（师本）每年最多计入 24 学分" in client.get(reverse("credits:hours")).content.decode()
    data = {"kind": "self_study", "title": "读书", "studied_on": "2026-10-09", "theme": "其他", "evidence": "读书笔记"}
    assert client.post(reverse("credits:hours"), {**data, "hours": "5"}).status_code == 302
    page = client.post(reverse("credits:hours"), {**data, "hours": "4"}).content.decode()
    assert "已申报 5 学时，加上本次 4 学时共 9 学时，超过每日上限 8 学时" in page
    assert HoursSubmission.objects.count() == 1


def legacy(teacher, hours, state="submitted"):
    """A submission from before the limit (written directly, as old rows were)."""
    return HoursSubmission.objects.create(teacher=teacher, kind="self_study", title="读书", studied_on=DAY,
                                          hours=D(hours), evidence="笔记", state=state)


def test_cr10_approval_cannot_bring_a_day_over_the_limit(client, users, city):
    first, second = legacy(city["teachers"][0], "5"), legacy(city["teachers"][0], "5")
    hours_decide(submission=first, approve=True, note="", actor=users["principal"])
    client.force_login(users["principal"])
    response = client.post(reverse("credits:school-hours-decide", args=[second.pk]), {"decision": "approve"}, follow=True)
    assert "不能通过：2026-10-09 已申报 5 学时，加上本次 5 学时共 10 学时，超过每日上限 8 学时。请退回该申报。" in (
        response.content.decode())
    second.refresh_from_db()
    assert second.state == "submitted" and LedgerEntry.objects.count() == 1
    hours_decide(submission=second, approve=False, note="超过每日上限", actor=users["principal"])  # rejecting is fine


def test_cr10_on_the_district_hours_page_too(client, users, city):
    Profile.objects.filter(role="principal", school=city["schools"][1]).delete()
    t2 = city["teachers"][1]
    first, second = legacy(t2, "6"), legacy(t2, "3")
    client.force_login(users["district"])
    client.post(reverse("credits:district-hours-decide", args=[first.pk]), {"decision": "approve"})
    response = client.post(reverse("credits:district-hours-decide", args=[second.pk]), {"decision": "approve"},
                           follow=True)
    assert "超过每日上限 8 学时" in response.content.decode()
    assert list(HoursSubmission.objects.order_by("pk").values_list("state", flat=True)) == ["approved", "submitted"]
