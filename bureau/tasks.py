"""Housekeeping tasks of the bureau part."""

import datetime as dt
import logging

from celery import shared_task
from django.core.files.storage import default_storage
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
