"""Sessions and attendance (考勤, SPEC §3): the one writer of Session and Attendance rows, and the reads
behind the attendance rate per enrolment and the no-show list.

An attendance row always belongs to a session of its enrolment's own project: this module refuses
anything else, `Attendance.clean` says the same to forms, and database triggers (migration
0010_tr15att_attendance) refuse it from any other path. Only the project's organiser
(training.organisers) writes here; attendance is taken for sessions already held.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from bureau.services import ApplicationError, audit

from . import rules
from .models import Attendance, Enrolment, EnrolmentState, Project, Session
from .organisers import may_organise


def _guard(actor, project: Project) -> None:
    if not may_organise(actor, project):
        raise ApplicationError("只有该项目的主办单位可以管理场次和考勤。")


@transaction.atomic
def session_add(*, project: Project, held_on: dt.date, title: str, actor) -> Session:
    """A session (培训场次) of a project, on a day within the project's dates."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    _guard(actor, project)
    title = (title or "").strip()
    if not project.start_on <= held_on <= project.end_on:
        raise ApplicationError(
            f"场次日期应在培训时间内（{project.start_on:%Y-%m-%d} 至 {project.end_on:%Y-%m-%d}）。")
    if Session.objects.filter(project=project, held_on=held_on, title=title).exists():
        raise ApplicationError(f"{held_on:%Y-%m-%d} 已有同名场次。")
    session = Session(project=project, held_on=held_on, title=title)
    session.full_clean()
    session.save()
    audit(action="training.session.added", actor=actor, obj=session, project=project.code,
          held_on=held_on.isoformat(), title=title)
    return session


@transaction.atomic
def session_remove(*, session: Session, actor) -> int:
    """Remove a session added by mistake; its attendance rows go with it (their count is audited).
    Returns that count."""
    project = Project.objects.select_for_update().get(pk=session.project_id)
    _guard(actor, project)
    session = Session.objects.select_for_update().get(pk=session.pk)
    marks = list(session.attendance.values_list("enrolment_id", "present"))
    audit(action="training.session.removed", actor=actor, obj=session, project=project.code,
          held_on=session.held_on.isoformat(), title=session.title, attendance_rows=len(marks),
          present=sum(1 for _, present in marks if present))
    session.delete()
    return len(marks)


@transaction.atomic
def project_min_attendance_set(*, project: Project, rate: int | None, actor) -> Project:
    """The project's minimum attendance rate (percent) for a passing result; None = no minimum."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    _guard(actor, project)
    if rate is not None and not 0 <= rate <= 100:
        raise ApplicationError("最低出勤率应为 0 到 100 之间的整数（百分比）。")
    if project.min_attendance_rate != rate:
        previous, project.min_attendance_rate = project.min_attendance_rate, rate
        project._history_user = actor
        project.save(update_fields=["min_attendance_rate", "updated_at"])
        audit(action="training.project.min_attendance_set", actor=actor, obj=project, previous=previous, rate=rate)
    return project


def roster(project_id: int) -> QuerySet[Enrolment]:
    """The enrolments attendance is taken for: admitted (录取, 参训中, 已结业)."""
    return Enrolment.objects.filter(project_id=project_id, state__in=rules.ATTENDANCE_STATES)


@dataclass
class Marked:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated


def _mark(session: Session, marks: dict[int, bool], actor, today: dt.date) -> Marked:
    """Write present/absent for some enrolments of a session, in the caller's transaction and lock."""
    _guard(actor, session.project)
    if session.held_on > today:
        raise ApplicationError(f"{session.held_on:%Y-%m-%d} 的场次尚未举行，不能登记考勤。")
    admitted = dict(roster(session.project_id).filter(pk__in=marks).values_list("pk", "state"))
    outside = set(marks) - set(admitted)
    if outside:
        # An enrolment of another project, or one not admitted: never written (the database refuses the
        # first kind too).
        raise ApplicationError(f"有 {len(outside)} 条报名不属于本项目的参训名单，未登记考勤。")
    existing = {a.enrolment_id: a for a in Attendance.objects.filter(session=session, enrolment_id__in=marks)}
    result = Marked()
    new, changed = [], []
    for enrolment_id, present in marks.items():
        row = existing.get(enrolment_id)
        if row is None:
            new.append(Attendance(session=session, enrolment_id=enrolment_id, present=present, recorded_by=actor))
        elif row.present != present:
            row.present, row.recorded_by = present, actor
            changed.append(row)
        else:
            result.unchanged += 1
    Attendance.objects.bulk_create(new)
    for row in changed:
        row.save(update_fields=["present", "recorded_by", "updated_at"])
    result.created, result.updated = len(new), len(changed)
    if result.changed:
        audit(action="training.attendance.recorded", actor=actor, obj=session, project=session.project.code,
              held_on=session.held_on.isoformat(), created=result.created, updated=result.updated,
              present=sorted(k for k, v in marks.items() if v), absent=sorted(k for k, v in marks.items() if not v))
    return result


