"""Background exports in tests (issue 18 item 3): offer page, start, run (eager Celery on commit), download."""

from __future__ import annotations

from django.test import TestCase
from django.urls import reverse

from bureau.models import ExportJob


def start_export(client, url: str) -> ExportJob:
    """GET shows the offer, POST starts the job; its task runs on commit (CELERY_TASK_ALWAYS_EAGER)."""
    offer = client.get(url)
    assert offer.status_code == 200, offer.status_code
    assert "开始生成" in offer.content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302, response.status_code
    job = ExportJob.objects.latest("pk")
    assert response["Location"] == reverse("export-detail", args=[job.pk])
    job.refresh_from_db()
    return job


def export_content(client, url: str) -> bytes:
    """The workbook a user gets through the job: started, finished (100), downloaded."""
    job = start_export(client, url)
    assert job.status == "done" and job.progress == 100, (job.status, job.error)
    download = client.get(reverse("export-download", args=[job.pk]))
    assert download.status_code == 200
    return b"".join(download.streaming_content)
