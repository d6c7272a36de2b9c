"""Issue 19 item 1, reviewer's findings on the provider API's record handling (training.providers):
holds against existing results, per-record refusals, authorship, xAPI mapping, closed years, replays of
held records, the body cap, the admin's scope audit and the per-role checks of the held-record pages."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from bureau.models import AuditEntry
from bureau.roles import SYSTEM_USERNAME
from credits.models import Amendment, Claim, ComplianceReport, LedgerEntry
from tests.factories import TeacherFactory
from training.models import EnrolmentEvent, Project, Provider, ProviderCourse, ProviderRecord, Result
from training.providers import provider_key_issue
from training.services import result_record

from .provider_fixtures import COMMON, XAPI, post, record

HOURS_IRI = "https://x.example/xapi/extensions/certified-hours"


@pytest.fixture
def feed(db):
    projects = [Project.objects.create(code=f"NET{i}", name=f"网络课程{i}", **COMMON) for i in range(6)]
    provider = Provider.objects.create(name="某网络学院")
    provider.projects.set(projects)
    return provider, provider_key_issue(provider=provider, actor=None), projects


def outcomes(response):
    assert response.status_code == 200, response.content
    return [(o["outcome"], o["reason"]) for o in response.json()["outcomes"]]


def result_of(teacher, project):
    return Result.objects.get(enrolment__teacher=teacher, enrolment__project=project)


# --- 3. an existing result is not overwritten: the record is held ---------------------------------------

def test_record_for_a_project_with_a_result_from_elsewhere_is_held(client, feed, users):
    _, key, projects = feed
    teacher = TeacherFactory()
    result_record(project=projects[0], teacher=teacher, grade="优秀", completed_on=dt.date(2026, 6, 1),
                  certified_hours=None, actor=users["bureau"])  # a bureau import
    rows = LedgerEntry.objects.count()
    [(outcome, reason)] = outcomes(post(client, key, [record(1, teacher, projects[0], grade="不合格")]))
    assert outcome == "held" and "已有其他来源的考核结果（优秀）" in reason
    assert result_of(teacher, projects[0]).grade == "优秀"
    assert LedgerEntry.objects.count() == rows
    held = ProviderRecord.objects.get(record_id="R1")
    assert (held.state, held.result, held.claim) == ("held", result_of(teacher, projects[0]), None)
    # bureau staff release it: the record's grade wins, reversed through the ledger (CR-2)
    client.force_login(users["bureau"])
    client.post(reverse("training:provider-record-decide", args=[held.pk]), {"action": "release", "reason": "机构更正"})
    assert result_of(teacher, projects[0]).grade == "不合格"
    assert LedgerEntry.objects.filter(teacher=teacher, reverses__isnull=False).count() == 1


def test_same_values_from_elsewhere_are_not_held(client, feed, users):
    _, key, projects = feed
    teacher = TeacherFactory()
    result_record(project=projects[0], teacher=teacher, grade="合格", completed_on=dt.date(2026, 6, 30),
                  certified_hours=None, actor=users["bureau"])
    assert outcomes(post(client, key, [record(1, teacher, projects[0])])) == [("unchanged", "")]
    assert LedgerEntry.objects.filter(teacher=teacher).count() == 1


def test_result_of_another_project_same_organiser_overlapping_is_held(client, feed, users):
    _, key, projects = feed
    elsewhere = Project.objects.create(code="LOCAL1", name="本地项目", **{**COMMON, "start_on": dt.date(2026, 6, 1)})
    earlier = Project.objects.create(code="LOCAL2", name="去年项目", **{**COMMON, "start_on": dt.date(2025, 3, 1),
                                                                     "end_on": dt.date(2025, 6, 30)})
    t1, t2 = TeacherFactory(), TeacherFactory()
    result_record(project=elsewhere, teacher=t1, grade="合格", completed_on=dt.date(2026, 6, 20), certified_hours=None,
                  actor=users["bureau"])
    result_record(project=earlier, teacher=t2, grade="合格", completed_on=dt.date(2025, 6, 20), certified_hours=None,
                  actor=users["bureau"])
    answer = outcomes(post(client, key, [record(1, t1, projects[1]), record(2, t2, projects[1])]))
    assert answer[0][0] == "held" and "LOCAL1" in answer[0][1] and "主办单位相同且培训日期重叠" in answer[0][1]
    assert answer[1] == ("created", "")  # same organiser, dates a year apart
    assert LedgerEntry.objects.filter(teacher=t1).count() == 1
    assert ProviderRecord.objects.get(record_id="R1").result == result_of(t1, elsewhere)


def test_failing_result_elsewhere_does_not_hold(client, feed, users):
    """Only what counts can count twice: a 不合格 elsewhere posted nothing."""
    _, key, projects = feed
    elsewhere = Project.objects.create(code="LOCAL1", name="本地项目", **COMMON)
    teacher = TeacherFactory()
    result_record(project=elsewhere, teacher=teacher, grade="不合格", completed_on=None, certified_hours=None,
                  actor=users["bureau"])
    assert outcomes(post(client, key, [record(1, teacher, projects[1])])) == [("created", "")]


def test_a_providers_own_results_on_other_courses_do_not_hold(client, feed):
    _, key, projects = feed
    teacher = TeacherFactory()
    assert outcomes(post(client, key, [record(1, teacher, projects[0])])) == [("created", "")]
    assert outcomes(post(client, key, [record(2, teacher, projects[1])])) == [("created", "")]
    assert LedgerEntry.objects.filter(teacher=teacher).count() == 2


def test_another_provider_cannot_overwrite_a_result(client, feed):
    prov_a, key_a, projects = feed
    prov_b = Provider.objects.create(name="另一平台", organiser="某网络学院")
    key_b = provider_key_issue(provider=prov_b, actor=None)
    teacher = TeacherFactory()
    post(client, key_a, [record(1, teacher, projects[0], grade="优秀")])
    [(outcome, _)] = outcomes(post(client, key_b, [record(1, teacher, projects[0], grade="不合格")]))
    assert outcome == "held"
    assert result_of(teacher, projects[0]).grade == "优秀"
    assert outcomes(post(client, key_a, [record(1, teacher, projects[0], grade="优秀")])) == [("unchanged", "")]
    assert LedgerEntry.objects.filter(teacher=teacher).count() == 1
    # provider A still corrects its own result
    assert outcomes(post(client, key_a, [record(1, teacher, projects[0], grade="合格")]))[0][0] == "updated"


def test_a_change_after_bureau_corrected_the_result_is_held(client, feed, users):
    _, key, projects = feed
    teacher = TeacherFactory()
    post(client, key, [record(1, teacher, projects[0], grade="不合格", on="")])
    result_record(project=projects[0], teacher=teacher, grade="合格", completed_on=dt.date(2026, 6, 1),
                  certified_hours=None, actor=users["bureau"])  # the bureau corrects it
    [(outcome, reason)] = outcomes(post(client, key, [record(1, teacher, projects[0], grade="不合格", on="")]))
    assert outcome == "unchanged" and "合格" in reason  # the record did not change; says the result did
    [(outcome, _)] = outcomes(post(client, key, [record(1, teacher, projects[0], grade="未完成", on="")]))
    assert outcome == "held"
    assert result_of(teacher, projects[0]).grade == "合格"


# --- 4. an impossible date refuses that record only --------------------------------------------------------

def test_impossible_dates_refuse_only_that_record(client, feed):
    _, key, projects = feed
    teacher = TeacherFactory()
    answer = outcomes(post(client, key, [record(1, teacher, projects[0], on="2026-02-30"), record(2, teacher, projects[1])]))
    assert answer[0] == ("refused", "完成日期格式不正确（应为 YYYY-MM-DD）。")
    assert answer[1] == ("created", "")
    bad = statement(3, teacher, "NET2")
    bad["timestamp"] = "2026-02-30T10:00:00+08:00"
    answer = outcomes(post(client, key, [bad, statement(4, teacher, "NET3")], url=XAPI))
    assert answer[0][0] == "refused" and "完成日期格式不正确" in answer[0][1]
    assert answer[1] == ("created", "")


# --- 6. postings name their author -------------------------------------------------------------------------

def test_provider_postings_name_the_system_user_and_the_record(client, feed):
    _, key, projects = feed
    teacher = TeacherFactory()
    post(client, key, [record("A-7", teacher, projects[0])])
    result = result_of(teacher, projects[0])
    assert result.recorded_by.username == SYSTEM_USERNAME
    row = LedgerEntry.objects.get(teacher=teacher)
    assert row.approved_by.username == SYSTEM_USERNAME and row.entered_by.username == SYSTEM_USERNAME
    assert "某网络学院" in row.description and "RA-7" in row.description
    assert EnrolmentEvent.objects.get(enrolment=result.enrolment).actor.username == SYSTEM_USERNAME
    recorded = AuditEntry.objects.get(action="training.results.recorded")  # one row per batch
    (entry,) = [r for r in recorded.data["results"] if r["id"] == result.pk]
    assert recorded.actor.username == SYSTEM_USERNAME and "RA-7" in entry["origin"]
    assert AuditEntry.objects.get(action="training.provider.records_posted").actor.username == SYSTEM_USERNAME
    # a change reverses under the same author, the reversal naming the record too
    post(client, key, [record("A-7", teacher, projects[0], grade="不合格")])
    reversal = LedgerEntry.objects.get(teacher=teacher, reverses__isnull=False)
    assert reversal.approved_by.username == SYSTEM_USERNAME and "RA-7" in reversal.description
    assert not AuditEntry.objects.filter(actor__isnull=True).exclude(action="training.provider.key_issued").exists()


def test_attendance_path_names_the_system_user(client, feed):
    _, key, projects = feed
    Project.objects.filter(pk=projects[0].pk).update(min_attendance_rate=80)
    teacher = TeacherFactory()
    assert outcomes(post(client, key, [record(1, teacher, projects[0])]))[0][0] == "created"  # no session held
    assert result_of(teacher, projects[0]).recorded_by.username == SYSTEM_USERNAME
    assert "R1" in LedgerEntry.objects.get(teacher=teacher).description


# --- 13, 14. xAPI: the course mapping first; duration is not certified hours ---------------------------------

def statement(i, teacher, object_id, success=True, extensions=None, duration="PT12H30M"):
    result = {"success": success, "duration": duration, **({"extensions": extensions} if extensions else {})}
    return {"id": f"S{i}", "actor": {"objectType": "Agent", "account": {"homePage": "https://x.example", "name": teacher.staff_no}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}, "object": {"id": object_id},
            "result": result, "timestamp": "2026-06-30T10:00:00+08:00"}


def test_xapi_course_mapping_wins_over_a_project_code(client, feed):
    prov, key, projects = feed
    ProviderCourse.objects.create(provider=prov, external_id="NET5", project=projects[1])
    ProviderCourse.objects.create(provider=prov, external_id="https://x.example/courses/c-2", project=projects[2])
    teacher = TeacherFactory()
    answer = outcomes(post(client, key, [statement(1, teacher, "https://x.example/courses/NET5"),
                                         statement(2, teacher, "https://x.example/courses/c-2"),
                                         statement(3, teacher, "NET3")], url=XAPI))
    assert [o for o, _ in answer] == ["created"] * 3
    codes = set(Result.objects.filter(enrolment__teacher=teacher).values_list("enrolment__project__code", flat=True))
    assert codes == {"NET1", "NET2", "NET3"}


def test_xapi_duration_is_not_certified_hours(client, feed):
    _, key, projects = feed
    t1, t2, t3 = TeacherFactory(), TeacherFactory(), TeacherFactory()
    answer = outcomes(post(client, key, [statement(1, t1, "NET0"), statement(2, t2, "NET0", extensions={HOURS_IRI: 12.5}),
                                         statement(3, t3, "NET0", extensions={HOURS_IRI: "很多"})], url=XAPI))
    assert [o for o, _ in answer] == ["created", "created", "refused"]
    assert answer[2][1] == "认定学时须为数字。"
    assert result_of(t1, projects[0]).certified_hours is None
    assert result_of(t2, projects[0]).certified_hours == D("12.50")


# --- 16, 17, 18. teachers: 工号 required, an ID number that disagrees refused; numbers as text --------------

def test_staff_no_and_id_number_must_name_the_same_teacher(client, feed):
    _, key, projects = feed
    t1 = TeacherFactory(id_number="430681198503140021")
    TeacherFactory(id_number="11010519491231002X")
    answer = outcomes(post(client, key, [record(1, t1, projects[0], id_number="11010519491231002X"),
                                         record(2, t1, projects[1], id_number="430681198503140021")]))
    assert answer[0] == ("refused", "工号与身份证号不是同一位教师，请核对。")
    assert answer[1] == ("created", "")


def test_id_number_alone_never_tells_whether_it_is_a_city_teacher(client, feed):
    _, key, projects = feed
    TeacherFactory(id_number="430681198503140021")
    ours = {"record_id": "R1", "project_code": "NET0", "id_number": "430681198503140021", "grade": "合格",
            "completed_on": "2026-06-30"}
    response = post(client, key, [ours, {**ours, "record_id": "R2", "id_number": "110105194912310021"}])
    first, second = outcomes(response)
    assert first == second and first[0] == "refused" and "工号" in first[1]
    assert "430681198503140021" not in response.content.decode()
    assert not Result.objects.exists()


def test_numeric_record_id_and_staff_no_are_read_as_text(client, feed):
    _, key, projects = feed
    teacher = TeacherFactory(staff_no="20260001")
    response = post(client, key, [{**record(1, teacher, projects[0]), "record_id": 123, "staff_no": 20260001}])
    assert outcomes(response) == [("created", "")]
    assert response.json()["outcomes"][0]["record_id"] == "123"
    assert ProviderRecord.objects.get().record_id == "123"
    assert outcomes(post(client, key, [{**record(1, teacher, projects[0]), "record_id": True}]))[0][0] == "refused"


# --- 19. a closed year: the record says it waits as 补报 ----------------------------------------------------

def test_closed_year_record_says_it_waits_as_amendment(client, feed):
    _, key, projects = feed
    ComplianceReport.objects.create(year=2025, kind="closed", status="done")
    teacher = TeacherFactory()
    answer = outcomes(post(client, key, [record(1, teacher, projects[0], on="2025-12-30"), record(2, teacher, projects[1])]))
    assert answer[0][0] == "created" and "补报" in answer[0][1]
    assert answer[1] == ("created", "")
    assert not LedgerEntry.objects.filter(teacher=teacher, project_code="NET0").exists()
    assert Amendment.objects.filter(state="pending").count() == 1
    # Sent again unchanged: still waiting, and it says so (once approved, it no longer does).
    again = outcomes(post(client, key, [record(1, teacher, projects[0], on="2025-12-30")]))
    assert again[0][0] == "unchanged" and "补报" in again[0][1]
    Amendment.objects.filter(state="pending").update(state="refused")
    assert outcomes(post(client, key, [record(1, teacher, projects[0], on="2025-12-30")])) == [("unchanged", "")]


def test_replay_of_an_overridden_record_does_not_claim_another_sources_pending_amendment(client, feed, users):
    """The bureau moved the provider's 2026 result into closed 2025 (a pending 补报 of the bureau's): the
    provider's record sent again says it was not applied, not that it waits as 补报."""
    _, key, projects = feed
    ComplianceReport.objects.create(year=2025, kind="closed", status="done")
    teacher = TeacherFactory()
    assert outcomes(post(client, key, [record(1, teacher, projects[0])])) == [("created", "")]
    result_record(project=projects[0], teacher=teacher, grade="优秀", completed_on=dt.date(2025, 12, 1),
                  certified_hours=None, actor=users["bureau"])
    assert Amendment.objects.filter(state="pending").count() == 1
    outcome, reason = outcomes(post(client, key, [record(1, teacher, projects[0])]))[0]
    assert outcome == "unchanged" and "优秀" in reason and "补报" not in reason


