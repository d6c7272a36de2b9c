"""Daily roster jobs (BB-4, BB-5): thin, idempotent, safe to run twice."""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from . import roster

RETRY = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


@shared_task(bind=True, **RETRY)
def expiry_notices(self) -> int:
    return roster.expiry_notices(today=timezone.localdate())


@shared_task(bind=True, **RETRY)
def lapse_expired(self) -> int:
    return roster.lapse_expired(today=timezone.localdate())


@shared_task(bind=True, **RETRY)
def allowances_follow_school(self) -> int:
    return roster.allowances_follow_school()
