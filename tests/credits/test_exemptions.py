"""免考核 (CR-4) as a workflow: the school requests, district (its teachers) or bureau staff decide or grant
directly; only a granted exemption exempts; each step is audited and told to whoever acts next."""

import pytest
from django.urls import reverse

from bureau.models import Notice
from bureau.services import ApplicationError
from credits.exemptions import exemption_decide, exemption_grant, exemption_request
from credits.models import Exemption, ExemptionEvent

YEAR = 2026


@pytest.fixture
def asked(users, city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return exemption_request(teacher=city["teachers"][0], year=YEAR, kind="产假", reason="2026年3月起产假",
                                 actor=users["principal"])


def events(exemption):
    return list(ExemptionEvent.objects.filter(exemption=exemption).values_list("action", "from_state", "to_state",
                                                                               "actor__username"))


# --- services ---------------------------------------------------------------------------------------


def test_a_request_waits_and_tells_the_district(asked, users):
    assert (asked.status, asked.kind, asked.requested_by) == ("requested", "产假", users["principal"])
    assert events(asked) == [("request", "", "requested", "principal")]
    assert Notice.objects.filter(recipient=users["district"], title__contains="免考核申请待审批").exists()


def test_the_district_grants_and_the_principal_is_told(asked, users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        exemption_decide(exemption=asked, grant=True, reason="", actor=users["district"])
    asked.refresh_from_db()
    assert (asked.status, asked.approved_by) == ("granted", users["district"])
    assert events(asked)[-1] == ("grant", "requested", "granted", "district")
    assert Notice.objects.filter(recipient=users["principal"], title__contains="已批准").exists()


def test_refusing_needs_a_reason_and_frees_the_year_for_a_new_request(asked, users, city):
    with pytest.raises(ApplicationError, match="请填写原因"):
        exemption_decide(exemption=asked, grant=False, reason=" ", actor=users["bureau"])
    exemption_decide(exemption=asked, grant=False, reason="材料不全", actor=users["bureau"])
    asked.refresh_from_db()
    assert (asked.status, asked.decision_reason) == ("refused", "材料不全")
    again = exemption_request(teacher=city["teachers"][0], year=YEAR, kind="产假", reason="补充了证明",
                              actor=users["principal"])
    assert again.status == "requested"


def test_a_second_request_for_the_same_year_is_refused(asked, users, city):
    with pytest.raises(ApplicationError, match="已有免考核申请"):
        exemption_request(teacher=city["teachers"][0], year=YEAR, kind="病假", reason="病假", actor=users["principal"])


def test_a_decided_request_cannot_be_decided_again(asked, users):
    exemption_decide(exemption=asked, grant=True, reason="", actor=users["district"])
    with pytest.raises(ApplicationError, match="当前为“已批准”"):
        exemption_decide(exemption=asked, grant=False, reason="改主意", actor=users["bureau"])


def test_another_district_and_a_principal_cannot_decide(users, city):
    from bureau.services import user_assign_role
    from tests.factories import UserFactory

    other = UserFactory(username="d2")
    user_assign_role(user=other, role="district", actor=users["superuser"], district=city["districts"][1])
    exemption = exemption_request(teacher=city["teachers"][0], year=YEAR, kind="病假", reason="病假",
                                  actor=users["principal"])
    for actor in (other, users["principal"], users["auditor"]):
        with pytest.raises(ApplicationError, match="区县或市教育局"):
            exemption_decide(exemption=exemption, grant=True, reason="", actor=actor)


def test_only_the_teachers_own_principal_requests(users, city):
    with pytest.raises(ApplicationError, match="本校校长"):
        exemption_request(teacher=city["teachers"][1], year=YEAR, kind="病假", reason="病假", actor=users["principal"])
    with pytest.raises(ApplicationError, match="本校校长"):
        exemption_request(teacher=city["teachers"][0], year=YEAR, kind="病假", reason="病假", actor=users["district"])


@pytest.mark.parametrize("kind, reason, year, message", [
    ("休假", "x", YEAR, "请选择免考核类型"), ("其他", "  ", YEAR, "请填写免考核原因"), ("其他", "x", 1999, "年度应在"),
])
def test_a_bad_request_is_refused_with_the_reason(users, city, kind, reason, year, message):
    with pytest.raises(ApplicationError, match=message):
        exemption_request(teacher=city["teachers"][0], year=year, kind=kind, reason=reason, actor=users["principal"])


def test_district_grants_directly_for_its_teachers_only(users, city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        granted = exemption_grant(teacher=city["teachers"][0], year=YEAR, kind="长期外派", reason="援疆一年",
                                  actor=users["district"])
    assert granted.status == "granted" and events(granted) == [("grant", "", "granted", "district")]
    assert Notice.objects.filter(recipient=users["principal"], title__contains="免考核已批准").exists()
    with pytest.raises(ApplicationError, match="区县或市教育局"):
        exemption_grant(teacher=city["teachers"][2], year=YEAR, kind="病假", reason="病假", actor=users["district"])


# --- pages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role, school_page, queue", [
    ("bureau", 403, 200), ("district", 403, 200), ("principal", 200, 403), ("teacher", 403, 403), ("auditor", 403, 403)])
def test_pages_per_role(client, users, city, role, school_page, queue):
    client.force_login(users[role])
    assert client.get(reverse("credits:school-exemptions")).status_code == school_page
    assert client.get(reverse("credits:exemptions")).status_code == queue


def test_anonymous_is_sent_to_log_in(client, db):
    for url in (reverse("credits:school-exemptions"), reverse("credits:exemptions"),
                reverse("credits:exemption-decide", args=[1])):
        response = client.get(url) if "decide" not in url else client.post(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_principal_requests_on_the_page(client, users, city):
    client.force_login(users["principal"])
    response = client.post(reverse("credits:school-exemptions"), {
        "teacher": city["teachers"][0].pk, "year": YEAR, "kind": "病假", "reason": "手术住院"}, follow=True)
    assert "等待区县审批" in response.content.decode()
    assert Exemption.objects.get().status == "requested"
    # another school's teacher is not offered (and not accepted)
    client.post(reverse("credits:school-exemptions"), {
        "teacher": city["teachers"][1].pk, "year": YEAR, "kind": "病假", "reason": "x"})
    assert Exemption.objects.count() == 1


def test_the_queue_lists_own_district_requests_and_decides_per_row(client, users, city, asked):
    t3 = city["teachers"][2]
    outside = Exemption.objects.create(teacher=t3, year=YEAR, kind="病假", reason="病假")
    client.force_login(users["district"])
    response = client.get(reverse("credits:exemptions"))
    assert [e.pk for e in response.context["pending"]] == [asked.pk]
    assert client.post(reverse("credits:exemption-decide", args=[outside.pk]), {"decision": "grant"}).status_code == 404
    response = client.post(reverse("credits:exemption-decide", args=[asked.pk]),
                           {"decision": "refuse", "reason": "请补充证明"}, follow=True)
    assert "已不予批准" in response.content.decode()
    asked.refresh_from_db()
    assert asked.status == "refused"


def test_the_district_grants_directly_by_staff_number(client, users, city):
    client.force_login(users["district"])
    client.post(reverse("credits:exemptions"), {"staff_no": "T2", "year": YEAR, "kind": "其他", "reason": "借调"})
    assert Exemption.objects.get().status == "granted"
    response = client.post(reverse("credits:exemptions"), {"staff_no": "T3", "year": YEAR, "kind": "其他", "reason": "x"})
    assert "没有找到该工号" in response.content.decode()


def test_list_pages_take_a_fixed_number_of_queries(client, users, city, django_assert_max_num_queries):
    from tests.factories import TeacherFactory

    for i in range(20):
        teacher = TeacherFactory(school=city["schools"][0], staff_no=f"Q{i}")
        Exemption.objects.create(teacher=teacher, year=YEAR, reason="病假", requested_by=users["principal"],
                                 status="requested" if i % 2 else "granted", approved_by=users["district"])
    client.force_login(users["district"])
    with django_assert_max_num_queries(12):
        client.get(reverse("credits:exemptions"))
    client.force_login(users["principal"])
    with django_assert_max_num_queries(14):
        client.get(reverse("credits:school-exemptions"))


# --- admin ------------------------------------------------------------------------------------------


def test_bureau_grants_in_the_admin_through_the_service(client, users, city, asked):
    client.force_login(users["bureau"])
    url = reverse("admin:credits_exemption_add")
    data = {"teacher": city["teachers"][1].pk, "year": YEAR, "kind": "病假", "reason": "住院",
            "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0", "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "1000"}
    assert client.post(url, data).status_code == 302
    granted = Exemption.objects.get(teacher=city["teachers"][1])
    assert granted.status == "granted" and events(granted) == [("grant", "", "granted", "bureau")]
    response = client.post(url, {**data, "teacher": city["teachers"][0].pk})  # T1 already has a request
    assert response.status_code == 200 and "已有免考核申请" in response.content.decode()


@pytest.mark.parametrize("role, expected", [("bureau", 200), ("district", 403), ("principal", 403), ("auditor", 403)])
def test_only_bureau_staff_add_in_the_admin_and_nobody_changes(client, users, asked, role, expected):
    client.force_login(users[role])
    assert client.get(reverse("admin:credits_exemption_add")).status_code == expected
    if role == "bureau":
        response = client.post(reverse("admin:credits_exemption_change", args=[asked.pk]), {"reason": "改"})
        asked.refresh_from_db()
        assert response.status_code == 403 and asked.reason == "2026年3月起产假"
