"""申诉 (CR-12): the 30-day window at its edges, who may decide, corrections through the result service and the
ledger services (never by editing), refusals, events and audit rows, 超期 against the policy's wait limit."""

import datetime as dt
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from bureau.models import AuditEntry
from bureau.services import ApplicationError
from bureau.workflow import forbidden_pairs
from credits import rules as credit_rules
from credits.models import ComplianceReport, LedgerEntry, Policy
from credits.services import ledger_adjust
from training.appeals import (
    TRANSITIONS,
    Correction,
    appeal_decide,
    appeal_file,
    appeal_window,
    appeal_withdraw,
    appealable,
    is_overdue,
    may_decide,
    visible_appeals,
)
from training.models import Appeal, AppealEvent, AppealKind, AppealState, Project, Result
from training.services import result_record

SH = ZoneInfo("Asia/Shanghai")


def make_project(code, **over):
    values = dict(
        code=code, name=f"研修{code}", level="市培", mode="集中面授", kind="必修", theme="学科教学", hours=D("24"),
        start_on=dt.date(2026, 10, 1), end_on=dt.date(2026, 10, 5), organiser="承办单位", status="finished",
    )
    values.update(over)
    return Project.objects.create(**values)


@pytest.fixture
def projects(city):
    d1, d2 = city["districts"]
    s1 = city["schools"][0]
    return {
        "city": make_project("C1"),
        "d1": make_project("X1", level="县培", owner_district=d1),
        "d2": make_project("X2", level="县培", owner_district=d2),
        "s1": make_project("B1", level="校本", owner_school=s1),
    }


def record(project, teacher, actor, grade="合格", hours=D("12")) -> Result:
    result, _ = result_record(project=project, teacher=teacher, grade=grade, completed_on=dt.date(2026, 10, 5),
                              certified_hours=hours, actor=actor)
    return result


def day(since: dt.date, n: int, hour: int = 12) -> dt.datetime:
    """A moment on the n-th day after `since` (day 0), Shanghai time."""
    return dt.datetime.combine(since + dt.timedelta(days=n), dt.time(hour, 0), tzinfo=SH)


@pytest.fixture
def setup(users, city, projects):
    teacher = city["teachers"][0]
    result = record(projects["d1"], teacher, users["bureau"])
    return {"teacher": teacher, "result": result, "since": timezone.localdate(result.updated_at)}


def file_result(setup, users, *, now=None, reason="考勤有误，我全程参加") -> Appeal:
    return appeal_file(teacher=setup["teacher"], kind=AppealKind.RESULT, target_id=setup["result"].pk, reason=reason,
                       actor=users["teacher"], now=now or day(setup["since"], 1))


def rows_of(result) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(source_key=f"result:{result.enrolment_id}").order_by("revision"))


# --- The window (CR-12: the 30th day allowed, the 31st refused) ------------------------------------


def test_cr12_window_rule_edges():
    since = dt.date(2026, 3, 1)
    assert credit_rules.appeal_deadline(since) == dt.date(2026, 3, 31)
    assert credit_rules.appeal_open(since=since, today=dt.date(2026, 3, 31))
    assert not credit_rules.appeal_open(since=since, today=dt.date(2026, 4, 1))


def test_cr12_result_appeal_on_day_30_is_accepted(setup, users):
    appeal = file_result(setup, users, now=day(setup["since"], 30, hour=23))
    assert appeal.state == AppealState.PENDING and appeal.project.code == "X1"


def test_cr12_result_appeal_on_day_31_is_refused(setup, users):
    with pytest.raises(ApplicationError, match="已超过申诉期限"):
        file_result(setup, users, now=day(setup["since"], 31, hour=0))
    assert not Appeal.objects.exists()


