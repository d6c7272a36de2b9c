"""External recognition (学时认定, SPEC §4): the workflow per role, exactly-once posting (CR-2), evidence
checks, the turnaround report (CR-3 claim_max_wait_days), notices, and every page per role (SEC-1)."""

import datetime as dt
import threading
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from bureau.choices import Role
from bureau.models import AuditEntry, Notice
from bureau.services import ApplicationError, user_assign_role
from credits.claims import (
    TRANSITIONS,
    ClaimFields,
    claim_notify,
    claim_resubmit,
    claim_submit,
    claim_transition,
    next_state,
    visible_claims,
)
from credits.claims_report import claim_turnaround, claims_decided, percentile_cont
from credits.models import Claim, ClaimEvent, ClaimEvidence, ClaimState, LedgerEntry, Policy, Source
from credits.selectors import teacher_year
from tests.factories import UserFactory

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SH)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
ROLES = ["superuser", "bureau", "district", "principal", "teacher", "auditor"]
# Who takes each action in these tests: one user of a role allowed by TRANSITIONS.
ACTOR_OF_ROLE = {Role.TEACHER: "teacher", Role.PRINCIPAL: "principal", Role.DISTRICT: "district", Role.BUREAU: "bureau"}


def pdf(name="证书.pdf", content=PDF, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def fields(**over) -> ClaimFields:
    values = dict(title="国培计划：数字化教学能力提升", organiser="北京师范大学", started_on=dt.date(2026, 10, 10),
                  ended_on=dt.date(2026, 10, 12), hours=D("24"), mode="网络研修", theme="信息技术")
    values.update(over)
    return ClaimFields(**values)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media):
    return sorted(p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file()) if media.exists() else []


def submit(users, city, files=None, **over) -> Claim:
    return claim_submit(teacher=city["teachers"][0], fields=fields(**over), files=files or [pdf()],
                        actor=users["teacher"], now=NOW)


def act(claim, action, user, reason="材料不全", now=NOW):
    if action == "resubmit":
        return claim_resubmit(claim=claim, fields=fields(), files=[], actor=user, now=now)
    return claim_transition(claim=claim, action=action, actor=user, reason=reason, now=now)


def in_state(claim, state) -> Claim:
    Claim.objects.filter(pk=claim.pk).update(state=state)
    claim.refresh_from_db()
    return claim


def teacher_user(teacher):
    user = UserFactory()
    user_assign_role(user=user, role=Role.TEACHER, teacher=teacher, actor=None)
    return user


# --- Workflow ------------------------------------------------------------------------------------


def test_full_chain_school_then_district_posts_one_ledger_row(users, city, media):
    claim = submit(users, city)
    claim = Claim.objects.select_related("school__district", "teacher").get(pk=claim.pk)
    assert (claim.state, claim.holder, claim.submitted_at, claim.state_since) == (
        "school_review", "学校审核中（东一小学）", NOW, NOW)
    later = NOW + dt.timedelta(hours=5)
    claim = act(claim, "school_approve", users["principal"], reason="", now=later)
    assert (claim.state, claim.holder, claim.state_since, claim.decided_at) == (
        "district_review", "区县审核中（城东区）", later, None)
    assert LedgerEntry.objects.count() == 0
    decided = NOW + dt.timedelta(days=2)
    claim = act(claim, "district_approve", users["district"], reason="", now=decided)
    assert (claim.state, claim.decided_at, claim.decided_by, claim.holder) == ("approved", decided, users["district"],
                                                                             "已办结（已认定）")
    entry = LedgerEntry.objects.get()
    assert (entry.teacher, entry.entry_date, entry.hours, entry.credits, entry.source, entry.mode, entry.theme) == (
        city["teachers"][0], dt.date(2026, 10, 12), D("24.00"), D("24.00"), Source.EXTERNAL_CERTIFICATE, "网络研修", "信息技术")
    assert (entry.source_key, entry.revision, entry.entered_by, entry.approved_by) == (
        f"claim:{claim.pk}", 1, users["teacher"], users["district"])
    assert teacher_year(city["teachers"][0].pk, 2026).annual_credits == D("24")
    assert list(claim.events.values_list("action", "from_state", "to_state", "actor__username")) == [
        ("submit", "", "school_review", "teacher"),
        ("school_approve", "school_review", "district_review", "principal"),
        ("district_approve", "district_review", "approved", "district"),
    ]
    assert list(AuditEntry.objects.filter(object_type="credits.claim").order_by("id").values_list("action", flat=True)) == [
        "credits.claim.submitted", "credits.claim.school_approve", "credits.claim.district_approve"]