# --- 21. a held record is checked again when it is sent again ------------------------------------------------

def claim_for(teacher, **kw):
    now = timezone.now()
    fields = {"title": "网络课程", "organiser": "别的单位", "project_code": "NET0", "started_on": dt.date(2026, 1, 1),
              "ended_on": dt.date(2026, 1, 2), "hours": D("10"), "mode": "网络研修", "theme": "学科教学",
              "state": "district_review", "state_since": now, "submitted_at": now, **kw}
    return Claim.objects.create(teacher=teacher, school=teacher.school, **fields)


def test_held_record_is_rechecked_on_replay(client, feed):
    _, key, projects = feed
    teacher = TeacherFactory()
    claim = claim_for(teacher)
    assert outcomes(post(client, key, [record(1, teacher, projects[0])]))[0][0] == "held"
    # the claim is replaced by another one that matches: still held, now naming the live claim
    Claim.objects.filter(pk=claim.pk).update(state="withdrawn")
    other = claim_for(teacher, project_code="", organiser="某网络学院", started_on=dt.date(2026, 6, 1),
                      ended_on=dt.date(2026, 6, 30))
    [(outcome, reason)] = outcomes(post(client, key, [record(1, teacher, projects[0])]))
    assert outcome == "held" and "主办单位相同且培训日期重叠" in reason
    assert ProviderRecord.objects.get(record_id="R1").claim == other
    assert not LedgerEntry.objects.filter(teacher=teacher).exists()
    # the claim is refused: replaying the record posts it
    Claim.objects.filter(pk=other.pk).update(state="rejected")
    [(outcome, reason)] = outcomes(post(client, key, [record(1, teacher, projects[0])]))
    assert outcome == "created" and "自动登记" in reason
    held = ProviderRecord.objects.get(record_id="R1")
    assert (held.state, held.claim) == ("posted", None)
    assert LedgerEntry.objects.filter(teacher=teacher).count() == 1
    assert AuditEntry.objects.filter(action="training.provider.record_released", data__automatic=True).count() == 1
    assert outcomes(post(client, key, [record(1, teacher, projects[0])])) == [("unchanged", "")]


