"""Housekeeping tasks of the bureau part."""

import datetime as dt
import logging

from celery import shared_task
from django.core.files.storage import default_storage
from django.db import OperationalError
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task
def purge_stale_uploads(max_age_hours: int = 24) -> int:
    """Uploaded spreadsheets previewed but never confirmed are removed after a day (through the storage
    API, so it works on a shared object store too). Idempotent."""
    cutoff = timezone.now() - dt.timedelta(hours=max_age_hours)
    removed = 0
    if not default_storage.exists("imports"):
        return 0
    users, _ = default_storage.listdir("imports")
    for user in users:
        _, files = default_storage.listdir(f"imports/{user}")
        for name in files:
            path = f"imports/{user}/{name}"
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                removed += 1
    logger.info("purged %d stale uploads", removed)
    return removed


RETRY = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "retry_jitter": True,
         "max_retries": 5}


@shared_task(bind=True, **RETRY)
def run_export(self, job_id: int) -> int:
    """Build one export job (bureau.exports); a finished or failed job is left as it is."""
    from .exports import export_run

    return export_run(job_id=job_id).pk


@shared_task
def sweep_exports() -> int:
    """Every few minutes: export jobs whose worker died are queued again (REL-1)."""
    from .exports import exports_sweep

    return len(exports_sweep(now=timezone.now(), queue=run_export.delay))


@shared_task
def purge_old_exports() -> int:
    """Daily: finished exports older than a week are removed with their files."""
    from .exports import exports_purge

    return exports_purge(now=timezone.now())