def test_policy_credits_per_hour_applies_to_the_training_year(users, city, media):
    Policy.objects.create(year=2026, credits_per_hour=D("0.5"))
    claim = submit(users, city)
    act(claim, "school_approve", users["principal"])
    act(claim, "district_approve", users["bureau"])
    assert LedgerEntry.objects.values_list("hours", "credits").get() == (D("24.00"), D("12.00"))


def test_school_sends_back_teacher_edits_and_resubmits(users, city, media, django_capture_on_commit_callbacks):
    claim = submit(users, city)
    old_name = claim.evidence.get().file.name
    with pytest.raises(ApplicationError, match="请填写原因"):
        act(claim, "school_return", users["principal"], reason=" ")
    claim = act(claim, "school_return", users["principal"], reason="证书不清晰，请重新扫描")
    claim = Claim.objects.select_related("teacher").get(pk=claim.pk)
    assert (claim.state, claim.holder) == ("returned", "退回教师修改（张一）")
    old = claim.evidence.get()
    later = NOW + dt.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_resubmit(claim=claim, fields=fields(hours=D("20")), files=[pdf("清晰版.png", PNG, "image/png")],
                               remove_ids=[old.pk], actor=users["teacher"], now=later)
    assert (claim.state, claim.hours, claim.submitted_at, claim.state_since) == ("school_review", D("20"), NOW, later)
    (evidence,) = claim.evidence.all()
    assert (evidence.original_name, evidence.content_type) == ("清晰版.png", "image/png")
    assert stored_files(media) == [evidence.file.name] and old_name not in stored_files(media)


def test_resubmit_must_keep_at_least_one_file(users, city, media):
    claim = act(submit(users, city), "school_return", users["principal"], reason="补充")
    only = claim.evidence.get()
    with pytest.raises(ApplicationError, match="请上传佐证材料"):
        claim_resubmit(claim=claim, fields=fields(), files=[], remove_ids=[only.pk], actor=users["teacher"], now=NOW)
    assert ClaimEvidence.objects.filter(pk=only.pk).exists()


def test_district_sends_back_to_school(users, city, media):
    claim = act(submit(users, city), "school_approve", users["principal"])
    claim = act(claim, "district_return", users["district"], reason="请学校核实学时")
    assert claim.state == "school_review" and claim.decided_at is None
    assert claim.events.last().reason == "请学校核实学时"


@pytest.mark.parametrize("action,user", [("school_reject", "principal"), ("district_reject", "district")])
def test_reject_is_final_and_needs_a_reason(users, city, media, action, user):
    claim = submit(users, city)
    if action == "district_reject":
        claim = act(claim, "school_approve", users["principal"])
    with pytest.raises(ApplicationError, match="请填写原因"):
        act(claim, action, users[user], reason="")
    claim = act(claim, action, users[user], reason="非教师专业发展类培训")
    assert (claim.state, claim.decided_by) == ("rejected", users[user])
    for follow in TRANSITIONS:
        assert next_state("rejected", follow) is None
    assert LedgerEntry.objects.count() == 0


ALL_STATES = list(ClaimState.values)
FORBIDDEN_STATES = [(a, s) for a, t in TRANSITIONS.items() for s in ALL_STATES if s not in t.from_states]
FORBIDDEN_ROLES = [(a, r) for a, t in TRANSITIONS.items() for r in ROLES
                   if (Role.BUREAU if r == "superuser" else r) not in t.roles]


def test_transitions_table_as_a_pure_function():
    for action, transition in TRANSITIONS.items():
        for state in ALL_STATES:
            assert (next_state(state, action) == transition.to_state) == (state in transition.from_states)


@pytest.mark.parametrize("action,state", FORBIDDEN_STATES)
def test_every_forbidden_from_state_is_refused(users, city, media, action, state):
    claim = in_state(submit(users, city), state)
    actor = users[ACTOR_OF_ROLE[sorted(TRANSITIONS[action].roles)[0]]]
    with pytest.raises(ApplicationError, match="不能执行"):
        act(claim, action, actor)
    claim.refresh_from_db()
    assert claim.state == state and LedgerEntry.objects.count() == 0
    assert ClaimEvent.objects.filter(claim=claim).count() == 1  # only the submission