# --- 22. the body is capped before it is read ---------------------------------------------------------------

def test_oversized_body_is_refused_before_it_is_read(client, feed, monkeypatch):
    from training import provider_api

    _, key, projects = feed
    teacher = TeacherFactory()
    huge = post(client, key, [record(1, teacher, projects[0])], CONTENT_LENGTH=str(provider_api.MAX_BODY_BYTES + 1))
    assert huge.status_code == 413
    assert "请求体过大" in huge.json()["detail"]
    monkeypatch.setattr(provider_api, "MAX_BODY_BYTES", 100)
    assert post(client, key, [record(1, teacher, projects[0])] * 3).status_code == 413
    assert post(client, key, [statement(1, teacher, "NET0")] * 3, url=XAPI).status_code == 413
    assert not Result.objects.exists()
    monkeypatch.setattr(provider_api, "MAX_BODY_BYTES", 10_000)
    assert post(client, key, [record(1, teacher, projects[0])]).status_code == 200


# --- 23a. the admin: scope changes are audited --------------------------------------------------------------

def admin_form(provider, **change):
    data = {"name": provider.name, "active": "on", "organiser": provider.organiser,
            "projects": [str(pk) for pk in provider.projects.values_list("pk", flat=True)] if provider.pk else [],
            "courses-TOTAL_FORMS": "0", "courses-INITIAL_FORMS": "0", "courses-MIN_NUM_FORMS": "0",
            "courses-MAX_NUM_FORMS": "1000", "_save": "保存"}
    data.update(change)
    return data


