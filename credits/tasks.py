"""Celery tasks of the credits part: thin, idempotent, safe to retry (REL-1)."""

from celery import shared_task
from django.db import OperationalError

from .services import result_post


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def post_result(self, result_id: int) -> int:
    """Bring the ledger in line with one result (CR-1/CR-2). Running it twice, or in two workers at the
    same moment, posts once: the service locks the result and the ledger's unique revision backs it up."""
    return len(result_post(result_id=result_id, actor=None))
