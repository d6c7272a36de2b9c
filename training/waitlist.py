"""候补 (waiting list, issue 15): a teacher who finds a project full may wait instead of being refused.

- A waiting enrolment (state 候补中) holds no seat. Waiting teachers are served oldest first.
- When a seat frees while the project is 报名中 (a withdrawal, a rejection, a share raised or released,
  the capacity raised), the first *eligible* waiting teacher is moved to 已报名 inside the lock the freeing
  transaction already holds on the project row, and told so; from there the usual chain follows
  (school, then organiser). Eligible = still in service (在职), still in the project's audience, and
  within the unit's share where shares apply. An ineligible waiter is skipped and keeps waiting.
- A daily job (training.tasks.promote_waiting) covers what no transaction triggers: a share release date
  passing.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from bureau.choices import Status
from bureau.services import audit, event_record

from . import rules
from .enrolment_notices import acknowledge, tell_next
from .models import Enrolment, EnrolmentEvent, EnrolmentState, Project, ProjectStatus
from .selectors import project_audience, seats_taken
from .shares import share_miss


def eligibility_miss(*, project: Project, teacher, today: dt.date,
                     audience: rules.Audience | None = None) -> str | None:
    """Why a waiting teacher cannot take a freed seat now (Chinese), or None."""
    if teacher.status != Status.ACTIVE:
        return "只有在职教师可以报名。"
    miss = rules.audience_miss(audience or project_audience(project), stage=teacher.school.stage, subject=teacher.subject,
                               title=teacher.title, district_id=teacher.school.district_id)
    if miss:
        return miss
    return share_miss(project=project, teacher=teacher, today=today)


def waitlist_promote(*, project: Project, today: dt.date | None = None) -> list[Enrolment]:
    """Fill the project's free seats from its waiting list, oldest eligible first.

    The caller holds the project row (`select_for_update`) in its transaction: seats are counted and
    filled under that lock, so a freed seat goes to one waiting teacher only, and a concurrent applicant
    finds it taken. Returns the promoted enrolments."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("waitlist_promote must run inside the transaction that holds the project row")
    if project.status != ProjectStatus.ENROLLING:
        return []
    today = today or timezone.localdate()
    free = None if project.capacity is None else project.capacity - seats_taken(project.pk)
    if free is not None and free <= 0:
        return []
    waiting = (
        Enrolment.objects.select_for_update(of=("self",))
        .filter(project=project, state=EnrolmentState.WAITLISTED)
        .select_related("teacher__school", "teacher__user")
        .order_by("created_at", "pk")
    )
    promoted, audience = [], project_audience(project)
    for enrolment in waiting:
        if free is not None and free <= 0:
            break
        enrolment.project = project
        if eligibility_miss(project=project, teacher=enrolment.teacher, today=today, audience=audience):
            continue
        step = rules.TRANSITIONS["promote"]
        event_record(EnrolmentEvent, obj=enrolment, action="promote", from_state=enrolment.state,
                     to_state=step.to_state, actor=None, reason="名额空出，按候补顺序递补")
        enrolment.state = step.to_state
        enrolment.save(update_fields=["state", "updated_at"])
        audit(action="training.enrolment.promote", actor=None, obj=enrolment)
        acknowledge(enrolment, "promote")
        tell_next(enrolment, "promote", actor=None)
        promoted.append(enrolment)
        if free is not None:
            free -= 1
    return promoted


def waitlist_sweep(*, today: dt.date | None = None) -> int:
    """The daily job: every enrolling project with waiting teachers fills what seats it has (a share
    release date passed, a capacity raised elsewhere). One transaction per project, its row locked."""
    promoted = 0
    ids = (Enrolment.objects.filter(state=EnrolmentState.WAITLISTED, project__status=ProjectStatus.ENROLLING)
           .values_list("project_id", flat=True).distinct())
    for project_id in sorted(set(ids)):
        with transaction.atomic():
            project = Project.objects.select_for_update().get(pk=project_id)
            promoted += len(waitlist_promote(project=project, today=today))
    return promoted