def test_admin_scope_change_is_audited(client, feed, users):
    prov, _, projects = feed
    client.force_login(users["bureau"])
    url = reverse("admin:training_provider_change", args=[prov.pk])
    assert client.post(url, admin_form(prov)).status_code == 302
    assert not AuditEntry.objects.filter(action="training.provider.scope_changed").exists()
    response = client.post(url, admin_form(prov, organiser="另一机构", projects=[str(projects[0].pk)]))
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="training.provider.scope_changed")
    assert entry.actor == users["bureau"] and entry.object_id == str(prov.pk)
    assert entry.data["before"]["organiser"] == "" and entry.data["after"]["organiser"] == "另一机构"
    assert entry.data["after"]["projects"] == ["NET0"] and len(entry.data["before"]["projects"]) == 6


def test_admin_new_provider_is_audited(client, db, users):
    client.force_login(users["bureau"])
    data = admin_form(Provider(name="新平台"))
    assert client.post(reverse("admin:training_provider_add"), data).status_code == 302
    entry = AuditEntry.objects.get(action="training.provider.scope_changed")
    assert entry.data["before"] is None and entry.data["after"]["projects"] == []


# --- per-role checks: the decide endpoint and the provider admin ------------------------------------------

@pytest.fixture
def held_record(client, feed):
    _, key, projects = feed
    teacher = TeacherFactory()
    claim_for(teacher)
    post(client, key, [record(1, teacher, projects[0])])
    return ProviderRecord.objects.get(record_id="R1")


