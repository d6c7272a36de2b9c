"""Celery application. Broker from CELERY_BROKER_URL; with none, tasks run in-process (eager)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("bureau")  # the app's name; task names come from their modules (credits.tasks.…)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