def test_cr12_ledger_row_window_counts_from_its_entry(setup, users):
    (row,) = rows_of(setup["result"])
    since = timezone.localdate(row.created_at)
    appeal_file(teacher=setup["teacher"], kind=AppealKind.LEDGER, target_id=row.pk, reason="学时少记",
                actor=users["teacher"], now=day(since, 30))
    Appeal.objects.update(state=AppealState.WITHDRAWN)
    with pytest.raises(ApplicationError, match="已超过申诉期限"):
        appeal_file(teacher=setup["teacher"], kind=AppealKind.LEDGER, target_id=row.pk, reason="学时少记",
                    actor=users["teacher"], now=day(since, 31))


def test_cr12_verdict_open_until_30_days_after_the_close(setup, users):
    today = dt.date(2027, 1, 20)
    assert appeal_window(AppealKind.VERDICT, year=2026, today=today).open  # not closed yet
    assert not appeal_window(AppealKind.VERDICT, year=2028, today=today).open  # a year not begun
    assert appeal_window(AppealKind.VERDICT, year=today.year - 1, today=today).open  # last year, not closed
    assert not appeal_window(AppealKind.VERDICT, year=today.year - 2, today=today).open  # older, never closed
    assert not appeal_window(AppealKind.VERDICT, year=2003, today=today).open
    ComplianceReport.objects.create(year=2026, kind="closed", status="done",
                                    finished_at=dt.datetime(2027, 1, 10, 9, 0, tzinfo=SH))
    assert appeal_window(AppealKind.VERDICT, year=2026, today=dt.date(2027, 2, 9)).open  # day 30
    window = appeal_window(AppealKind.VERDICT, year=2026, today=dt.date(2027, 2, 10))  # day 31
    assert not window.open and window.deadline == dt.date(2027, 2, 9)
    with pytest.raises(ApplicationError, match="2027-02-09"):
        appeal_file(teacher=setup["teacher"], kind=AppealKind.VERDICT, year=2026, reason="漏记培训",
                    actor=users["teacher"], now=day(dt.date(2027, 2, 10), 0))


def test_appealable_lists_only_what_is_in_the_window(setup, users, city, projects):
    record(projects["city"], city["teachers"][1], users["bureau"])  # another teacher's result
    today = setup["since"]
    found = appealable(setup["teacher"], today=today)
    assert [r.pk for r in found["results"]] == [setup["result"].pk]
    assert [e.pk for e in found["entries"]] == [r.pk for r in rows_of(setup["result"])]
    assert [y["year"] for y in found["years"]] == [today.year, today.year - 1]
    later = appealable(setup["teacher"], today=today + dt.timedelta(days=31))
    assert later["results"] == [] and later["entries"] == []


# --- Filing: own things only, a reason, one pending per target --------------------------------------


def test_teacher_cannot_appeal_another_teachers_result(users, city, projects):
    other = record(projects["city"], city["teachers"][1], users["bureau"])
    with pytest.raises(ApplicationError, match="找不到您的这条考核结果"):
        appeal_file(teacher=city["teachers"][0], kind=AppealKind.RESULT, target_id=other.pk, reason="x",
                    actor=users["teacher"], now=timezone.now())
    with pytest.raises(ApplicationError, match="教师本人"):
        appeal_file(teacher=city["teachers"][1], kind=AppealKind.RESULT, target_id=other.pk, reason="x",
                    actor=users["teacher"], now=timezone.now())
    assert not Appeal.objects.exists()


def test_reason_is_required_and_one_pending_appeal_per_target(setup, users):
    with pytest.raises(ApplicationError, match="申诉理由"):
        file_result(setup, users, reason="  ")
    file_result(setup, users)
    with pytest.raises(ApplicationError, match="已有待处理的申诉"):
        file_result(setup, users)
    assert Appeal.objects.count() == 1


def test_filing_writes_an_event_and_an_audit_row(setup, users):
    appeal = file_result(setup, users)
    event = AppealEvent.objects.get(appeal=appeal)
    assert (event.action, event.from_state, event.to_state, event.actor) == ("file", "", "pending", users["teacher"])
    assert AuditEntry.objects.filter(action="training.appeal.filed", object_id=str(appeal.pk)).exists()


# --- Deciding ------------------------------------------------------------------------------------


