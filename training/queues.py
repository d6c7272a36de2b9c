"""The principal's 报名审核 count on the school dashboard (credits.queues): enrolments of the school's
teachers waiting for the school's decision. An enrolment's save bumps the school's figures version
(training.caching), which the cached dashboard page is stamped with."""

from __future__ import annotations

from credits.queues import Queue, register_queue

from .models import Enrolment, EnrolmentState


def _enrolments(school_id: int) -> int:
    return Enrolment.objects.filter(teacher__school_id=school_id, state=EnrolmentState.APPLIED).count()


def register_all() -> None:
    register_queue(Queue(10, "报名审核", "training:school-enrolments", _enrolments))