@pytest.mark.parametrize("action,role", FORBIDDEN_ROLES)
def test_every_role_outside_a_transition_is_refused(users, city, media, action, role):
    claim = in_state(submit(users, city), sorted(TRANSITIONS[action].from_states)[0])
    with pytest.raises(ApplicationError, match="无权"):
        act(claim, action, users[role])
    assert LedgerEntry.objects.count() == 0


@pytest.mark.parametrize("action", sorted(a for a, t in TRANSITIONS.items() if Role.TEACHER not in t.roles))
def test_reviewers_out_of_scope_are_refused(users, city, media, action):
    """The principal of another school and the staff of another district may not act on the claim."""
    other_principal, other_district = UserFactory(), UserFactory()
    user_assign_role(user=other_principal, role=Role.PRINCIPAL, school=city["schools"][1], actor=None)
    user_assign_role(user=other_district, role=Role.DISTRICT, district=city["districts"][1], actor=None)
    claim = in_state(submit(users, city), sorted(TRANSITIONS[action].from_states)[0])
    for user in (other_principal, other_district):
        with pytest.raises(ApplicationError, match="无权"):
            act(claim, action, user)


def test_another_teacher_cannot_resubmit(users, city, media):
    claim = act(submit(users, city), "school_return", users["principal"], reason="补充")
    with pytest.raises(ApplicationError, match="无权"):
        act(claim, "resubmit", teacher_user(city["teachers"][1]))


def test_only_the_teacher_submits_own_claim(users, city, media):
    for user in (users["principal"], teacher_user(city["teachers"][1])):
        with pytest.raises(ApplicationError, match="本人"):
            claim_submit(teacher=city["teachers"][0], fields=fields(), files=[pdf()], actor=user, now=NOW)
    assert Claim.objects.count() == 0 and stored_files(media) == []


@pytest.mark.parametrize("over,message", [
    ({"ended_on": dt.date(2026, 11, 24), "started_on": dt.date(2026, 11, 24)}, "不能晚于今天"),
    ({"ended_on": dt.date(2026, 10, 9)}, "不能早于开始日期"),
    ({"hours": D("0")}, "学时应大于 0"),
    ({"mode": "校本研修"}, "学时申报"),
    ({"title": "  "}, "培训名称"),
])
def test_claim_fields_are_checked_in_chinese(users, city, media, over, message):
    with pytest.raises(ApplicationError, match=message):
        submit(users, city, **over)
    assert Claim.objects.count() == 0 and stored_files(media) == []


# --- Ledger: exactly once (CR-2) -------------------------------------------------------------------


def test_withdrawal_posts_a_reversal_and_reinstating_posts_again(users, city, media):
    teacher = city["teachers"][0]
    claim = act(act(submit(users, city), "school_approve", users["principal"]), "district_approve", users["district"])
    with pytest.raises(ApplicationError, match="无权"):
        act(claim, "withdraw", users["district"], reason="证书系伪造")
    with pytest.raises(ApplicationError, match="请填写原因"):
        act(claim, "withdraw", users["bureau"], reason="")
    claim = act(claim, "withdraw", users["bureau"], reason="证书系伪造")
    first, reversal = LedgerEntry.objects.order_by("revision")
    assert (reversal.reverses, reversal.credits, reversal.revision, reversal.entry_date) == (first, D("-24.00"), 2, first.entry_date)
    assert "证书系伪造" in reversal.description
    assert (claim.state, teacher_year(teacher.pk, 2026).annual_credits) == ("withdrawn", D("0"))
    claim = act(claim, "reinstate", users["bureau"], reason="原件核实无误")
    assert list(LedgerEntry.objects.order_by("revision").values_list("revision", "credits")) == [
        (1, D("24.00")), (2, D("-24.00")), (3, D("24.00"))]
    assert teacher_year(teacher.pk, 2026).annual_credits == D("24")
    act(claim, "withdraw", users["superuser"], reason="再次撤销")
    assert LedgerEntry.objects.get(revision=4).reverses.revision == 3
    assert teacher_year(teacher.pk, 2026).annual_credits == D("0")