@pytest.mark.parametrize("role", ["district", "principal", "teacher", "auditor"])
@pytest.mark.parametrize("action", ["release", "reject"])
def test_decide_is_for_bureau_staff_only(client, users, held_record, role, action):
    client.force_login(users[role])
    url = reverse("training:provider-record-decide", args=[held_record.pk])
    assert client.post(url, {"action": action, "reason": "看过了"}).status_code == 403
    held_record.refresh_from_db()
    assert held_record.state == "held"
    assert not LedgerEntry.objects.exists()


def test_decide_anonymous_goes_to_login(client, held_record):
    url = reverse("training:provider-record-decide", args=[held_record.pk])
    assert client.post(url, {"action": "release"}).status_code == 302
    held_record.refresh_from_db()
    assert held_record.state == "held"


def test_decide_bureau_allowed_and_get_refused(client, users, held_record):
    client.force_login(users["bureau"])
    url = reverse("training:provider-record-decide", args=[held_record.pk])
    assert client.get(url).status_code == 405
    assert client.post(url, {"action": "reject", "reason": "已认定"}).status_code == 302
    held_record.refresh_from_db()
    assert (held_record.state, held_record.decided_by) == ("rejected", users["bureau"])


def test_provider_admin_auditor_views_only(client, feed, users):
    prov, _, _ = feed
    client.force_login(users["auditor"])
    url = reverse("admin:training_provider_change", args=[prov.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(url, admin_form(prov, organiser="改了")).status_code == 403
    prov.refresh_from_db()
    assert prov.organiser == ""


@pytest.mark.parametrize("role,status", [("auditor", 200), ("district", 403), ("principal", 403), ("teacher", 302)])
def test_provider_key_action_refused_for_other_roles(client, feed, users, role, status):
    prov, _, _ = feed
    before = prov.key_hash
    client.force_login(users[role])
    response = client.post(reverse("admin:training_provider_changelist"),
                           {"action": "issue_key", "_selected_action": [prov.pk]})
    assert response.status_code == status
    prov.refresh_from_db()
    assert prov.key_hash == before
    assert not AuditEntry.objects.filter(action="training.provider.key_issued", actor=users[role]).exists()


def test_provider_admin_key_action_for_bureau(client, feed, users):
    prov, _, _ = feed
    before = prov.key_hash
    client.force_login(users["bureau"])
    client.post(reverse("admin:training_provider_changelist"), {"action": "issue_key", "_selected_action": [prov.pk]})
    prov.refresh_from_db()
    assert prov.key_hash != before
