"""Exports as background files (issue 18 item 3): every workbook larger than a school's is built by one
Celery task into Django's storage, with a progress bar, and downloaded by the user who asked for it.

bureau does not import the apps above it: each app registers a builder for its kinds (`register`, called
from the app's AppConfig.ready through the app's exports module). A job records the user's scope when it
is asked for; before building, the scope and the role are checked again, so a user whose role or school
changed in between gets no file (docs/decisions.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .choices import Role
from .models import ExportJob, ExportStatus
from .scoping import profile_of, role_of
from .services import ApplicationError, audit

logger = logging.getLogger(__name__)

# A running job with no progress for this long was left by a worker that died (REL-1).
STALE_AFTER = dt.timedelta(minutes=15)
# A job whose worker died this many times is marked failed instead of being queued again.
MAX_ATTEMPTS = 3
# A finished or failed job, and its file, are removed after this long (the file can be asked for again).
KEEP_FOR = dt.timedelta(days=7)
# The progress row is written at most this often (and whenever the percentage moves by one).
PROGRESS_EVERY_SECONDS = 2.0


class ExportRefused(Exception):
    """The job may not be built (the user's scope changed); the message is Chinese, shown on the page."""


@dataclass(frozen=True)
class ExportKind:
    kind: str
    label: str  # Chinese, shown in the list
    roles: tuple[str, ...]  # who may start it: the roles whose page offers it
    # build(job, target, progress) writes the workbook into the binary file `target` and returns its rows;
    # progress(fraction) moves the bar (0..1).
    build: Callable[[ExportJob, object, Callable[[float], None]], int]
    # may_see(user, job): a further condition on seeing and downloading a job of this kind, asked on top of
    # visible_job's (the province report with full 身份证号: only who may see them, SEC-3). None: no condition.
    may_see: Callable[[object, ExportJob], bool] | None = None


_REGISTRY: dict[str, ExportKind] = {}


def register(kind: str, *, label: str, roles, build, may_see=None) -> None:
    _REGISTRY[kind] = ExportKind(kind, label, tuple(roles), build, may_see)


def kind_of(kind: str) -> ExportKind:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise ApplicationError("未知的导出类型。") from None


def registered() -> dict[str, ExportKind]:
    return dict(_REGISTRY)


def scope_of(user) -> dict:
    """What the user sees, as data: role, district, school (the recorded scope of a job)."""
    role = role_of(user)
    profile = profile_of(user)
    return {"role": role,
            "district_id": profile.district_id if profile and role == Role.DISTRICT else None,
            "school_id": profile.school_id if profile and role == Role.PRINCIPAL else None}


def export_start(*, kind: str, user, params: dict, title: str, filename: str) -> ExportJob:
    """Register a job; the caller queues it on commit (`queue_on_commit`)."""
    spec = kind_of(kind)
    if role_of(user) not in spec.roles:
        raise ApplicationError("您的角色不能发起该导出。")
    with transaction.atomic():
        job = ExportJob.objects.create(kind=kind, title=title[:200], params=params, scope=scope_of(user),
                                       filename=filename[:200], created_by=user, heartbeat_at=timezone.now())
        audit(action="bureau.export.started", actor=user, obj=job, kind=kind)
    return job


def queue_on_commit(job: ExportJob) -> None:
    from .tasks import run_export

    transaction.on_commit(lambda: run_export.delay(job.pk))


def check_scope(job: ExportJob) -> None:
    """The builder's re-check: the user may still start this kind, with the scope recorded at request time."""
    user = job.created_by
    spec = kind_of(job.kind)
    if role_of(user) not in spec.roles or scope_of(user) != job.scope:
        raise ExportRefused("发起人的角色或权限范围已变化，未生成文件，请重新发起导出。")


class _Progress:
    """Moves the job's bar and heartbeat, at most every PROGRESS_EVERY_SECONDS or per whole percent."""

    def __init__(self, job_id: int):
        self.job_id, self.last_percent, self.last_time = job_id, -1, 0.0

    def __call__(self, fraction: float) -> None:
        percent = max(1, min(99, int(fraction * 100)))
        now = time.monotonic()
        if percent == self.last_percent and now - self.last_time < PROGRESS_EVERY_SECONDS:
            return
        self.last_percent, self.last_time = percent, now
        # Only while running: a duplicate run finishing late must not move a finished job's bar back.
        ExportJob.objects.filter(pk=self.job_id, status=ExportStatus.RUNNING).update(
            progress=percent, heartbeat_at=timezone.now())


def export_run(*, job_id: int) -> ExportJob:
    """Build one job's workbook and store it. A finished or failed job is left as it is (safe to re-run)."""
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status != ExportStatus.RUNNING:
        return job
    ExportJob.objects.filter(pk=job_id).update(attempts=job.attempts + 1, heartbeat_at=timezone.now())
    try:
        check_scope(job)
        progress = _Progress(job.pk)
        progress(0.01)
        with tempfile.TemporaryFile() as handle:
            rows = kind_of(job.kind).build(job, handle, progress)
            handle.seek(0)
            with transaction.atomic():
                job = ExportJob.objects.select_for_update().select_related("created_by").get(pk=job_id)
                if job.status != ExportStatus.RUNNING:  # another worker got there first
                    return job
                job.file.save(f"{job.kind}-{job.pk}.xlsx", File(handle), save=False)
                job.status, job.progress, job.rows, job.finished_at = ExportStatus.DONE, 100, rows, timezone.now()
                job.save()
                audit(action="bureau.export.built", actor=job.created_by, obj=job, kind=job.kind, rows=rows)
    except ExportRefused as exc:
        logger.warning("export %s (%s) refused: scope changed", job_id, job.kind)
        _fail(job_id, str(exc))
        return ExportJob.objects.get(pk=job_id)
    except Exception as exc:
        logger.exception("export %s (%s) failed", job_id, job.kind)
        _fail(job_id, f"生成失败（{type(exc).__name__}），请重新发起。")
        raise
    return job


def _fail(job_id: int, error: str) -> None:
    ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(
        status=ExportStatus.FAILED, error=error[:500], finished_at=timezone.now())


def exports_sweep(*, now: dt.datetime, queue) -> list[int]:
    """Queue again every running job whose build stopped moving (its worker died), claimed with a
    conditional update of its heartbeat so that two sweepers never queue one job twice. A job that has
    died MAX_ATTEMPTS times is marked failed."""
    stale = now - STALE_AFTER
    requeued = []
    candidates = ExportJob.objects.filter(status=ExportStatus.RUNNING).filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, created_at__lt=stale))
    for job_id, heartbeat, attempts in candidates.values_list("pk", "heartbeat_at", "attempts"):
        claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING, heartbeat_at=heartbeat)
        if attempts >= MAX_ATTEMPTS:
            if claimed.update(status=ExportStatus.FAILED, finished_at=now,
                              error="生成多次中断，请重新发起或联系管理员。"):
                logger.warning("export %s stopped %d times: marked failed", job_id, attempts)
            continue
        if claimed.update(heartbeat_at=now):  # else another sweeper got there first
            logger.warning("export %s stopped moving since %s: queued again", job_id, heartbeat)
            audit(action="bureau.export.requeued", actor=None, obj=ExportJob(pk=job_id),
                  stalled_since=heartbeat.isoformat() if heartbeat else None)
            queue(job_id)
            requeued.append(job_id)
    return requeued