def test_approving_again_is_refused_and_posts_nothing(users, city, media):
    claim = act(act(submit(users, city), "school_approve", users["principal"]), "district_approve", users["district"])
    with pytest.raises(ApplicationError, match="不能执行"):
        act(claim, "district_approve", users["bureau"])
    assert LedgerEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_approvals_racing_post_once(users, city, media):
    claim = act(submit(users, city), "school_approve", users["principal"])
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(user):
        try:
            barrier.wait()
            claim_transition(claim=claim, action="district_approve", actor=user, now=NOW)
            outcomes.append("ok")
        except ApplicationError as exc:
            outcomes.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - reported below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(users[name],)) for name in ("district", "bureau")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=len)[0] == "ok" and "不能执行" in sorted(outcomes, key=len)[1]
    assert LedgerEntry.objects.filter(source_key=f"claim:{claim.pk}").count() == 1
    assert ClaimEvent.objects.filter(claim=claim, action="district_approve").count() == 1


# --- Evidence ------------------------------------------------------------------------------------


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 120
ELEVEN_MB = b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024)


@pytest.mark.parametrize("bad,message", [
    (pdf("结业证书.pdf", ELF), "不是 PDF、JPG 或 PNG"),
    (pdf("结业证书.pdf", WINDOWS_EXE), "不是 PDF、JPG 或 PNG"),
    (pdf("说明.pdf", "纯文本，不是 PDF".encode()), "不是 PDF、JPG 或 PNG"),
    (pdf("大文件.pdf", ELEVEN_MB), "超过 10 MB"),
    (pdf("空.pdf", b""), "空文件"),
], ids=["elf-renamed-pdf", "exe-renamed-pdf", "text-renamed-pdf", "11-mb", "empty"])
def test_bad_evidence_is_refused_and_nothing_is_stored(users, city, media, bad, message):
    with pytest.raises(ApplicationError, match=message):
        submit(users, city, files=[pdf("好的.pdf"), bad])  # the good file comes first: it is not stored either
    assert (Claim.objects.count(), ClaimEvidence.objects.count(), stored_files(media)) == (0, 0, [])


@pytest.mark.parametrize("count,message", [(0, "请上传佐证材料"), (6, "最多 5 个文件")])
def test_one_to_five_files(users, city, media, count, message):
    with pytest.raises(ApplicationError, match=message):
        claim_submit(teacher=city["teachers"][0], fields=fields(), files=[pdf(f"{i}.pdf") for i in range(count)],
                     actor=users["teacher"], now=NOW)
    assert stored_files(media) == []


def test_size_limit_comes_from_the_setting(users, city, media, settings):
    settings.EVIDENCE_MAX_BYTES = len(PDF) - 1
    with pytest.raises(ApplicationError, match="上限"):
        submit(users, city)
    settings.EVIDENCE_MAX_BYTES = len(PDF)
    assert submit(users, city).evidence.count() == 1


def test_type_is_read_from_the_content_not_the_name_or_browser(users, city, media):
    claim = submit(users, city, files=[pdf("证书.pdf", PNG, "application/pdf"), pdf("照片", JPEG, "text/plain"), pdf()])
    evidence = list(claim.evidence.order_by("id"))
    assert [(e.original_name, e.content_type, e.size) for e in evidence] == [
        ("证书.pdf", "image/png", len(PNG)), ("照片", "image/jpeg", len(JPEG)), ("证书.pdf", "application/pdf", len(PDF))]
    assert [e.file.name.rsplit(".", 1)[1] for e in evidence] == ["png", "jpg", "pdf"]
    assert all(e.file.name.startswith(f"evidence/{claim.pk}/") for e in evidence)
    assert stored_files(media) == sorted(e.file.name for e in evidence)


def test_original_name_is_kept_as_data_only(users, city, media):
    claim = submit(users, city, files=[pdf("../../etc/passwd.pdf")])
    evidence = claim.evidence.get()
    assert evidence.original_name == "passwd.pdf"
    assert evidence.file.name.startswith(f"evidence/{claim.pk}/") and ".." not in evidence.file.name


