"""Celery tasks of the training part: thin, idempotent, safe to retry."""

from celery import shared_task
from django.db import OperationalError

from credits.services import result_post

from .certificates import certificate_sync


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def repost_result(self, result_id: int) -> int:
    """A project's hours or credits changed: the result's ledger row and its certificate follow (CR-2)."""
    posted = result_post(result_id=result_id, actor=None)
    certificate_sync(result_id=result_id)
    return len(posted)