def _locked(session: Session) -> Session:
    return Session.objects.select_for_update().select_related("project").get(pk=session.pk)


@transaction.atomic
def attendance_record(*, session: Session, present_ids, actor, today: dt.date) -> Marked:
    """The organiser's attendance page: the whole roster of the session at once, `present_ids` present and
    everyone else on the roster absent. Saving the same list again changes nothing."""
    session = _locked(session)
    present = {int(pk) for pk in present_ids}
    everyone = set(roster(session.project_id).values_list("pk", flat=True))
    if present - everyone:
        raise ApplicationError(f"有 {len(present - everyone)} 条报名不属于本项目的参训名单，未登记考勤。")
    return _mark(session, {pk: pk in present for pk in everyone}, actor, today)


@transaction.atomic
def attendance_mark(*, session: Session, marks: dict[int, bool], actor, today: dt.date) -> Marked:
    """Present/absent for the listed enrolments only (the attendance import: a file may hold part of a
    roster)."""
    return _mark(_locked(session), marks, actor, today)


# --- reads -------------------------------------------------------------------------------------------

def with_attendance(enrolments: QuerySet[Enrolment], *, today: dt.date) -> QuerySet[Enrolment]:
    """Annotate `sessions_held` (sessions of the enrolment's project held on or before `today`) and
    `sessions_present` (of those, the ones it was marked present at). Two subqueries, any number of rows."""
    held = (
        Session.objects.filter(project_id=OuterRef("project_id"), held_on__lte=today)
        .values("project_id").annotate(n=Count("pk")).values("n")
    )
    present = (
        Attendance.objects.filter(enrolment_id=OuterRef("pk"), present=True, session__held_on__lte=today,
                                  session__project_id=F("enrolment__project_id"))
        .values("enrolment_id").annotate(n=Count("pk")).values("n")
    )
    return enrolments.annotate(
        sessions_held=Coalesce(Subquery(held, output_field=IntegerField()), 0),
        sessions_present=Coalesce(Subquery(present, output_field=IntegerField()), 0),
    )


def attendance_counts(*, enrolment_id: int | None, project_id: int, today: dt.date) -> tuple[int, int]:
    """(present, held) for one enrolment (None: a teacher not enrolled yet, present at nothing)."""
    held = Session.objects.filter(project_id=project_id, held_on__lte=today).count()
    if enrolment_id is None or not held:
        return 0, held
    present = Attendance.objects.filter(enrolment_id=enrolment_id, present=True, session__project_id=project_id,
                                        session__held_on__lte=today).count()
    return present, held


def no_show_filter() -> Q:
    """For `with_attendance` rows: the no-show list (rules.is_no_show, in the database)."""
    return Q(state=EnrolmentState.NO_SHOW) | Q(
        state__in=rules.ATTENDANCE_STATES, sessions_held__gt=0, sessions_present=0)