@pytest.mark.parametrize("role,status", [
    ("anonymous", 302), ("superuser", 200), ("bureau", 200), ("district", 200), ("principal", 200), ("teacher", 200),
    ("auditor", 200), ("other_teacher", 404), ("other_principal", 404), ("other_district", 404),
])
def test_evidence_download_per_role(client, users, city, media, role, status):
    claim = submit(users, city)
    evidence = claim.evidence.get()
    others = {"other_teacher": (Role.TEACHER, {"teacher": city["teachers"][1]}),
              "other_principal": (Role.PRINCIPAL, {"school": city["schools"][1]}),
              "other_district": (Role.DISTRICT, {"district": city["districts"][1]})}
    if role in others:
        user = UserFactory()
        user_assign_role(user=user, role=others[role][0], actor=None, **others[role][1])
        client.force_login(user)
    elif role != "anonymous":
        client.force_login(users[role])
    response = client.get(reverse("claims:evidence", args=[evidence.pk]))
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf" and response["Content-Disposition"].startswith("attachment")


# --- Notices -------------------------------------------------------------------------------------


def test_notices_go_to_whoever_holds_the_claim_after_commit(users, city, media, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        claim = submit(users, city)
    assert Notice.objects.count() == 0  # nothing before commit
    for callback in callbacks * 2:  # delivered twice: still one notice
        callback()
    notice = Notice.objects.get()
    assert (notice.recipient, notice.link) == (users["principal"], "/school/claims/") and "张一" in notice.title
    with django_capture_on_commit_callbacks(execute=True):
        act(claim, "school_approve", users["principal"])
    assert Notice.objects.get(recipient=users["district"]).link == "/claims/review/"
    with django_capture_on_commit_callbacks(execute=True):
        act(claim, "district_return", users["district"], reason="请核实学时")
    assert Notice.objects.filter(recipient=users["principal"]).count() == 2  # back with the school: told again
    with django_capture_on_commit_callbacks(execute=True):
        act(claim, "school_return", users["principal"], reason="请补充学时证明")
    notice = Notice.objects.get(recipient=users["teacher"])
    assert "退回修改" in notice.title and "请补充学时证明" in notice.body and notice.link == "/portal/claims/"


def test_decision_reaches_the_teacher_and_no_district_account_means_the_bureau(users, city, media,
                                                                               django_capture_on_commit_callbacks):
    users["district"].profile.delete()
    with django_capture_on_commit_callbacks(execute=True):
        claim = act(submit(users, city), "school_approve", users["principal"])
    assert set(Notice.objects.filter(link="/claims/review/").values_list("recipient__username", flat=True)) == {"bureau"}
    with django_capture_on_commit_callbacks(execute=True):
        act(claim, "district_approve", users["bureau"])
    assert "已认定" in Notice.objects.get(recipient=users["teacher"]).title
    event = claim.events.last()
    assert claim_notify(claim_id=claim.pk, event_id=event.pk) == 0  # idempotent


def test_a_rolled_back_step_sends_nothing(users, city, media, django_capture_on_commit_callbacks):
    claim = submit(users, city)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ApplicationError):
            act(claim, "school_reject", users["principal"], reason="")
    assert callbacks == [] and not Notice.objects.filter(recipient=users["teacher"]).exists()


# --- Turnaround (CR-3 claim_max_wait_days) ---------------------------------------------------------


def make_claim(teacher, submitted, days=None, state=None, title="培训"):
    decided = submitted + dt.timedelta(days=days) if days is not None else None
    state = state or ("approved" if decided else "school_review")
    return Claim.objects.create(
        teacher=teacher, school=teacher.school, title=title, organiser="某机构", started_on=dt.date(2026, 3, 1),
        ended_on=dt.date(2026, 3, 2), hours=D("8"), mode="网络研修", theme="其他", state=state,
        state_since=decided or submitted, submitted_at=submitted, decided_at=decided,
    )


@pytest.fixture
def turnaround_data(city):
    t1, t2, t3 = city["teachers"]
    june = dt.datetime(2026, 6, 1, 9, 0, tzinfo=SH)
    for days in (1, 2, 7, 8):  # S1: exactly the limit (7) is in time, 8 is late
        make_claim(t1, june, days, title=f"S1-{days}天")
    make_claim(t1, june, 0.5, state="rejected", title="S1-半天")
    make_claim(t2, june, 3, title="S2-3天")
    make_claim(t3, june, 20, title="S3-20天")
    make_claim(t1, dt.datetime(2025, 6, 1, 9, 0, tzinfo=SH), 30, title="去年办结")  # decided outside the period
    make_claim(t1, NOW - dt.timedelta(days=7), title="S1-等待7天")  # waiting exactly the limit: in time
    make_claim(t2, NOW - dt.timedelta(days=8), title="S2-等待8天")  # one day over: late
    make_claim(t2, NOW - dt.timedelta(days=30), state="returned", title="S2-退回教师")  # with the teacher: not waiting
    return city


