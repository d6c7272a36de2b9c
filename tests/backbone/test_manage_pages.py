"""The staff round pages (BB-3 amended) per role: bureau staff run every round, a district's staff their
county rounds (another district's round is 404), auditors read, principals and teachers are refused; the
public notice page takes objections from anyone, limited in rate and size."""

import datetime as dt
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from backbone import services
from backbone.models import Application, ApplicationStatus, Objection, RoundStatus, SelectionRound
from tests.factories import TeacherFactory
from tests.xlsx import xlsx_bytes

ROLES = ["anonymous", "superuser", "bureau", "district", "principal", "teacher", "auditor"]
READERS = {"superuser", "bureau", "district", "auditor"}
RUNNERS = {"superuser", "bureau", "district"}
IN_NOTICE = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def county(users, city):
    """A county round of D1 (the district user's) in review, with three scored candidates."""
    round_ = services.round_open(year=2026, tier="县级", type_="骨干教师", places=2, actor=users["district"])
    for i, school in enumerate(city["schools"][:2] * 2):
        teacher = TeacherFactory(staff_no=f"K{i}", name=f"候{i}", school=school)
        Application.objects.create(round=round_, teacher=teacher, school=school, status=ApplicationStatus.RECOMMENDED,
                                   score=D(90 - i))
    return round_


@pytest.fixture
def other(users, city):
    """A county round of D2: not the district user's."""
    round_ = services.round_open(year=2026, tier="县级", type_="骨干教师", places=1, district=city["districts"][1],
                                 actor=users["bureau"])
    teacher = TeacherFactory(staff_no="O1", name="外一", school=city["schools"][2])
    Application.objects.create(round=round_, teacher=teacher, school=teacher.school, status=ApplicationStatus.RECOMMENDED)
    return round_


def _status(client, users, role, method, url, data=None):
    if role != "anonymous":
        client.force_login(users[role])
    response = client.post(url, data or {}) if method == "post" else client.get(url)
    return response


def _expected(role, allowed, ok=200):
    return 302 if role == "anonymous" else ok if role in allowed else 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ["backbone:manage-round", "backbone:round-scores"])
def test_round_pages_per_role(client, users, county, role, name):
    response = _status(client, users, role, "get", reverse(name, args=[county.pk]))
    assert response.status_code == _expected(role, READERS)
    if role == "anonymous":
        assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", ROLES)
def test_rounds_list_per_role(client, users, county, other, role):
    response = _status(client, users, role, "get", reverse("backbone:manage"))
    assert response.status_code == _expected(role, READERS)
    if response.status_code == 200:
        page = response.content.decode()
        assert f"/backbone/manage/{county.pk}/" in page
        assert (f"/backbone/manage/{other.pk}/" in page) == (role != "district")
        assert ("发起评选" in page) == (role in RUNNERS)


@pytest.mark.parametrize("name", ["backbone:manage-round", "backbone:round-scores"])
def test_another_districts_round_is_not_found(client, users, other, name):
    client.force_login(users["district"])
    assert client.get(reverse(name, args=[other.pk])).status_code == 404


def test_rounds_list_queries_do_not_grow_with_rounds(client, users, county, other, django_assert_max_num_queries):
    for year in range(2020, 2026):
        services.round_open(year=year, tier="市级", type_="骨干教师", places=1, actor=users["bureau"])
    client.force_login(users["bureau"])
    with django_assert_max_num_queries(12):
        assert client.get(reverse("backbone:manage")).status_code == 200


def test_round_page_queries_are_bounded(client, users, county, django_assert_max_num_queries):
    client.force_login(users["district"])
    with django_assert_max_num_queries(14):
        assert client.get(reverse("backbone:manage-round", args=[county.pk])).status_code == 200


# --- every step's endpoint ------------------------------------------------------------------------------