def test_who_may_decide(setup, users, city, projects):
    appeal = file_result(setup, users)  # on X1, the first district's 县培
    assert may_decide(users["bureau"], appeal) and may_decide(users["superuser"], appeal)
    assert may_decide(users["district"], appeal)
    assert not may_decide(users["principal"], appeal)  # sees it (own school's teacher), does not organise X1
    assert not may_decide(users["teacher"], appeal) and not may_decide(users["auditor"], appeal)
    verdict = appeal_file(teacher=setup["teacher"], kind=AppealKind.VERDICT, year=setup["since"].year, reason="x",
                          actor=users["teacher"], now=day(setup["since"], 1))
    assert may_decide(users["bureau"], verdict) and not may_decide(users["district"], verdict)


def test_non_organiser_cannot_decide(setup, users):
    appeal = file_result(setup, users)
    with pytest.raises(ApplicationError, match="无权处理"):
        appeal_decide(appeal=appeal, uphold=False, reason="不成立", actor=users["principal"], now=timezone.now())
    assert Appeal.objects.get().state == AppealState.PENDING


def test_decision_without_reason_is_refused(setup, users):
    appeal = file_result(setup, users)
    with pytest.raises(ApplicationError, match="请填写处理意见"):
        appeal_decide(appeal=appeal, uphold=False, reason=" ", actor=users["district"], now=timezone.now())
    with pytest.raises(ApplicationError, match="请填写处理意见"):
        appeal_decide(appeal=appeal, uphold=True, reason="", actor=users["district"], now=timezone.now(),
                      correction=Correction(grade="优秀"))
    assert Appeal.objects.get().state == AppealState.PENDING and len(rows_of(setup["result"])) == 1


def test_upheld_result_appeal_corrects_through_the_result_service(setup, users):
    appeal = file_result(setup, users)
    (original,) = rows_of(setup["result"])
    decided_at = day(setup["since"], 3)
    appeal_decide(appeal=appeal, uphold=True, reason="考勤记录核实无误，按全勤认定", actor=users["district"], now=decided_at,
                  correction=Correction(grade="优秀", certified_hours=D("24")))
    result = Result.objects.get(pk=setup["result"].pk)
    assert (result.grade, result.certified_hours) == ("优秀", D("24"))
    rows = rows_of(result)
    assert len(rows) == 3  # the original, its reversal, the new row
    assert rows[0].pk == original.pk and rows[0].hours == D("12")  # never edited
    assert rows[1].reverses_id == original.pk and rows[1].hours == D("-12")
    assert rows[2].hours == D("24") and rows[2].reverses_id is None
    appeal.refresh_from_db()
    assert (appeal.state, appeal.decided_by, appeal.decided_at) == (AppealState.UPHELD, users["district"], decided_at)
    assert appeal.correction["grade"] == ["合格", "优秀"] and appeal.correction["rows"] == [rows[1].pk, rows[2].pk]
    entry = AuditEntry.objects.get(action="training.appeal.upheld")
    assert entry.data["days"] == pytest.approx((decided_at - appeal.submitted_at).total_seconds() / 86400, abs=0.05)
    assert AppealEvent.objects.filter(appeal=appeal, action="uphold", to_state="upheld").exists()


def test_rejected_appeal_leaves_the_ledger_untouched(setup, users):
    appeal = file_result(setup, users)
    before = list(LedgerEntry.objects.values_list("pk", "hours", "credits"))
    appeal_decide(appeal=appeal, uphold=False, reason="考勤不足，维持原结果", actor=users["district"], now=timezone.now())
    assert list(LedgerEntry.objects.values_list("pk", "hours", "credits")) == before
    assert Result.objects.get(pk=setup["result"].pk).grade == "合格"
    appeal.refresh_from_db()
    assert appeal.state == AppealState.REJECTED and appeal.correction == {}


