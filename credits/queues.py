"""What waits for a principal's decision (issue 17 item 3), counted on the school dashboard with a link
to the page where it is decided: 报名审核 (training registers it: credits may not import training),
学时审核 and 学时认定.

The counts are part of the cached dashboard page (bureau.pages): an enrolment already bumps the school's
figures version (training.caching); an hours submission or a claim bumps `school_queue_version_key`
(credits.caching), so a decision shows on the next view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from .models import Claim, ClaimState, HoursSubmission, SubmissionState


@dataclass(frozen=True)
class Queue:
    order: int
    label: str
    url_name: str
    count: Callable[[int], int]  # school id -> rows waiting for the school's principal


_QUEUES: dict[str, Queue] = {}


def register_queue(queue: Queue) -> None:
    _QUEUES[queue.url_name] = queue


def school_queue_version_key(school_id: int | None) -> str | None:
    return f"credits.school_queue.v.{school_id}" if school_id is not None else None


def waiting_for_principal(school_id: int) -> list[dict]:
    """[{label, count, url}] in menu order, one count query per queue."""
    return [{"label": q.label, "count": q.count(school_id), "url": reverse(q.url_name)}
            for q in sorted(_QUEUES.values(), key=lambda q: q.order)]


def _hours(school_id: int) -> int:
    return HoursSubmission.objects.filter(teacher__school_id=school_id, state=SubmissionState.SUBMITTED).count()


def _claims(school_id: int) -> int:
    return Claim.objects.filter(school_id=school_id, state=ClaimState.SCHOOL_REVIEW).count()


def register_all() -> None:
    register_queue(Queue(20, "学时审核", "credits:school-hours", _hours))
    register_queue(Queue(30, "学时认定", "claims:school", _claims))