def report(claims, **over):
    kwargs = {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 12, 31), "now": NOW, **over}
    return claim_turnaround(claims=claims, **kwargs)


def test_percentile_is_postgresql_percentile_cont():
    assert percentile_cont([], 0.5) is None
    assert percentile_cont([5.0], 0.9) == 5.0
    assert percentile_cont([4, 1, 3, 2], 0.5) == 2.5
    assert percentile_cont([1, 2, 3, 7, 8], 0.9) == pytest.approx(7.6)


def test_turnaround_per_school_and_district(turnaround_data):
    result = report(Claim.objects.all())
    assert result.max_wait_days == 7
    by_school = {row["school_code"]: row for row in result.schools}
    s1 = by_school["S1"]
    assert (s1["decided"], s1["late"], s1["waiting"], s1["waiting_late"]) == (5, 1, 1, 0)
    assert s1["median_days"] == pytest.approx(2) and s1["p90_days"] == pytest.approx(7.6)
    s2 = by_school["S2"]
    assert (s2["decided"], s2["median_days"], s2["p90_days"], s2["late"], s2["waiting"], s2["waiting_late"]) == (
        1, pytest.approx(3), pytest.approx(3), 0, 1, 1)
    by_district = {row["district_code"]: row for row in result.districts}
    d1 = by_district["D1"]
    assert (d1["decided"], d1["late"], d1["waiting_late"]) == (6, 1, 1)
    assert d1["median_days"] == pytest.approx(percentile_cont([0.5, 1, 2, 3, 7, 8], 0.5))  # the rule agrees
    assert d1["p90_days"] == pytest.approx(percentile_cont([0.5, 1, 2, 3, 7, 8], 0.9))
    assert (by_district["D2"]["decided"], by_district["D2"]["late"]) == (1, 1)
    assert (result.total["decided"], result.total["late"], result.total["waiting_late"]) == (7, 2, 1)
    assert [c.title for c in result.late] == ["S3-20天", "S1-8天", "S2-等待8天"]  # longest first
    assert result.late[2].days == pytest.approx(8)


def test_turnaround_limit_comes_from_the_policy(turnaround_data):
    Policy.objects.create(year=2026, claim_max_wait_days=2)
    result = report(Claim.objects.all())
    by_school = {row["school_code"]: row for row in result.schools}
    assert (by_school["S1"]["late"], by_school["S1"]["waiting_late"], by_school["S2"]["late"]) == (2, 1, 1)


def test_turnaround_scoped_to_the_district_and_period(turnaround_data, users):
    result = report(visible_claims(users["district"]), start=dt.date(2026, 6, 2), end=dt.date(2026, 6, 3))
    assert [row["school_code"] for row in result.schools] == ["S1", "S2"]  # S3 is in the other district
    assert result.total["decided"] == 2  # decided on 6-2 and 6-3; 6-1 (half a day) and 6-4 are outside
    assert result.total["waiting"] == 2  # open claims count as of now, whatever the period
    decided = claims_decided(claims=visible_claims(users["district"]), start=dt.date(2026, 6, 2), end=dt.date(2026, 6, 3))
    assert [(c.title, round(c.days, 3)) for c in decided] == [("S1-2天", 2), ("S1-1天", 1)]


# --- Pages ---------------------------------------------------------------------------------------


PAGES = {
    "claims:mine": {"teacher"},
    "claims:school": {"principal"},
    "claims:review": {"district", "bureau", "superuser"},
    "claims:turnaround": {"district", "bureau", "superuser", "auditor"},
}


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_permissions_per_role(client, users, role, page):
    if role != "anonymous":
        client.force_login(users[role])
    response = client.get(reverse(page))
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == (200 if role in PAGES[page] else 403)


@pytest.mark.parametrize("role,status", [("anonymous", 302), ("teacher", 403), ("auditor", 403), ("superuser", 302),
                                         ("bureau", 302), ("district", 302), ("principal", 302)])