def test_upheld_without_a_change_is_refused_and_nothing_is_decided(setup, users):
    appeal = file_result(setup, users)
    with pytest.raises(ApplicationError, match="与原结果相同"):
        appeal_decide(appeal=appeal, uphold=True, reason="成立", actor=users["bureau"], now=timezone.now(),
                      correction=Correction(grade="合格", certified_hours=D("12")))
    with pytest.raises(ApplicationError, match="认定学时"):  # CR-10 still holds: above the project's 24 hours
        appeal_decide(appeal=appeal, uphold=True, reason="成立", actor=users["bureau"], now=timezone.now(),
                      correction=Correction(grade="合格", certified_hours=D("30")))
    assert Appeal.objects.get().state == AppealState.PENDING and len(rows_of(setup["result"])) == 1


def test_ledger_row_of_a_result_is_decided_by_the_organiser_through_the_result(setup, users):
    (row,) = rows_of(setup["result"])
    appeal = appeal_file(teacher=setup["teacher"], kind=AppealKind.LEDGER, target_id=row.pk, reason="少记学时",
                         actor=users["teacher"], now=day(setup["since"], 2))
    assert appeal.project.code == "X1" and may_decide(users["district"], appeal)
    appeal_decide(appeal=appeal, uphold=True, reason="按项目学时认定", actor=users["district"], now=timezone.now(),
                  correction=Correction(grade="合格", certified_hours=None))
    assert [r.hours for r in rows_of(setup["result"])] == [D("12"), D("-12"), D("24")]


def test_upheld_ledger_row_appeal_reverses_and_adjusts_with_the_appeal_named(users, city):
    teacher = city["teachers"][0]
    row = ledger_adjust(teacher_id=teacher.pk, entry_date=dt.date(2026, 5, 1), hours=D("10"), credits=D("1"),
                        reason="补登", actor=users["bureau"])
    appeal = appeal_file(teacher=teacher, kind=AppealKind.LEDGER, target_id=row.pk, reason="应为 20 学时",
                         actor=users["teacher"], now=timezone.now())
    assert appeal.project is None and not may_decide(users["district"], appeal)
    with pytest.raises(ApplicationError, match="须登记更正"):
        appeal_decide(appeal=appeal, uphold=True, reason="成立", actor=users["bureau"], now=timezone.now())
    count = LedgerEntry.objects.count()
    appeal_decide(appeal=appeal, uphold=True, reason="核实为20学时", actor=users["bureau"], now=timezone.now(),
                  correction=Correction(reverse_entry=True, hours=D("20"), credits=D("2")))
    assert LedgerEntry.objects.count() == count + 2
    reversal = LedgerEntry.objects.get(reverses=row)
    adjustment = LedgerEntry.objects.exclude(pk__in=[row.pk, reversal.pk]).get()
    assert f"申诉 #{appeal.pk}" in reversal.description and f"申诉 #{appeal.pk}" in adjustment.description
    assert (adjustment.hours, adjustment.credits, adjustment.entry_date) == (D("20"), D("2"), dt.date(2026, 5, 1))
    assert LedgerEntry.objects.get(pk=row.pk).hours == D("10")  # the appealed row itself is unchanged


def test_upheld_verdict_appeal_adjusts_within_the_year(setup, users):
    teacher = setup["teacher"]
    appeal = appeal_file(teacher=teacher, kind=AppealKind.VERDICT, year=2026, reason="外出培训未计入",
                         actor=users["teacher"], now=day(dt.date(2026, 11, 1), 0))
    with pytest.raises(ApplicationError, match="须在 2026 年内"):
        appeal_decide(appeal=appeal, uphold=True, reason="成立", actor=users["bureau"], now=timezone.now(),
                      correction=Correction(hours=D("8"), credits=D("1"), entry_date=dt.date(2027, 1, 2)))
    appeal_decide(appeal=appeal, uphold=True, reason="补计8学时", actor=users["bureau"], now=timezone.now(),
                  correction=Correction(hours=D("8"), credits=D("1"), entry_date=dt.date(2026, 12, 1)))
    row = LedgerEntry.objects.get(pk=Appeal.objects.get().correction["adjustment"])
    assert (row.teacher_id, row.hours, row.entry_date) == (teacher.pk, D("8"), dt.date(2026, 12, 1))


