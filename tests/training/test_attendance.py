"""Sessions and attendance (SPEC §3): the rate per enrolment, the no-show list, the same-project rule at
every layer, and the minimum attendance rate for a passing result (CR-1 through result_record)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from bureau.models import AuditEntry
from bureau.services import ApplicationError
from credits.models import LedgerEntry
from training import rules
from training.attendance import (
    attendance_counts,
    attendance_record,
    no_show_filter,
    project_min_attendance_set,
    session_add,
    session_remove,
    with_attendance,
)
from training.models import Attendance, Enrolment, Result, Session
from training.services import result_record

from .attendance_fixtures import TODAY, day, enrolment_of, make_project, owned, session_of  # noqa: F401

# --- rules (no database) ------------------------------------------------------------------------------


def test_rate_is_present_over_held_cut_to_one_decimal():
    assert rules.attendance_rate(present=2, held=3) == Decimal("66.6")
    assert rules.attendance_rate(present=4, held=5) == 80
    assert rules.attendance_rate(present=0, held=0) is None
    assert rules.percent_text(rules.attendance_rate(present=4, held=5)) == "80"


@pytest.mark.parametrize("present, held, minimum, short", [
    (8, 10, 80, False),   # exactly at the minimum passes
    (7, 10, 80, True),    # one session below fails
    (2, 3, 67, True),     # 66.67% is below 67% (whole-number comparison, no rounding up)
    (2, 3, 66, False),
    (0, 0, 80, False),    # no session held (an online course imported from a platform): never refused
    (0, 10, None, False),  # no minimum
    (0, 1, 0, False),
])
def test_minimum_attendance_rate_edges(present, held, minimum, short):
    assert rules.attendance_short(present=present, held=held, minimum=minimum) is short


def test_refusal_names_both_rates():
    assert rules.attendance_refusal(present=7, held=10, minimum=80) == "出勤率 70% 低于项目要求的 80%"


@pytest.mark.parametrize("state, present, held, listed", [
    ("no_show", 0, 0, True), ("approved", 0, 1, True), ("approved", 1, 2, False), ("approved", 0, 0, False),
    ("withdrawn", 0, 3, False), ("completed", 0, 2, True),
])
def test_no_show_list_rule(state, present, held, listed):
    assert rules.is_no_show(state=state, present=present, held=held) is listed


# --- sessions ----------------------------------------------------------------------------------------


def test_organiser_adds_a_session_within_the_project_dates(users, owned):
    session = session_add(project=owned["B1"], held_on=day(-1), title="观课", actor=users["principal"])
    assert AuditEntry.objects.filter(action="training.session.added", object_id=str(session.pk)).exists()
    with pytest.raises(ApplicationError, match="场次日期应在培训时间内"):
        session_add(project=owned["B1"], held_on=day(30), title="", actor=users["principal"])
    with pytest.raises(ApplicationError, match="已有同名场次"):
        session_add(project=owned["B1"], held_on=day(-1), title="观课", actor=users["principal"])


@pytest.mark.parametrize("role, code", [("principal", "B2"), ("district", "X2"), ("district", "C1"), ("teacher", "B1"),
                                        ("auditor", "C1")])
def test_only_the_organiser_adds_sessions(users, owned, role, code):
    with pytest.raises(ApplicationError, match="主办单位"):
        session_add(project=owned[code], held_on=day(-1), title="", actor=users[role])


def test_removing_a_session_drops_and_audits_its_attendance(users, owned):
    session = session_of(owned["B1"], -20)
    attendance_record(session=session, present_ids=[], actor=users["principal"], today=TODAY)
    assert session_remove(session=session, actor=users["principal"]) == 2
    entry = AuditEntry.objects.get(action="training.session.removed")
    assert (entry.data["attendance_rows"], entry.data["present"]) == (2, 0)
    assert not Attendance.objects.filter(session_id=session.pk).exists()


# --- attendance --------------------------------------------------------------------------------------


def test_attendance_for_the_whole_list_then_saved_again_changes_nothing(users, owned):
    session = session_of(owned["B1"], -20)
    t1, t4 = enrolment_of(owned["B1"], "T1"), enrolment_of(owned["B1"], "T4")
    first = attendance_record(session=session, present_ids=[t1.pk], actor=users["principal"], today=TODAY)
    assert (first.created, first.updated) == (2, 0)
    assert dict(Attendance.objects.filter(session=session).values_list("enrolment_id", "present")) == {
        t1.pk: True, t4.pk: False}
    again = attendance_record(session=session, present_ids=[t1.pk], actor=users["principal"], today=TODAY)
    assert (again.changed, again.unchanged) == (0, 2)
    changed = attendance_record(session=session, present_ids=[t1.pk, t4.pk], actor=users["principal"], today=TODAY)
    assert (changed.created, changed.updated) == (0, 1)
    assert AuditEntry.objects.filter(action="training.attendance.recorded").count() == 2  # not for the no-op
    assert Attendance.objects.get(session=session, enrolment=t4).recorded_by == users["principal"]


def test_attendance_is_refused_for_another_projects_enrolment(users, owned):
    foreign = enrolment_of(owned["C1"], "T1")
    with pytest.raises(ApplicationError, match="不属于本项目的参训名单"):
        attendance_record(session=session_of(owned["B1"], -20), present_ids=[foreign.pk], actor=users["bureau"],
                          today=TODAY)
    assert not Attendance.objects.exists()


def test_attendance_is_refused_before_the_session_and_for_non_organisers(users, owned):
    with pytest.raises(ApplicationError, match="尚未举行"):
        attendance_record(session=session_of(owned["B1"], 5), present_ids=[], actor=users["principal"], today=TODAY)
    with pytest.raises(ApplicationError, match="主办单位"):
        attendance_record(session=session_of(owned["B2"], -20), present_ids=[], actor=users["principal"], today=TODAY)
    with pytest.raises(ApplicationError, match="主办单位"):
        attendance_record(session=session_of(owned["X1"], -20), present_ids=[], actor=users["auditor"], today=TODAY)


def test_only_admitted_enrolments_are_on_the_list(users, owned):
    withdrawn = enrolment_of(owned["B1"], "T4")
    Enrolment.objects.filter(pk=withdrawn.pk).update(state="withdrawn")
    marked = attendance_record(session=session_of(owned["B1"], -20), present_ids=[], actor=users["principal"],
                               today=TODAY)
    assert marked.created == 1
    with pytest.raises(ApplicationError):
        attendance_record(session=session_of(owned["B1"], -20), present_ids=[withdrawn.pk], actor=users["principal"],
                          today=TODAY)


def test_the_database_refuses_an_attendance_row_across_projects(owned):
    """The triggers of migration 0009: whatever path writes (shell, admin, a future API), never across projects."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Attendance.objects.create(session=session_of(owned["B1"], -20), enrolment=enrolment_of(owned["C1"], "T1"))
    row = Attendance.objects.create(session=session_of(owned["B1"], -20), enrolment=enrolment_of(owned["B1"], "T1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Attendance.objects.filter(pk=row.pk).update(enrolment=enrolment_of(owned["C1"], "T1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.filter(pk=row.session_id).update(project=owned["C1"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.filter(pk=row.enrolment_id).update(project=owned["B2"])
    Session.objects.filter(pk=session_of(owned["B1"], 5).pk).update(title="无考勤的场次可以改")


def test_model_clean_says_the_same(owned):
    row = Attendance(session=session_of(owned["B1"], -20), enrolment=enrolment_of(owned["C1"], "T1"))
    with pytest.raises(ValidationError, match="同一培训项目"):
        row.full_clean()


def test_the_admin_cannot_add_or_change_attendance(client, users, owned):
    client.force_login(users["superuser"])
    assert client.get("/admin/training/attendance/add/").status_code == 403
    assert client.post("/admin/training/attendance/add/", {
        "session": session_of(owned["B1"], -20).pk, "enrolment": enrolment_of(owned["C1"], "T1").pk,
        "present": "on"}).status_code == 403
    assert not Attendance.objects.exists()
    assert client.get("/admin/training/attendance/").status_code == 200


# --- rate and no-show list ---------------------------------------------------------------------------


def test_rate_counts_sessions_held_so_far(users, owned):
    project = owned["B1"]
    t1, t4 = enrolment_of(project, "T1"), enrolment_of(project, "T4")
    attendance_record(session=session_of(project, -20), present_ids=[t1.pk], actor=users["principal"], today=TODAY)
    rows = {e.pk: e for e in with_attendance(Enrolment.objects.filter(project=project), today=TODAY)}
    assert (rows[t1.pk].sessions_present, rows[t1.pk].sessions_held) == (1, 2)  # the session to come not counted
    assert (rows[t4.pk].sessions_present, rows[t4.pk].sessions_held) == (0, 2)
    assert attendance_counts(enrolment_id=t1.pk, project_id=project.pk, today=TODAY) == (1, 2)
    assert attendance_counts(enrolment_id=t1.pk, project_id=project.pk, today=day(-15)) == (1, 1)


def test_no_show_list_in_the_database_agrees_with_the_rule(users, owned):
    project = owned["C1"]
    attendance_record(session=session_of(project, -20), present_ids=[enrolment_of(project, "T1").pk],
                      actor=users["bureau"], today=TODAY)
    Enrolment.objects.filter(pk=enrolment_of(project, "T2").pk).update(state="no_show")
    rows = with_attendance(Enrolment.objects.filter(project=project), today=TODAY)
    listed = set(rows.filter(no_show_filter()).values_list("teacher__staff_no", flat=True))
    assert listed == {"T2", "T3", "T4"}
    assert listed == {e.teacher.staff_no for e in rows.select_related("teacher")
                      if rules.is_no_show(state=e.state, present=e.sessions_present, held=e.sessions_held)}
    # before the first session nobody is a no-show for want of presence
    early = with_attendance(Enrolment.objects.filter(project=project), today=day(-25))
    assert set(early.filter(no_show_filter()).values_list("teacher__staff_no", flat=True)) == {"T2"}


# --- minimum attendance rate for a passing result (result_record, the one writer) ----------------------


def _ten_sessions(project, users, present_at: int, teacher="T1"):
    Session.objects.filter(project=project).delete()
    enrolment = enrolment_of(project, teacher)
    for i in range(10):
        session = Session.objects.create(project=project, held_on=day(-30 + i), title=f"第{i + 1}次")
        attendance_record(session=session, present_ids=[enrolment.pk] if i < present_at else [],
                          actor=users["bureau"], today=TODAY)


@pytest.mark.parametrize("present_at, refused", [(8, False), (7, True)])
def test_result_record_at_and_one_session_below_the_minimum(users, owned, present_at, refused):
    project = owned["B1"]
    project_min_attendance_set(project=project, rate=80, actor=users["principal"])
    project.refresh_from_db()
    _ten_sessions(project, users, present_at)
    teacher = enrolment_of(project, "T1").teacher
    if refused:
        with pytest.raises(ApplicationError, match="出勤率 70% 低于项目要求的 80%"):
            result_record(project=project, teacher=teacher, grade="合格", completed_on=TODAY, certified_hours=None,
                          actor=users["principal"], today=TODAY)
        assert not Result.objects.exists() and not LedgerEntry.objects.exists()
        # a failing grade is never refused
        result_record(project=project, teacher=teacher, grade="不合格", completed_on=TODAY, certified_hours=None,
                      actor=users["principal"], today=TODAY)
    else:
        result_record(project=project, teacher=teacher, grade="优秀", completed_on=TODAY, certified_hours=None,
                      actor=users["principal"], today=TODAY)
        assert LedgerEntry.objects.count() == 1


def test_a_project_without_sessions_is_never_refused(users, owned, city):
    project = make_project("ONLINE", mode="网络研修", min_attendance_rate=90)
    result_record(project=project, teacher=city["teachers"][0], grade="合格", completed_on=TODAY,
                  certified_hours=None, actor=None, today=TODAY)
    assert Result.objects.get().grade == "合格"


def test_an_unchanged_result_is_not_checked_again(users, owned):
    project = owned["B1"]
    teacher = enrolment_of(project, "T1").teacher
    result_record(project=project, teacher=teacher, grade="合格", completed_on=TODAY, certified_hours=None,
                  actor=users["principal"], today=TODAY)
    project_min_attendance_set(project=project, rate=50, actor=users["principal"])
    project.refresh_from_db()
    _, changed = result_record(project=project, teacher=teacher, grade="合格", completed_on=TODAY,
                               certified_hours=None, actor=users["principal"], today=TODAY)
    assert not changed
    with pytest.raises(ApplicationError, match="出勤率 0% 低于"):
        result_record(project=project, teacher=teacher, grade="优秀", completed_on=TODAY, certified_hours=None,
                      actor=users["principal"], today=TODAY)


@pytest.mark.parametrize("rate", [-1, 101])
def test_minimum_rate_is_a_percentage(users, owned, rate):
    with pytest.raises(ApplicationError, match="0 到 100"):
        project_min_attendance_set(project=owned["B1"], rate=rate, actor=users["principal"])


def test_only_the_organiser_sets_the_minimum(users, owned):
    with pytest.raises(ApplicationError, match="主办单位"):
        project_min_attendance_set(project=owned["B1"], rate=80, actor=users["district"])
    project_min_attendance_set(project=owned["B1"], rate=80, actor=users["principal"])
    assert AuditEntry.objects.filter(action="training.project.min_attendance_set").count() == 1
    assert owned["B1"].history.first().min_attendance_rate == 80


def test_the_database_keeps_the_minimum_a_percentage(owned):
    from training.models import Project

    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=owned["B1"].pk).update(min_attendance_rate=101)

