"""Celery tasks of the training part: thin, idempotent, safe to retry."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import OperationalError

from bureau.services import system_user

from .certificates import certificate_sync
from .reminders import reminders_send
from .services import result_post, results_repost_many
from .waitlist import waitlist_sweep


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def repost_result(self, result_id: int, actor_id: int | None = None) -> int:
    """A project's hours or credits changed: the result's ledger row and its certificate follow (CR-2).
    The rows are written by whoever changed the project (`actor_id`), else by the system account."""
    posted = result_post(result_id=result_id, actor=_actor(actor_id))
    certificate_sync(result_id=result_id)
    return len(posted)


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def repost_results(self, result_ids: list[int], actor_id: int | None = None) -> int:
    """repost_result for a batch of results (PERF-6: queries and cache bumps per batch, not per result);
    idempotent like it: run again, it writes nothing."""
    return results_repost_many(list(result_ids), actor=_actor(actor_id))


def _actor(actor_id: int | None):
    user = get_user_model().objects.filter(pk=actor_id).first() if actor_id is not None else None
    return user or system_user()


# Kept under its first name (credits.tasks.post_result): queued messages and schedules refer to tasks by name.
@shared_task(bind=True, name="credits.tasks.post_result", acks_late=True, autoretry_for=(OperationalError,),
             retry_backoff=True, retry_jitter=True, max_retries=5)
def post_result(self, result_id: int) -> int:
    """Bring the ledger in line with one result (CR-1/CR-2). Running it twice, or in two workers at the
    same moment, posts once: the service locks the result and the ledger's unique revision backs it up."""
    return len(result_post(result_id=result_id, actor=system_user()))


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def remind_starting(self) -> int:
    """Daily: one reminder to each approved trainee of a project starting within the window
    (TRAINING_REMINDER_DAYS); running twice, or in two workers at once, sends each once."""
    return reminders_send()


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def promote_waiting(self) -> int:
    """Daily: waiting lists take the seats no transaction freed (a share release date passed)."""
    return waitlist_sweep()
