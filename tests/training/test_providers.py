"""Issue 19 item 1: the provider API (training.provider_api, training.providers)."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from bureau.models import AuditEntry, Teacher
from credits.models import Claim, LedgerEntry
from tests.factories import SchoolFactory, TeacherFactory
from training.models import Project, Provider, ProviderCourse, ProviderRecord, Result, Session
from training.providers import provider_key_issue

from .provider_fixtures import COMMON, URL, XAPI, post, record


@pytest.fixture
def provider(db):
    projects = [Project.objects.create(code=f"NET{i}", name=f"网络课程{i}", **COMMON) for i in range(10)]
    other = Project.objects.create(code="OTHER1", name="他人项目", **{**COMMON, "organiser": "另一机构"})
    provider = Provider.objects.create(name="某网络学院")
    provider.projects.set(projects)
    key = provider_key_issue(provider=provider, actor=None)
    return provider, key, projects, other


def auth(key):
    return {"HTTP_AUTHORIZATION": f"Api-Key {key}"}


def many_teachers(n):
    school = SchoolFactory()
    base = TeacherFactory.build(school=school)
    rows = []
    for i in range(n):
        t = Teacher(**{f.attname: getattr(base, f.attname) for f in Teacher._meta.concrete_fields if f.attname != "id"})
        t.staff_no, t.name, t.id_number = f"P{i:05d}", f"教师{i}", None
        rows.append(t)
    return Teacher.objects.bulk_create(rows)


def test_replayed_feed_changes_nothing_and_a_change_reposts_exactly(client, provider):
    """10,000 records (1,000 teachers x 10 projects) posted three times: the ledger is unchanged after the
    first; 100 changed records give exactly 100 reversals and 100 new rows (CR-2)."""
    prov, key, projects, _ = provider
    teachers = many_teachers(1000)
    feed = [record(i * 10 + j, t, p) for i, t in enumerate(teachers) for j, p in enumerate(projects)]
    assert len(feed) == 10_000
    first = post(client, key, feed)
    assert first.status_code == 200, first.content
    assert first.json()["counts"] == {"created": 10_000}
    rows = LedgerEntry.objects.count()
    assert rows == 10_000
    for _ in range(2):
        again = post(client, key, feed)
        assert again.json()["counts"] == {"unchanged": 10_000}
        assert LedgerEntry.objects.count() == rows
    for item in feed[:100]:
        item["grade"] = "优秀"
        item["certified_hours"] = "12.5"
    changed = post(client, key, feed)
    assert changed.json()["counts"] == {"updated": 100, "unchanged": 9_900}
    assert LedgerEntry.objects.filter(reverses__isnull=False).count() == 100
    assert LedgerEntry.objects.count() == rows + 200
    assert ProviderRecord.objects.filter(provider=prov).count() == 10_000
    audits = AuditEntry.objects.filter(action="training.provider.records_posted")
    assert audits.count() == 4
    assert audits.order_by("-id").first().data == {"received": 10_000, "updated": 100, "unchanged": 9_900}


def claim_for(teacher, **kw):
    now = timezone.now()
    fields = {"title": "网络课程", "organiser": "别的单位", "project_code": "", "started_on": dt.date(2026, 1, 1),
              "ended_on": dt.date(2026, 1, 2), "hours": D("10"), "mode": "网络研修", "theme": "学科教学",
              "state": "approved", "state_since": now, "submitted_at": now, **kw}
    return Claim.objects.create(teacher=teacher, school=teacher.school, **fields)


@pytest.mark.parametrize("match", [{"project_code": "NET0"}, {"organiser": "某网络学院", "started_on": dt.date(2026, 6, 1),
                                                             "ended_on": dt.date(2026, 7, 1)}])
def test_record_duplicating_a_claim_is_held_not_posted(client, provider, users, match):
    _, key, projects, _ = provider
    teacher = TeacherFactory()
    claim = claim_for(teacher, **match)
    answer = post(client, key, [record(1, teacher, projects[0])]).json()
    assert answer["outcomes"][0]["outcome"] == "held"
    assert "学时认定申请重复" in answer["outcomes"][0]["reason"]
    assert not Result.objects.filter(enrolment__teacher=teacher).exists()
    assert not LedgerEntry.objects.filter(teacher=teacher).exists()
    held = ProviderRecord.objects.get(record_id="R1")
    assert (held.state, held.claim) == ("held", claim)
    # replayed: still held, nothing posted
    assert post(client, key, [record(1, teacher, projects[0])]).json()["outcomes"][0]["outcome"] == "held"
    assert not LedgerEntry.objects.filter(teacher=teacher).exists()

    # bureau staff release it: it posts once
    client.force_login(users["bureau"])
    page = client.get(reverse("training:provider-held"))
    assert page.status_code == 200 and "R1" in page.content.decode()
    client.post(reverse("training:provider-record-decide", args=[held.pk]), {"action": "release", "reason": "不重复"})
    held.refresh_from_db()
    assert held.state == "posted"
    assert LedgerEntry.objects.filter(teacher=teacher).count() == 1


def test_claim_elsewhere_or_rejected_does_not_hold(client, provider):
    _, key, projects, _ = provider
    teacher = TeacherFactory()
    claim_for(teacher)  # other organiser, other dates, no code
    claim_for(teacher, project_code="NET0", state="rejected")
    answer = post(client, key, [record(1, teacher, projects[0])]).json()
    assert answer["outcomes"][0]["outcome"] == "created"


def test_reject_held_record_needs_a_reason(client, provider, users):
    _, key, projects, _ = provider
    teacher = TeacherFactory()
    claim_for(teacher, project_code="NET0")
    post(client, key, [record(1, teacher, projects[0])])
    held = ProviderRecord.objects.get(record_id="R1")
    client.force_login(users["bureau"])
    url = reverse("training:provider-record-decide", args=[held.pk])
    client.post(url, {"action": "reject", "reason": ""})
    held.refresh_from_db()
    assert held.state == "held"
    client.post(url, {"action": "reject", "reason": "已通过学时认定登记"})
    held.refresh_from_db()
    assert held.state == "rejected"
    # replaying it changes nothing
    assert post(client, key, [record(1, teacher, projects[0])]).json()["outcomes"][0]["outcome"] == "unchanged"
    assert not LedgerEntry.objects.filter(teacher=teacher).exists()


@pytest.mark.parametrize("role", ["district", "principal", "teacher", "auditor"])
def test_held_page_is_for_bureau_staff_only(client, users, role):
    client.force_login(users[role])
    assert client.get(reverse("training:provider-held")).status_code == 403


def test_held_page_anonymous_goes_to_login(client, db):
    assert client.get(reverse("training:provider-held")).status_code == 302


def test_authentication(client, provider):
    prov, key, projects, _ = provider
    teacher = TeacherFactory()
    body = {"records": [record(1, teacher, projects[0])]}
    assert client.post(URL, body, content_type="application/json").status_code == 401
    assert client.post(URL, body, content_type="application/json", **auth(key + "x")).status_code == 401
    assert client.post(URL, body, content_type="application/json", **auth("nonsense")).status_code == 401
    prov.active = False
    prov.save()
    assert client.post(URL, body, content_type="application/json", **auth(key)).status_code == 403
    prov.active = True
    prov.save()
    new_key = provider_key_issue(provider=prov, actor=None)
    assert client.post(URL, body, content_type="application/json", **auth(key)).status_code == 401
    assert client.post(URL, body, content_type="application/json", **auth(new_key)).status_code == 200
    assert not LedgerEntry.objects.exclude(teacher=teacher).exists()


def test_signed_in_user_without_key_is_refused(client, provider, users):
    _, _, projects, _ = provider
    client.force_login(users["bureau"])
    body = {"records": [record(1, users["teacher"].teacher, projects[0])]}
    assert client.post(URL, body, content_type="application/json").status_code == 401


def test_records_are_refused_one_by_one(client, provider):
    prov, key, projects, other = provider
    ProviderCourse.objects.create(provider=prov, external_id="C-77", project=projects[1])
    teacher = TeacherFactory(id_number="430681198503140021")
    records = [
        record(1, teacher, other),  # not this provider's project
        {**record(2, teacher, projects[0]), "project_code": "NOPE"},
        {**record(3, teacher, projects[0]), "staff_no": "nobody"},
        {**record(4, teacher, projects[0]), "grade": "好"},
        record(5, teacher, projects[0], hours=D("20.01")),  # CR-10: above the project's 20 hours
        {"record_id": "R6", "course_id": "C-77", "staff_no": teacher.staff_no, "id_number": "430681198503140021",
         "grade": "合格", "completed_on": "2026-06-30"},
        {**record(7, teacher, projects[2]), "record_id": "R6"},  # same record id twice in the batch
        {**record(8, teacher, projects[3]), "completed_on": None},
    ]
    answer = post(client, key, records)
    assert answer.status_code == 200
    outcomes = answer.json()["outcomes"]
    assert [o["outcome"] for o in outcomes] == ["refused"] * 5 + ["created"] + ["refused"] * 2
    assert outcomes[0]["reason"] == "该项目不属于本机构承办，不能推送。"
    assert "430681198503140021" not in answer.content.decode()
    assert "430681198503140021" not in str(list(AuditEntry.objects.values_list("data", flat=True)))
    assert list(Result.objects.values_list("enrolment__project__code", flat=True)) == ["NET1"]


def test_organiser_scope_and_batch_limit(client, provider):
    prov, key, _, other = provider
    prov.organiser = "另一机构"
    prov.save()
    teacher = TeacherFactory()
    assert post(client, key, [record(1, teacher, other)]).json()["counts"] == {"created": 1}
    too_many = client.post(URL, {"records": [{}] * 10_001}, content_type="application/json", **auth(key))
    assert too_many.status_code == 400
    assert client.post(URL, {"rows": []}, content_type="application/json", **auth(key)).status_code == 400


def statement(i, teacher, object_id, success=True, hours=12.5, verb="completed"):
    return {"id": f"S{i}", "actor": {"objectType": "Agent", "account": {"homePage": "https://x.example", "name": teacher.staff_no}},
            "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"}, "object": {"id": object_id},
            "result": {"success": success, "duration": "PT1H",
                       "extensions": {"https://x.example/xapi/extensions/certified-hours": hours}},
            "timestamp": "2026-06-30T10:00:00+08:00"}


def test_xapi_statement_posts_the_same_as_json(client, provider):
    prov, key, projects, _ = provider
    ProviderCourse.objects.create(provider=prov, external_id="course-9", project=projects[1])
    t1, t2 = TeacherFactory(), TeacherFactory()
    assert post(client, key, [record(1, t1, projects[0], hours=D("12.5"))]).json()["counts"] == {"created": 1}
    answer = post(client, key, [statement(1, t2, "NET0"), statement(2, t2, "https://x.example/courses/course-9/"),
                                statement(3, t2, "NET2", verb="attempted")], url=XAPI).json()
    assert [o["outcome"] for o in answer["outcomes"]] == ["created", "created", "refused"]
    mine = Result.objects.get(enrolment__teacher=t1)
    theirs = Result.objects.get(enrolment__teacher=t2, enrolment__project=projects[0])
    assert (theirs.grade, theirs.completed_on, theirs.certified_hours) == (mine.grade, mine.completed_on, mine.certified_hours)
    assert LedgerEntry.objects.get(teacher=t2, project_code="NET0").hours == LedgerEntry.objects.get(teacher=t1).hours
    # one statement (not a list) is accepted, and replaying it changes nothing
    again = post(client, key, statement(1, t2, "NET0"), url=XAPI).json()
    assert again["counts"] == {"unchanged": 1}


def test_rate_limited_per_provider(client, provider, monkeypatch):
    from training import provider_api

    monkeypatch.setattr(provider_api, "RATE", "2/m")
    _, key, projects, _ = provider
    teacher = TeacherFactory()
    codes = [post(client, key, [record(1, teacher, projects[0])]).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_schema_includes_the_endpoints(client, users):
    client.force_login(users["bureau"])
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/providers/records/" in schema["paths"]
    assert "/api/providers/xapi/statements/" in schema["paths"]
    assert schema["paths"]["/api/providers/records/"]["post"]["security"] == [{"providerApiKey": []},
                                                                             {"providerOAuth2": ["records"]}]
    assert {"providerApiKey", "providerOAuth2"} <= set(schema["components"]["securitySchemes"])


def test_provider_key_command(provider, capsys):
    prov, old_key, _, _ = provider
    call_command("provider_key", "--provider", prov.name)
    out = capsys.readouterr().out
    new_key = out.strip().splitlines()[-1]
    prov.refresh_from_db()
    assert new_key != old_key and new_key.startswith(prov.key_prefix + ".")
    assert new_key not in str(Provider.objects.values_list())


def test_a_record_cannot_change_teacher_or_project(client, provider):
    _, key, projects, _ = provider
    t1, t2 = TeacherFactory(), TeacherFactory()
    post(client, key, [record(1, t1, projects[0])])
    answer = post(client, key, [record(1, t2, projects[0]), {**record(1, t1, projects[1])}])
    assert [o["outcome"] for o in answer.json()["outcomes"]] == ["refused", "refused"]
    assert LedgerEntry.objects.count() == 1


def test_attendance_minimum_applies_to_provider_records(client, provider):
    """A passing grade in a project with a minimum attendance rate and no attendance is refused, as in an
    import (training.services.result_record); a failing grade still posts."""
    _, key, projects, _ = provider
    Project.objects.filter(pk=projects[0].pk).update(min_attendance_rate=80)

    Session.objects.create(project=projects[0], held_on=dt.date(2026, 3, 2), title="第一次")
    t1, t2 = TeacherFactory(), TeacherFactory()
    answer = post(client, key, [record(1, t1, projects[0]), record(2, t2, projects[0], grade="不合格")]).json()
    assert [o["outcome"] for o in answer["outcomes"]] == ["refused", "created"]
    assert "出勤" in answer["outcomes"][0]["reason"]


def test_admin_action_issues_a_key_shown_once(client, provider, users):
    prov, old_key, _, _ = provider
    client.force_login(users["superuser"])
    assert client.get(reverse("admin:training_provider_change", args=[prov.pk])).status_code == 200
    response = client.post(reverse("admin:training_provider_changelist"),
                           {"action": "issue_key", "_selected_action": [prov.pk]}, follow=True)
    text = response.content.decode()
    prov.refresh_from_db()
    assert prov.key_prefix + "." in text and old_key not in text
    assert client.get(reverse("admin:training_provider_change", args=[prov.pk])).content.decode().count(prov.key_prefix + ".") == 0


def test_held_page_queries_do_not_grow(client, provider, users, django_assert_max_num_queries):
    _, key, projects, _ = provider
    teachers = [TeacherFactory() for _ in range(5)]
    for t in teachers:
        claim_for(t, project_code="NET0")
    post(client, key, [record(i, t, projects[0]) for i, t in enumerate(teachers)])
    client.force_login(users["bureau"])
    with django_assert_max_num_queries(12):
        page = client.get(reverse("training:provider-held"))
    assert page.content.decode().count('value="release"') == 5