STEPS = ["backbone:round-notice", "backbone:round-review", "backbone:round-scores", "backbone:round-scores-import",
         "backbone:round-shortlist", "backbone:round-objection", "backbone:round-award"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", STEPS)
def test_step_endpoints_per_role(client, users, county, role, name):
    response = _status(client, users, role, "post", reverse(name, args=[county.pk]))
    expected = _expected(role, RUNNERS, ok=302)
    if name == "backbone:round-scores-import" and role in RUNNERS:
        expected = 400  # no file: the scoring page with the reason
    if name == "backbone:round-scores" and role in RUNNERS:
        expected = 200  # the round is not in review: the scoring page with the reason
    assert response.status_code == expected


@pytest.mark.parametrize("name", STEPS)
def test_step_endpoints_of_another_districts_round_are_not_found(client, users, other, name):
    client.force_login(users["district"])
    assert client.post(reverse(name, args=[other.pk])).status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_opening_a_round_per_role(client, users, city, role):
    data = {"year": 2026, "tier": "县级", "type": "骨干教师", "places": 2, "school_limit": 2, "notice_working_days": 5,
            "district": city["districts"][0].pk, "quota-TOTAL_FORMS": 4, "quota-INITIAL_FORMS": 0,
            "quota-0-subject": "语文", "quota-0-places": 1}
    response = _status(client, users, role, "post", reverse("backbone:manage"), data)
    assert response.status_code == _expected(role, RUNNERS, ok=302)
    if role in RUNNERS:
        round_ = SelectionRound.objects.get()
        assert response["Location"] == reverse("backbone:manage-round", args=[round_.pk])
        assert round_.district == city["districts"][0]
        assert list(round_.quotas.values_list("subject", "places")) == [("语文", 1)]
    else:
        assert not SelectionRound.objects.exists()


def test_a_district_form_offers_county_rounds_of_its_own_district_only(client, users, city):
    client.force_login(users["district"])
    data = {"year": 2026, "tier": "市级", "type": "骨干教师", "places": 2, "school_limit": 2, "notice_working_days": 5,
            "quota-TOTAL_FORMS": 4, "quota-INITIAL_FORMS": 0}
    assert client.post(reverse("backbone:manage"), data).status_code == 200  # 市级 is not a choice
    data["tier"] = "县级"
    data["quota-0-district"], data["quota-0-places"] = city["districts"][1].pk, 1  # not a choice either
    assert client.post(reverse("backbone:manage"), data).status_code == 200
    assert not SelectionRound.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_assess_and_resolve_endpoints_per_role(client, users, county, role):
    application = county.applications.first()
    objection = Objection.objects.create(application=application, text="材料存疑")
    expected = _expected(role, RUNNERS, ok=302)
    assert _status(client, users, role, "post", reverse("backbone:trainee-assess", args=[application.pk]),
                   {"decision": "pass"}).status_code == expected
    assert _status(client, users, role, "post", reverse("backbone:objection-resolve", args=[objection.pk]),
                   {"finding": "dismissed", "resolution": "查无实据"}).status_code == expected
    objection.refresh_from_db()
    assert objection.is_open == (role not in RUNNERS)


def test_assess_and_resolve_of_another_districts_round_are_not_found(client, users, other):
    application = other.applications.get()
    objection = Objection.objects.create(application=application, text="材料存疑")
    client.force_login(users["district"])
    assert client.post(reverse("backbone:trainee-assess", args=[application.pk])).status_code == 404
    assert client.post(reverse("backbone:objection-resolve", args=[objection.pk])).status_code == 404


# --- the steps through the pages -----------------------------------------------------------------------


def test_the_district_runs_review_and_training_through_the_pages(client, users, county):
    SelectionRound.objects.filter(pk=county.pk).update(status=RoundStatus.REVIEW)
    client.force_login(users["district"])
    candidates = list(county.applications.order_by("pk"))
    data = {f"score-{a.pk}": str(80 + i) for i, a in enumerate(candidates)}
    assert client.post(reverse("backbone:round-scores", args=[county.pk]), data).status_code == 302
    data[f"score-{candidates[0].pk}"] = "abc"
    page = client.post(reverse("backbone:round-scores", args=[county.pk]), data).content.decode()
    assert "“abc”不是数字" in page
    client.post(reverse("backbone:round-shortlist", args=[county.pk]))
    trainees = list(county.applications.filter(status="trainee").order_by("-score"))
    assert [a.score for a in trainees] == [D("83"), D("82")]
    client.post(reverse("backbone:trainee-assess", args=[trainees[0].pk]), {"decision": "pass"})
    response = client.post(reverse("backbone:trainee-assess", args=[trainees[1].pk]), {"decision": "drop"}, follow=True)
    assert "淘汰须填写理由" in response.content.decode()
    client.post(reverse("backbone:trainee-assess", args=[trainees[1].pk]), {"decision": "drop", "reason": "考核不合格"})
    response = client.post(reverse("backbone:round-award", args=[county.pk]), {"awarded_on": "2026-12-20"}, follow=True)
    assert "已认定 1 人" in response.content.decode()
    assert county.entries.get().teacher_id == trainees[0].teacher_id


def test_a_score_sheet_with_errors_shows_each_row(client, users, county):
    SelectionRound.objects.filter(pk=county.pk).update(status=RoundStatus.REVIEW)
    client.force_login(users["district"])
    sheet = xlsx_bytes(["工号", "姓名", "评审得分"], [["K0", "候0", 88], ["K9", "某", 70]])
    sheet.name = "scores.xlsx"
    response = client.post(reverse("backbone:round-scores-import", args=[county.pk]), {"file": sheet})
    assert response.status_code == 400
    assert "第3行 工号: “K9”不是本次评选的候选人" in response.content.decode()
    good = xlsx_bytes(["工号", "姓名", "评审得分"], [["K0", "候0", 88]])
    good.name = "scores.xlsx"
    assert client.post(reverse("backbone:round-scores-import", args=[county.pk]), {"file": good}).status_code == 302
    assert county.applications.get(teacher__staff_no="K0").score == D("88")


def test_auditors_read_without_any_form(client, users, county):
    client.force_login(users["auditor"])
    page = client.get(reverse("backbone:manage-round", args=[county.pk])).content.decode()
    assert "候0" in page and "<form" not in page.split("</header>")[1]


# --- the public notice page ------------------------------------------------------------------------------


@pytest.fixture
def in_notice(users, county):
    SelectionRound.objects.filter(pk=county.pk).update(status=RoundStatus.NOTICE, notice_starts_on=dt.date(2026, 11, 23),
                                                       notice_ends_on=dt.date(2026, 11, 27))
    return county


@pytest.mark.parametrize("role", ROLES)
def test_anyone_may_object_on_the_public_notice_page(client, users, in_notice, role):
    if role != "anonymous":
        client.force_login(users[role])
    application = in_notice.applications.first()
    with time_machine.travel(IN_NOTICE, tick=False):
        page = client.get(reverse("backbone:notice", args=[in_notice.pk])).content.decode()
        assert "提交异议" in page and "身份证" not in page
        response = client.post(reverse("backbone:notice-objection", args=[in_notice.pk]),
                               {"application": application.pk, "text": "论文抄袭", "contact": "13800000000"})
    assert response.status_code == 302 and response["Location"] == reverse("backbone:notice", args=[in_notice.pk])
    objection = Objection.objects.get()
    assert (objection.application, objection.recorded_by, objection.contact) == (application, None, "13800000000")


def test_public_objections_are_limited_in_rate_and_size(client, in_notice):
    application = in_notice.applications.first()
    url = reverse("backbone:notice-objection", args=[in_notice.pk])
    with time_machine.travel(IN_NOTICE, tick=False):
        too_long = client.post(url, {"application": application.pk, "text": "字" * 5000}, follow=True)
        assert "不超过 1000 字" in too_long.content.decode()
        for _ in range(9):
            client.post(url, {"application": application.pk, "text": "有异议"})
        assert client.post(url, {"application": application.pk, "text": "有异议"}).status_code == 429
    assert Objection.objects.count() == 9


def test_public_objections_only_about_listed_candidates_of_this_round(client, in_notice, other):
    with time_machine.travel(IN_NOTICE, tick=False):
        client.post(reverse("backbone:notice-objection", args=[in_notice.pk]),
                    {"application": other.applications.get().pk, "text": "有异议"})
        client.post(reverse("backbone:notice-objection", args=[in_notice.pk]), {"application": "x", "text": "有异议"})
    assert not Objection.objects.exists()


def test_public_objections_refused_after_the_notice_period(client, in_notice):
    after = dt.datetime(2026, 11, 28, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(after, tick=False):
        client.post(reverse("backbone:notice-objection", args=[in_notice.pk]),
                    {"application": in_notice.applications.first().pk, "text": "有异议"})
    assert not Objection.objects.exists()


@pytest.mark.parametrize("role, link", [("bureau", True), ("district", True), ("auditor", True), ("principal", False),
                                        ("teacher", False)])
def test_the_menu_links_the_round_pages_for_those_who_may_open_them(client, users, role, link):
    client.force_login(users[role])
    page = client.get("/", follow=True).content.decode()
    assert (f'href="{reverse("backbone:manage")}"' in page) == link


def test_teachers_see_city_rounds_and_their_own_districts_county_rounds(client, users, city, county, other):
    SelectionRound.objects.filter(pk__in=[county.pk, other.pk]).update(status=RoundStatus.OPEN)
    city_round = services.round_open(year=2026, tier="市级", type_="学科带头人", places=1, actor=users["bureau"])
    client.force_login(users["teacher"])  # a teacher of D1
    page = client.get(reverse("backbone:rounds")).content.decode()
    assert f'id="round-{county.pk}"' in page and f'id="round-{city_round.pk}"' in page
    assert f'id="round-{other.pk}"' not in page


@pytest.mark.parametrize("tier, district, ok", [("县级", True, True), ("县级", False, False), ("市级", False, True),
                                                ("市级", True, False)])
def test_the_admin_form_keeps_county_rounds_with_their_district(city, tier, district, ok):
    from django.contrib import admin

    form_class = admin.site._registry[SelectionRound].form
    form = form_class({"year": 2026, "tier": tier, "type": "骨干教师", "places": 1, "school_limit": 2,
                       "notice_working_days": 5, "district": city["districts"][0].pk if district else ""})
    assert form.is_valid() == ok
