"""The enrolment chain's pages per role: the organiser's enrolment page (scope, filters, bulk steps,
pages, queries), the principal's bulk decisions and nominations, the project roster workbook."""

import datetime as dt
import io
from decimal import Decimal as D

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.factories import TeacherFactory
from training.enrolment_views import ROSTER_HEADERS
from training.models import Attendance, Enrolment, Project, Result, Session

TODAY = dt.date(2026, 11, 23)
LIST = reverse("training:organise-enrolments")
BULK = reverse("training:organise-enrolments-bulk")


def make_project(code, **over):
    values = dict(code=code, name=f"研修{code}", level="市培", mode="集中面授", kind="必修", theme="学科教学",
                  hours=D("24"), start_on=dt.date(2026, 12, 1), end_on=dt.date(2026, 12, 5), organiser="承办单位",
                  status="enrolling")
    values.update(over)
    return Project.objects.create(**values)


@pytest.fixture
def world(city):
    """A bureau project, D1's and D2's 县培, S1's 校本; enrolments of T1 (S1, D1), T2 (S2, D1), T3 (S3, D2)."""
    d1, d2 = city["districts"]
    s1 = city["schools"][0]
    t1, t2, t3 = city["teachers"]
    city_p = make_project("C1")
    x1 = make_project("X1", level="县培", owner_district=d1)
    x2 = make_project("X2", level="县培", owner_district=d2)
    b1 = make_project("B1", level="校本", owner_school=s1)
    e = {
        "c1_t1": Enrolment.objects.create(project=city_p, teacher=t1, state="school_approved"),
        "c1_t2": Enrolment.objects.create(project=city_p, teacher=t2, state="applied"),
        "c1_t3": Enrolment.objects.create(project=city_p, teacher=t3, state="school_approved"),
        "x1_t2": Enrolment.objects.create(project=x1, teacher=t2, state="applied"),
        "x2_t3": Enrolment.objects.create(project=x2, teacher=t3, state="school_approved"),
        "b1_t1": Enrolment.objects.create(project=b1, teacher=t1, state="school_approved"),
    }
    return {"projects": {"C1": city_p, "X1": x1, "X2": x2, "B1": b1}, "e": e}


def listed(client, query=""):
    response = client.get(LIST + query)
    assert response.status_code == 200
    return {e.pk for e in response.context["page"]}


# --- The organiser's enrolment page ---------------------------------------------------------------------


@pytest.mark.parametrize("role, status", [("bureau", 200), ("district", 200), ("principal", 200), ("teacher", 403),
                                          ("auditor", 403)])
def test_enrolment_page_per_role(client, users, role, status):
    client.force_login(users[role])
    assert client.get(LIST).status_code == status
    assert client.post(BULK, {"action": "approve"}).status_code in ((302,) if status == 200 else (403,))


def test_enrolment_page_anonymous_goes_to_login(client, db):
    assert client.get(LIST)["Location"].startswith("/accounts/login/")
    assert client.post(BULK)["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role, expected", [
    ("bureau", {"c1_t1", "c1_t2", "c1_t3", "x1_t2", "x2_t3", "b1_t1"}),
    # D1: its own 县培 in full, and its teachers' rows awaiting the organiser elsewhere (not D2's, not applied).
    ("district", {"x1_t2", "c1_t1", "b1_t1"}),
    ("principal", {"b1_t1"}),
])
def test_enrolment_page_scope(client, users, world, role, expected):
    client.force_login(users[role])
    assert listed(client) == {world["e"][k].pk for k in expected}


def test_enrolment_page_filters(client, users, world, city):
    client.force_login(users["bureau"])
    e, p = world["e"], world["projects"]
    assert listed(client, f"?project={p['C1'].pk}") == {e["c1_t1"].pk, e["c1_t2"].pk, e["c1_t3"].pk}
    assert listed(client, "?state=applied") == {e["c1_t2"].pk, e["x1_t2"].pk}
    assert listed(client, f"?school={city['schools'][2].pk}") == {e["c1_t3"].pk, e["x2_t3"].pk}
    assert listed(client, "?q=T1") == {e["c1_t1"].pk, e["b1_t1"].pk}
    assert listed(client, "?q=王") == {e["c1_t3"].pk, e["x2_t3"].pk}
    assert listed(client, "?project=abc&state=nonsense&school=&page=99")  # bad values: ignored, last page