def test_upheld_verdict_appeal_of_a_closed_year_waits_as_an_amendment(setup, users):
    """CR-9 with CR-12: the correction of a closed year is a 补报; the appeal names it, nothing posts yet,
    and the approval on the 补报 page posts it once."""
    from credits.amendments import amendment_decide
    from credits.models import Amendment

    teacher = setup["teacher"]
    ComplianceReport.objects.create(year=2025, kind="closed", status="done",
                                    finished_at=dt.datetime(2026, 11, 20, 9, 0, tzinfo=SH))
    appeal = appeal_file(teacher=teacher, kind=AppealKind.VERDICT, year=2025, reason="外出培训未计入",
                         actor=users["teacher"], now=day(dt.date(2026, 11, 25), 0))
    before = LedgerEntry.objects.count()
    appeal_decide(appeal=appeal, uphold=True, reason="补计8学时", actor=users["bureau"], now=timezone.now(),
                  correction=Correction(hours=D("8"), credits=D("8"), entry_date=dt.date(2025, 12, 1)))
    appeal.refresh_from_db()
    assert appeal.state == AppealState.UPHELD and "adjustment" not in appeal.correction
    amendment = Amendment.objects.get(pk=appeal.correction["amendment"])
    assert LedgerEntry.objects.count() == before  # waits
    amendment_decide(amendment_id=amendment.pk, approve=True, reason="申诉成立", actor=users["bureau"])
    assert LedgerEntry.objects.filter(teacher=teacher, entry_date=dt.date(2025, 12, 1), hours=D("8")).count() == 1


def test_withdraw_by_the_teacher_only_while_pending(setup, users):
    appeal = file_result(setup, users)
    with pytest.raises(ApplicationError):
        appeal_withdraw(appeal=appeal, actor=users["bureau"], now=timezone.now())
    appeal_withdraw(appeal=appeal, actor=users["teacher"], now=timezone.now())
    assert Appeal.objects.get().state == AppealState.WITHDRAWN
    assert AuditEntry.objects.filter(action="training.appeal.withdrawn").exists()
    with pytest.raises(ApplicationError, match="已撤回"):
        appeal_decide(appeal=appeal, uphold=False, reason="x", actor=users["bureau"], now=timezone.now())
    file_result(setup, users)  # a withdrawn appeal no longer blocks a new one


@pytest.mark.parametrize("action, state", forbidden_pairs(TRANSITIONS, AppealState.values))
def test_forbidden_transitions_are_refused(setup, users, action, state):
    appeal = file_result(setup, users)
    Appeal.objects.filter(pk=appeal.pk).update(state=state)
    with pytest.raises(ApplicationError):
        if action == "withdraw":
            appeal_withdraw(appeal=appeal, actor=users["teacher"], now=timezone.now())
        else:
            appeal_decide(appeal=appeal, uphold=action == "uphold", reason="r", actor=users["bureau"],
                          now=timezone.now(), correction=Correction(grade="优秀"))


def test_overdue_after_the_policys_wait_limit(setup, users):
    Policy.objects.create(year=2020, claim_max_wait_days=10)
    appeal = file_result(setup, users)
    assert not is_overdue(appeal, now=appeal.submitted_at + dt.timedelta(days=10), max_wait=10)
    assert is_overdue(appeal, now=appeal.submitted_at + dt.timedelta(days=10, seconds=1), max_wait=10)


def test_visibility_per_role(setup, users, city, projects):
    mine = file_result(setup, users)
    other_result = record(projects["d2"], city["teachers"][2], users["bureau"])  # 西一小学 in D2, on X2
    other = Appeal.objects.create(teacher=city["teachers"][2], school=city["schools"][2], kind="result",
                                  result=other_result, project=projects["d2"], reason="x", submitted_at=timezone.now())
    seen = {role: set(visible_appeals(users[role]).values_list("pk", flat=True)) for role in users}
    assert seen["bureau"] == seen["auditor"] == seen["superuser"] == {mine.pk, other.pk}
    assert seen["district"] == {mine.pk} and seen["principal"] == {mine.pk} and seen["teacher"] == {mine.pk}