def exports_purge(*, now: dt.datetime) -> int:
    """Remove jobs finished more than KEEP_FOR ago, with their files (through the storage API)."""
    removed = 0
    for job in ExportJob.objects.filter(finished_at__lt=now - KEEP_FOR).exclude(status=ExportStatus.RUNNING).iterator():
        if job.file:
            job.file.delete(save=False)
        job.delete()
        removed += 1
    if removed:
        logger.info("purged %d old exports", removed)
    return removed


def jobs_of(user):
    """The user's own jobs, newest first (the 导出文件 page), less those a kind's `may_see` now hides from
    them (a permission taken away since)."""
    jobs = ExportJob.objects.filter(created_by=user)
    hidden = [spec.kind for spec in _REGISTRY.values() if spec.may_see is not None]
    if not hidden:
        return jobs
    refused = [job.pk for job in jobs.filter(kind__in=hidden).only("pk", "kind", "params", "created_by_id")
               if not _REGISTRY[job.kind].may_see(user, job)]
    return jobs.exclude(pk__in=refused) if refused else jobs


def visible_job(user, pk: int) -> ExportJob | None:
    """A job its user, or bureau staff, may see and download, if its kind lets them (`may_see`); None for
    anyone else."""
    job = ExportJob.objects.filter(pk=pk).first()
    if job is None:
        return None
    if job.created_by_id != user.pk and role_of(user) != Role.BUREAU:
        return None
    spec = _REGISTRY.get(job.kind)
    if spec is not None and spec.may_see is not None and not spec.may_see(user, job):
        return None
    return job


def counted(rows, total: int, progress: Callable[[float], None] | None, *, start: float = 0.0, span: float = 1.0,
            every: int = 2000):
    """Pass rows through, moving the bar every `every` rows (total: the expected count, one COUNT)."""
    if progress is None or total <= 0:
        yield from rows
        return
    for number, row in enumerate(rows, start=1):
        if number % every == 0:
            progress(start + span * min(1.0, number / total))
        yield row