def test_bulk_approve_one_refused_row_reports_and_the_others_proceed(client, users, world):
    e = world["e"]
    client.force_login(users["bureau"])
    response = client.post(BULK, {"action": "approve", "ids": [e["c1_t1"].pk, e["c1_t2"].pk, e["c1_t3"].pk],
                                  "query": "state=school_approved"})
    assert response["Location"] == LIST + "?state=school_approved"
    states = {k: Enrolment.objects.get(pk=e[k].pk).state for k in ("c1_t1", "c1_t2", "c1_t3")}
    assert states == {"c1_t1": "approved", "c1_t2": "applied", "c1_t3": "approved"}
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert "已处理 2 条报名。" in texts
    assert any(t.startswith("T2 李二（C1）：当前状态为“已报名”") for t in texts)


def test_bulk_reject_needs_one_reason_for_all(client, users, world):
    e = world["e"]
    client.force_login(users["bureau"])
    client.post(BULK, {"action": "reject", "ids": [e["c1_t1"].pk, e["c1_t3"].pk]})
    assert Enrolment.objects.filter(pk__in=[e["c1_t1"].pk, e["c1_t3"].pk], state="school_approved").count() == 2
    client.post(BULK, {"action": "reject", "ids": [e["c1_t1"].pk, e["c1_t3"].pk], "reason": "名额已满"})
    assert Enrolment.objects.filter(pk__in=[e["c1_t1"].pk, e["c1_t3"].pk], state="rejected").count() == 2


def test_bulk_no_show_on_approved_rows(client, users, world):
    row = world["e"]["x1_t2"]
    Enrolment.objects.filter(pk=row.pk).update(state="approved")
    client.force_login(users["district"])
    client.post(BULK, {"action": "no_show", "ids": [row.pk]})
    assert Enrolment.objects.get(pk=row.pk).state == "no_show"


def test_bulk_leaves_rows_outside_the_scope_alone(client, users, world):
    e = world["e"]
    client.force_login(users["district"])  # D1: D2's 县培 and D2's teacher are not theirs
    client.post(BULK, {"action": "approve", "ids": [e["x2_t3"].pk, e["c1_t3"].pk]})
    assert Enrolment.objects.get(pk=e["x2_t3"].pk).state == "school_approved"
    assert Enrolment.objects.get(pk=e["c1_t3"].pk).state == "school_approved"


def test_principal_organises_the_schools_own_project(client, users, world):
    row = world["e"]["b1_t1"]
    client.force_login(users["principal"])
    client.post(BULK, {"action": "approve", "ids": [row.pk]})
    assert Enrolment.objects.get(pk=row.pk).state == "approved"


def test_enrolment_page_is_paged_and_its_queries_bounded(client, users, city, django_assert_max_num_queries):
    project = make_project("C9")
    for school in city["schools"]:
        for _ in range(20):
            Enrolment.objects.create(project=project, teacher=TeacherFactory(school=school), state="school_approved")
    client.force_login(users["bureau"])
    client.get(LIST)  # warm the session and caches
    with django_assert_max_num_queries(8):  # 4 measured: rows, count, projects, schools
        response = client.get(LIST)
    assert len(response.context["page"]) == 50 and response.context["page"].paginator.count == 60
    assert len(client.get(LIST + "?page=2").context["page"]) == 10
    with django_assert_max_num_queries(6):  # sessions, rows (one query for 60), whatever the size
        assert client.get(reverse("training:project-roster", args=[project.pk])).status_code == 200


# --- The principal's bulk decisions and nominations -------------------------------------------------------


@pytest.mark.parametrize("name", ["training:school-enrolments-bulk", "training:school-nominate-bulk"])
@pytest.mark.parametrize("role, status", [("principal", 302), ("teacher", 403), ("district", 403), ("bureau", 403),
                                          ("auditor", 403)])
def test_school_bulk_endpoints_per_role(client, users, city, name, role, status):
    client.force_login(users[role])
    assert client.post(reverse(name), {"project": make_project("C1").pk}).status_code == status