def test_act_endpoint_per_role(client, users, city, media, role, status):
    claim = submit(users, city)
    if role != "anonymous":
        client.force_login(users[role])
    response = client.post(reverse("claims:act", args=[claim.pk]), {"action": "school_approve"})
    assert response.status_code == status
    claim.refresh_from_db()
    assert claim.state == ("district_review" if role == "principal" else "school_review")


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_resubmit_page_per_role(client, users, city, media, role):
    claim = act(submit(users, city), "school_return", users["principal"], reason="补充")
    if role != "anonymous":
        client.force_login(users[role])
    response = client.get(reverse("claims:resubmit", args=[claim.pk]))
    expected = {"anonymous": 302, "teacher": 200}.get(role, 403)
    assert response.status_code == expected


def test_another_schools_claim_is_not_found_for_the_principal(client, users, city, media):
    other = city["teachers"][1]
    claim = claim_submit(teacher=other, fields=fields(), files=[pdf()], actor=teacher_user(other), now=NOW)
    client.force_login(users["principal"])
    assert client.post(reverse("claims:act", args=[claim.pk]), {"action": "school_approve"}).status_code == 404
    assert "李二" not in client.get(reverse("claims:school")).content.decode()


def test_pages_walk_the_workflow(client, users, city, media):
    client.force_login(users["teacher"])
    response = client.post(reverse("claims:mine"), {
        "title": "省级骨干教师研修", "organiser": "省教育学院", "started_on": "2026-11-01", "ended_on": "2026-11-05",
        "hours": "40", "mode": "集中面授", "theme": "学科教学", "evidence": [pdf("结业证书.pdf"), pdf("照片.png", PNG)],
    })
    assert response.status_code == 302, response.content.decode()
    claim = Claim.objects.get()
    page = client.get(reverse("claims:mine")).content.decode()
    assert "学校审核中（东一小学）" in page and "结业证书.pdf" in page
    client.force_login(users["principal"])
    page = client.get(reverse("claims:school")).content.decode()
    assert "省级骨干教师研修" in page
    response = client.post(reverse("claims:act", args=[claim.pk]), {"action": "school_reject", "reason": ""}, follow=True)
    assert "“学校审核不通过”请填写原因" in response.content.decode()
    client.post(reverse("claims:act", args=[claim.pk]), {"action": "school_approve", "reason": ""})
    client.force_login(users["district"])
    assert "省级骨干教师研修" in client.get(reverse("claims:review")).content.decode()
    client.post(reverse("claims:act", args=[claim.pk]), {"action": "district_approve"})
    claim.refresh_from_db()
    assert claim.state == "approved" and LedgerEntry.objects.get().hours == D("40")
    page = client.get(reverse("claims:turnaround")).content.decode()
    assert "东一小学（S1）" in page
    page = client.get(reverse("claims:turnaround"), {"school": city["schools"][0].pk}).content.decode()
    assert "省级骨干教师研修" in page


def test_teacher_form_shows_chinese_refusal_and_keeps_nothing(client, users, media):
    client.force_login(users["teacher"])
    response = client.post(reverse("claims:mine"), {
        "title": "研修", "organiser": "某机构", "started_on": "2026-11-01", "ended_on": "2026-11-05", "hours": "4",
        "mode": "网络研修", "theme": "其他", "evidence": [pdf("病毒.pdf", ELF)],
    })
    assert response.status_code == 200 and "不是 PDF、JPG 或 PNG" in response.content.decode()
    assert Claim.objects.count() == 0 and stored_files(media) == []


def test_turnaround_page_of_another_district_school_is_not_found(client, users, city):
    client.force_login(users["district"])
    assert client.get(reverse("claims:turnaround"), {"school": city["schools"][2].pk}).status_code == 404


@pytest.mark.parametrize("page,role,state", [
    ("claims:mine", "teacher", "school_review"), ("claims:school", "principal", "school_review"),
    ("claims:review", "district", "district_review"), ("claims:turnaround", "auditor", "approved"),
])
def test_query_count_does_not_grow_with_claims(client, users, city, media, django_assert_max_num_queries, page, role, state):
    client.force_login(users[role])
    for i in range(12):
        claim = submit(users, city, files=[pdf(), pdf("b.png", PNG)], title=f"培训{i}")
        Claim.objects.filter(pk=claim.pk).update(state=state, decided_at=NOW if state == "approved" else None)
        ClaimEvent.objects.create(claim=claim, action="x", from_state="", to_state=state, actor=users["principal"])
    with django_assert_max_num_queries(10):
        assert client.get(reverse(page)).status_code == 200
