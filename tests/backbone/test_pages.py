"""Backbone pages per role; the teacher sees why not qualified; the public notice; plan vs roster."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from backbone import services
from backbone.models import PlanTarget, RosterEntry


@pytest.mark.parametrize("page, allowed", [
    ("/backbone/", {"teacher"}), ("/backbone/school/", {"principal"}),
    ("/backbone/plan/", {"superuser", "bureau", "district", "auditor"}),
    ("/backbone/plan/?format=xlsx", {"superuser", "bureau", "district", "auditor"}),
])
@pytest.mark.parametrize("role", ["anonymous", "superuser", "bureau", "district", "principal", "teacher", "auditor"])
def test_pages_per_role(client, users, page, allowed, role):
    if role != "anonymous":
        client.force_login(users[role])
    status = client.get(page).status_code
    assert status == (302 if role == "anonymous" else 200 if role in allowed else 403)


def test_teacher_sees_the_reasons_and_cannot_apply(client, users):
    services.round_open(year=2026, tier="县级", type_="学科带头人", places=1, district=users["district"].profile.district,
                                  actor=users["bureau"])
    client.force_login(users["teacher"])
    page = client.get("/backbone/").content.decode()
    assert "暂不符合申报条件" in page and "2025年度学分未达标" in page


def test_public_notice_needs_no_login_and_shows_no_id_numbers(client, users, city):
    round_ = services.round_open(year=2026, tier="县级", type_="骨干教师", places=1, district=users["district"].profile.district,
                                  actor=users["bureau"])
    assert client.get(f"/backbone/notice/{round_.pk}/").status_code == 404  # not published yet
    round_.status, round_.notice_starts_on, round_.notice_ends_on = "notice", dt.date(2026, 11, 23), dt.date(2026, 11, 27)
    round_.save()
    with time_machine.travel(dt.datetime(2026, 11, 27, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        page = client.get(f"/backbone/notice/{round_.pk}/")  # the last day of the notice
    assert page.status_code == 200 and "公示期" in page.content.decode()


@pytest.mark.parametrize("role, status", [(None, 410), ("teacher", 410), ("principal", 410), ("bureau", 200),
                                          ("district", 200), ("auditor", 200)])
def test_public_notice_ends_with_its_period(client, users, city, role, status):
    """Issue 14: the 公示 page stayed public forever. From the day after the period, only staff see the list."""
    round_ = services.round_open(year=2026, tier="县级", type_="骨干教师", places=1, district=users["district"].profile.district,
                                  actor=users["bureau"])
    round_.status, round_.notice_starts_on, round_.notice_ends_on = "notice", dt.date(2026, 11, 23), dt.date(2026, 11, 27)
    round_.save()
    if role:
        client.force_login(users[role])
    with time_machine.travel(dt.datetime(2026, 11, 28, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        page = client.get(f"/backbone/notice/{round_.pk}/")
    assert page.status_code == status
    assert ("公示已结束" in page.content.decode()) == (status == 410)


def test_plan_against_roster(client, users, city):
    PlanTarget.objects.create(tier="县级", type="骨干教师", start_year=2026, end_year=2030, target=4)
    t1 = city["teachers"][0]
    RosterEntry.objects.create(teacher=t1, tier="县级", type="骨干教师", certificate_no="X1", awarded_on=dt.date(2026, 1, 1),
                               expires_on=dt.date(2031, 1, 1), school_at_award=t1.school)
    client.force_login(users["auditor"])
    page = client.get("/backbone/plan/?year=2026").content.decode()
    assert "<td class=\"num\">4</td><td class=\"num\">1</td>" in page and "25%" in page and "语文 1" in page