def test_school_bulk_endpoints_anonymous_and_get(client, users, db):
    assert client.post(reverse("training:school-enrolments-bulk"))["Location"].startswith("/accounts/login/")
    client.force_login(users["principal"])
    assert client.get(reverse("training:school-enrolments-bulk")).status_code == 405


def test_principal_decides_many_at_once_own_school_only(client, users, city):
    project = make_project("C1")
    s1 = city["schools"][0]
    mine = [Enrolment.objects.create(project=project, teacher=TeacherFactory(school=s1)) for _ in range(3)]
    Enrolment.objects.filter(pk=mine[2].pk).update(state="withdrawn")
    other = Enrolment.objects.create(project=project, teacher=city["teachers"][1])  # S2
    client.force_login(users["principal"])
    response = client.post(reverse("training:school-enrolments-bulk"),
                           {"decision": "approve", "ids": [e.pk for e in mine] + [other.pk]})
    states = [Enrolment.objects.get(pk=e.pk).state for e in mine + [other]]
    assert states == ["school_approved", "school_approved", "withdrawn", "applied"]
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert "已处理 2 条报名。" in texts and any("已退出" in t for t in texts)
    client.post(reverse("training:school-enrolments-bulk"), {"decision": "reject", "ids": [mine[0].pk]})
    assert Enrolment.objects.get(pk=mine[0].pk).state == "school_approved"  # no reason given


def test_principal_nominates_many_for_one_project_with_the_waiting_list(client, users, city):
    project = make_project("C1", capacity=2)
    s1 = city["schools"][0]
    teachers = [city["teachers"][0]] + [TeacherFactory(school=s1) for _ in range(2)]
    retired = TeacherFactory(school=s1, status="退休")
    client.force_login(users["principal"])
    ids = [t.pk for t in teachers + [retired, city["teachers"][1]]]  # T2 is at S2: ignored
    response = client.post(reverse("training:school-nominate-bulk"), {"project": project.pk, "ids": ids, "waitlist": "1"})
    states = sorted(Enrolment.objects.filter(project=project).values_list("state", flat=True))
    assert states == ["applied", "applied", "waitlisted"]
    assert not Enrolment.objects.filter(teacher=city["teachers"][1]).exists()
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("已选派 2 名" in t for t in texts) and any("1 名教师因名额已满进入候补" in t for t in texts)
    assert any("在职" in t for t in texts)
    assert all(e.nominated for e in Enrolment.objects.filter(project=project))


def test_school_page_shows_the_bulk_forms(client, users, city):
    Enrolment.objects.create(project=make_project("C1"), teacher=city["teachers"][0])
    client.force_login(users["principal"])
    page = client.get(reverse("training:school-enrolments")).content.decode()
    assert 'id="school-bulk"' in page and 'id="nominate-bulk"' in page and 'form="school-bulk"' in page


def test_teacher_sees_the_waiting_list_button_when_full(client, users, city):
    project = make_project("C1", capacity=1)
    Enrolment.objects.create(project=project, teacher=city["teachers"][1])
    client.force_login(users["teacher"])
    assert "加入候补" in client.get(reverse("training:projects")).content.decode()
    client.post(reverse("training:apply", args=[project.pk]), {"waitlist": "1"})
    assert Enrolment.objects.get(project=project, teacher=city["teachers"][0]).state == "waitlisted"
    assert "退出候补" in client.get(reverse("training:projects")).content.decode()


# --- The roster workbook ------------------------------------------------------------------------------


def roster(client, project):
    response = client.get(reverse("training:project-roster", args=[project.pk]))
    if response.status_code != 200:
        return response.status_code, None
    sheet = load_workbook(io.BytesIO(response.content)).active
    return 200, sheet


@pytest.mark.parametrize("role, code, status, staff", [
    ("bureau", "C1", 200, {"T1", "T2", "T3"}),
    ("auditor", "C1", 200, {"T1", "T2", "T3"}),
    ("district", "C1", 200, {"T1", "T2"}),  # not the organiser: the district's teachers only
    ("district", "X1", 200, {"T2"}),
    ("district", "X2", 200, set()),
    ("principal", "B1", 200, {"T1"}),
    ("principal", "C1", 404, None),
    ("teacher", "C1", 403, None),
])
def test_roster_per_role(client, users, world, role, code, status, staff):
    client.force_login(users[role])
    got, sheet = roster(client, world["projects"][code])
    assert got == status
    if sheet is not None:
        assert [c.value for c in sheet[1]] == ROSTER_HEADERS
        assert {r[0] for r in sheet.iter_rows(min_row=2, values_only=True)} == staff


def test_roster_anonymous_and_missing(client, users, world):
    url = reverse("training:project-roster", args=[world["projects"]["C1"].pk])
    assert client.get(url)["Location"].startswith("/accounts/login/")
    client.force_login(users["bureau"])
    assert client.get(reverse("training:project-roster", args=[999999])).status_code == 404


def test_roster_rows_attendance_result_and_no_id_numbers(client, users, city):
    project = make_project("C5")
    t1 = city["teachers"][0]
    t1.id_number = "11010519491231002X"
    t1.save()
    e1 = Enrolment.objects.create(project=project, teacher=t1, state="completed")
    e2 = Enrolment.objects.create(project=project, teacher=city["teachers"][1], state="approved")
    client.force_login(users["bureau"])
    _, sheet = roster(client, project)
    assert [r[8] for r in sheet.iter_rows(min_row=2, values_only=True)] == [None, None]  # no sessions: blank
    # Four sessions held (before today) and one still to come, which the rate does not count yet.
    today = timezone.localdate()
    sessions = [Session.objects.create(project=project, held_on=today - dt.timedelta(days=d)) for d in (4, 3, 2, 1)]
    Session.objects.create(project=project, held_on=today + dt.timedelta(days=3))
    for s in sessions[:3]:
        Attendance.objects.create(session=s, enrolment=e1, present=True)
    Attendance.objects.create(session=sessions[3], enrolment=e1, present=False)
    Result.objects.create(enrolment=e1, grade="合格", completed_on=dt.date(2026, 12, 5))
    _, sheet = roster(client, project)
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["T1"][1:7] == ("张一", "东一小学", "城东区", t1.subject, t1.title, "已结业")
    assert (rows["T1"][8], rows["T1"][9]) == (0.75, "合格")
    assert (rows["T2"][8], rows["T2"][9]) == (0, None)
    assert rows["T1"][7] is not None
    assert e2.pk and not any("11010519491231002X" in str(v) for r in rows.values() for v in r)
    assert sheet.freeze_panes == "A2"


def test_roster_writes_a_formula_looking_name_as_text(client, users, city):
    project = make_project("C6")
    Enrolment.objects.create(project=project, teacher=TeacherFactory(school=city["schools"][0],
                                                                     name='=HYPERLINK("http://x","y")'))
    client.force_login(users["bureau"])
    _, sheet = roster(client, project)
    cell = sheet["B2"]
    assert cell.value == '=HYPERLINK("http://x","y")' and cell.data_type == "s"


def test_district_organiser_filters_and_admits_in_bulk(client, users, world):
    """Issue 17 item 3: district staff admit their own 县培's rows and their teachers' rows of a city
    project in one step, after filtering to what waits for them."""
    e = world["e"]
    Enrolment.objects.filter(pk=e["x1_t2"].pk).update(state="school_approved")
    client.force_login(users["district"])
    waiting = listed(client, "?state=school_approved")
    assert waiting == {e["x1_t2"].pk, e["c1_t1"].pk, e["b1_t1"].pk}
    assert listed(client, f"?state=school_approved&project={world['projects']['X1'].pk}") == {e["x1_t2"].pk}
    response = client.post(BULK, {"action": "approve", "ids": [e["x1_t2"].pk, e["c1_t1"].pk],
                                  "query": "state=school_approved"})
    assert response["Location"] == LIST + "?state=school_approved"
    assert {Enrolment.objects.get(pk=e[k].pk).state for k in ("x1_t2", "c1_t1")} == {"approved"}
    assert "已处理 2 条报名。" in [str(m) for m in get_messages(response.wsgi_request)]
    assert listed(client, "?state=school_approved") == {e["b1_t1"].pk}
    assert 'data-select-all="ids"' in client.get(LIST).content.decode()  # 全选本页 (static/js/select_all.js)
