"""Exports as background files (issue 18 item 3): the generic job, its pages, permissions per role, the
sweeper, and the certificate register through the job (the other kinds: tests/credits/test_dashboards.py,
tests/credits/test_amendments.py, tests/backbone/test_roster_export.py, tests/test_sec6_workbooks.py)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal as D

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from bureau import exports
from bureau.choices import Role
from bureau.exports import MAX_ATTEMPTS, STALE_AFTER, export_run, export_start, exports_sweep
from bureau.models import ExportJob
from bureau.services import ApplicationError, user_assign_role
from bureau.spreadsheets import SheetSpec, write_workbook
from credits.services import ledger_adjust
from tests.export_helpers import export_content, start_export
from training.models import Project
from training.services import result_record

YEAR = 2026
ROLES = ["bureau", "district", "auditor", "principal", "teacher"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def test_kind():
    """A kind of this test module: rows of one column, with a hook to fail or to look at the bar."""
    seen = {}

    def build(job, target, progress):
        if job.params.get("fail"):
            raise RuntimeError("boom")
        total = int(job.params.get("rows", 10))
        fractions = []

        def moved(written):
            progress(written / total)
            fractions.append(ExportJob.objects.get(pk=job.pk).progress)

        write_workbook(target, [SheetSpec("数据", ["编号"], ([n] for n in range(total)))], progress=moved,
                       progress_every=max(1, total // 4))
        seen["progress"] = fractions
        return total

    exports.register("test", label="测试", roles=(Role.BUREAU, Role.DISTRICT), build=build)
    yield seen
    exports._REGISTRY.pop("test", None)


def _client(client, user):
    client.force_login(user)
    return client


# --- the job ------------------------------------------------------------------------------------------

def test_a_job_moves_its_bar_reaches_100_and_stores_the_file(users, test_kind):
    job = export_start(kind="test", user=users["bureau"], params={"rows": 400}, title="测试", filename="t.xlsx")
    assert (job.status, job.progress, job.scope) == ("running", 0, {"role": "bureau", "district_id": None,
                                                                     "school_id": None})
    job = export_run(job_id=job.pk)
    assert test_kind["progress"] == [25, 50, 75, 99]  # the bar moved while the rows streamed
    job.refresh_from_db()
    assert (job.status, job.progress, job.rows, job.error) == ("done", 100, 400, "")
    assert job.finished_at is not None and job.file.name.startswith(f"exports/{users['bureau'].pk}/")
    rows = list(load_workbook(job.file.open("rb"))["数据"].iter_rows(values_only=True))
    assert rows[0] == ("编号",) and len(rows) == 401
    # Running it again changes nothing.
    assert export_run(job_id=job.pk).finished_at == job.finished_at


def test_a_failed_job_is_marked_failed_with_a_chinese_message(users, test_kind):
    job = export_start(kind="test", user=users["bureau"], params={"fail": True}, title="测试", filename="t.xlsx")
    with pytest.raises(RuntimeError):
        export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "RuntimeError" in job.error and "重新发起" in job.error
    assert not job.file
    assert export_run(job_id=job.pk).status == "failed"  # a retry leaves a failed job alone


def test_the_builder_checks_the_scope_again(users, city, test_kind):
    user = users["district"]
    job = export_start(kind="test", user=user, params={}, title="测试", filename="t.xlsx")
    assert job.scope == {"role": "district", "district_id": city["districts"][0].pk, "school_id": None}
    user_assign_role(user=user, role=Role.DISTRICT, actor=users["superuser"], district=city["districts"][1])
    job = export_run(job_id=job.pk)
    assert job.status == "failed" and "权限范围已变化" in job.error and not job.file


def test_a_role_that_the_kind_does_not_offer_cannot_start_it(users, test_kind):
    for role in ("auditor", "principal", "teacher"):
        with pytest.raises(ApplicationError):
            export_start(kind="test", user=users[role], params={}, title="测试", filename="t.xlsx")
    with pytest.raises(ApplicationError):
        export_start(kind="no-such-kind", user=users["bureau"], params={}, title="测试", filename="t.xlsx")


def test_the_sweeper_queues_a_stopped_job_once_and_gives_up_after_the_attempts(users, test_kind):
    now = timezone.now()
    job = export_start(kind="test", user=users["bureau"], params={}, title="测试", filename="t.xlsx")
    fresh = export_start(kind="test", user=users["bureau"], params={}, title="测试", filename="t.xlsx")
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=now - STALE_AFTER - dt.timedelta(seconds=1))
    ExportJob.objects.filter(pk=fresh.pk).update(heartbeat_at=now - STALE_AFTER + dt.timedelta(seconds=5))
    queued = []
    assert exports_sweep(now=now, queue=queued.append) == [job.pk]
    assert queued == [job.pk]
    assert exports_sweep(now=now, queue=queued.append) == []  # its heartbeat moved: not queued twice
    export_run(job_id=queued[0])  # what the queued task does
    assert ExportJob.objects.get(pk=job.pk).status == "done"
    # A job whose worker died MAX_ATTEMPTS times is marked failed.
    ExportJob.objects.filter(pk=fresh.pk).update(heartbeat_at=now - STALE_AFTER * 2, attempts=MAX_ATTEMPTS)
    assert exports_sweep(now=now, queue=queued.append) == []
    fresh.refresh_from_db()
    assert fresh.status == "failed" and "多次中断" in fresh.error


def test_the_sweeper_task_is_scheduled(db):
    import importlib

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    from bureau.tasks import purge_old_exports, sweep_exports

    migration = importlib.import_module("bureau.migrations.0008_exportjob")
    PeriodicTask.objects.filter(name__in=[migration.SWEEP, migration.PURGE]).delete()  # a flushed test database has lost it
    migration.schedule_sweep(apps, None)
    task = PeriodicTask.objects.get(name=migration.SWEEP)
    assert task.task == sweep_exports.name == "bureau.tasks.sweep_exports" and task.interval.every == 5
    assert PeriodicTask.objects.get(name=migration.PURGE).task == purge_old_exports.name


def test_finished_exports_are_purged_with_their_files_after_a_week(users, test_kind):
    from django.core.files.storage import default_storage

    old, recent = (export_run(job_id=export_start(kind="test", user=users["bureau"], params={}, title="测试",
                                                  filename="t.xlsx").pk) for _ in range(2))
    now = timezone.now()
    ExportJob.objects.filter(pk=old.pk).update(finished_at=now - exports.KEEP_FOR - dt.timedelta(seconds=1))
    ExportJob.objects.filter(pk=recent.pk).update(finished_at=now - exports.KEEP_FOR + dt.timedelta(minutes=1))
    assert default_storage.exists(old.file.name)
    assert exports.exports_purge(now=now) == 1
    assert not default_storage.exists(old.file.name) and default_storage.exists(recent.file.name)
    assert list(ExportJob.objects.values_list("pk", flat=True)) == [recent.pk]


# --- pages and permissions ------------------------------------------------------------------------------

@pytest.mark.parametrize("role, status", [("bureau", 200), ("district", 200), ("auditor", 200), ("principal", 200),
                                          ("teacher", 403)])
def test_the_exports_page_per_role(client, users, role, status, test_kind, django_assert_max_num_queries):
    if role in ("bureau", "district"):
        job = export_start(kind="test", user=users[role], params={}, title="我的测试导出", filename="t.xlsx")
        export_run(job_id=job.pk)
    _client(client, users[role])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("exports"))
    assert response.status_code == status
    if role in ("bureau", "district"):
        html = response.content.decode()
        assert "我的测试导出" in html and reverse("export-download", args=[job.pk]) in html


def test_anonymous_users_go_to_log_in(client, users, test_kind):
    job = export_start(kind="test", user=users["bureau"], params={}, title="测试", filename="t.xlsx")
    for url in (reverse("exports"), reverse("export-detail", args=[job.pk]), reverse("export-progress", args=[job.pk]),
                reverse("export-download", args=[job.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_only_the_user_who_asked_and_bureau_staff_download(client, users, test_kind):
    job = export_start(kind="test", user=users["district"], params={}, title="测试", filename="mine.xlsx")
    export_run(job_id=job.pk)
    download = reverse("export-download", args=[job.pk])
    for role, status in [("district", 200), ("bureau", 200), ("superuser", 200), ("auditor", 404),
                         ("principal", 404), ("teacher", 403)]:
        response = _client(client, users[role]).get(download)
        assert response.status_code == status, role
        if status == 200:
            assert "mine.xlsx" in response["Content-Disposition"]
            assert load_workbook(io.BytesIO(b"".join(response.streaming_content)))["数据"]
    # Nor its progress.
    assert _client(client, users["auditor"]).get(reverse("export-progress", args=[job.pk])).status_code == 404


def test_progress_json_and_detail_page(client, users, test_kind):
    job = export_start(kind="test", user=users["bureau"], params={}, title="进度测试", filename="t.xlsx")
    _client(client, users["bureau"])
    assert client.get(reverse("export-progress", args=[job.pk])).json() == {"status": "running", "progress": 0,
                                                                            "error": ""}
    page = client.get(reverse("export-detail", args=[job.pk])).content.decode()
    assert "进度测试" in page and "report_progress.js" in page and 'data-status="running"' in page
    export_run(job_id=job.pk)
    assert client.get(reverse("export-progress", args=[job.pk])).json()["progress"] == 100


# Who may start each kind: the roles whose page offers it today. A principal's compliance workbook, ledger
# and roster stay in the request (a school's); a teacher has none.
def _urls():
    return {
        "compliance": reverse("credits:compliance-xlsx") + f"?year={YEAR}",
        "ledger": reverse("credits:ledger-xlsx") + f"?year={YEAR}",
        "certificates": reverse("certificate-register"),
        "roster": reverse("backbone:roster") + "?format=xlsx",
    }


OFFERS = {  # role -> kinds offered as a background job (others: 403, or built in the request)
    "bureau": {"compliance", "ledger", "certificates", "roster"},
    "district": {"compliance", "ledger", "roster"},
    "auditor": {"compliance", "ledger", "certificates", "roster"},
    "principal": set(),
    "teacher": set(),
}


@pytest.mark.parametrize("role", ROLES)
def test_which_role_gets_which_background_export(client, users, role):
    _client(client, users[role])
    for kind, url in _urls().items():
        response = client.get(url)
        if kind in OFFERS[role]:
            assert response.status_code == 200 and "开始生成" in response.content.decode(), (role, kind)
            with TestCase.captureOnCommitCallbacks(execute=True):
                assert client.post(url).status_code == 302
            job = ExportJob.objects.filter(created_by=users[role]).latest("pk")
            assert (job.kind, job.status, job.progress) == (kind, "done", 100), (role, kind, job.error)
        elif role == "principal" and kind in ("compliance", "ledger", "roster"):
            assert response.status_code == 200 and response["Content-Type"].endswith("sheet"), kind  # in the request
        else:
            assert response.status_code == 403, (role, kind)
            assert client.post(url).status_code == 403
    assert not ExportJob.objects.filter(created_by=users[role]).exclude(kind__in=OFFERS[role]).exists()


def test_a_staff_ledger_of_one_school_stays_in_the_request(client, users):
    response = _client(client, users["auditor"]).get(reverse("credits:ledger-xlsx") + f"?year={YEAR}&school=S1")
    assert response.status_code == 200 and response["Content-Type"].endswith("sheet")
    assert not ExportJob.objects.exists()


def test_the_reports_page_lists_my_exports(client, users):
    _client(client, users["auditor"])
    job = start_export(client, reverse("credits:ledger-xlsx") + f"?year={YEAR}")
    html = client.get(reverse("credits:reports")).content.decode()
    assert "我的导出文件" in html and reverse("export-download", args=[job.pk]) in html
    assert reverse("certificate-register") in html


def test_the_certificate_register_through_the_job(client, users, city):
    project = Project.objects.create(
        code="P1", name="市级研修", level="市培", mode="集中面授", kind="必修", theme="师德", hours=D("20"),
        credits=D("20"), start_on=dt.date(YEAR, 3, 1), end_on=dt.date(YEAR, 3, 3), organiser="市教育局")
    result_record(project=project, teacher=city["teachers"][0], grade="合格", completed_on=dt.date(YEAR, 3, 3),
                  certified_hours=None, actor=None)
    content = export_content(_client(client, users["auditor"]), reverse("certificate-register") + f"?year={YEAR}")
    rows = list(load_workbook(io.BytesIO(content))["证书"].iter_rows(values_only=True))
    assert rows[0][0] == "证书编号" and [r[2] for r in rows[1:]] == ["T1"]
    assert ExportJob.objects.get().rows == 1


def test_the_city_ledger_through_the_job_moves_the_bar(client, users, city):
    for day in range(1, 11):
        ledger_adjust(teacher_id=city["teachers"][1].pk, entry_date=dt.date(YEAR, 4, day), hours=D(1), credits=D(1),
                      reason="补录", actor=users["bureau"])
    job = start_export(_client(client, users["bureau"]), reverse("credits:ledger-xlsx") + f"?year={YEAR}")
    assert (job.status, job.progress, job.rows, job.filename) == ("done", 100, 10, f"ledger-{YEAR}.xlsx")


def test_a_kinds_may_see_hides_a_job_from_its_lists_and_pages(client, users):
    """register(..., may_see=): asked on top of the owner/bureau rule (the province report with full
    身份证号 uses it, tests/province/test_pages.py)."""
    exports.register("hidden-test", label="测试", roles=(Role.BUREAU,), build=lambda job, target, progress: 0,
                     may_see=lambda user, job: not job.params.get("secret") or user.is_superuser)
    try:
        secret = export_start(kind="hidden-test", user=users["bureau"], params={"secret": True}, title="测试",
                              filename="t.xlsx")
        plain = export_start(kind="hidden-test", user=users["bureau"], params={}, title="测试", filename="t.xlsx")
        assert list(exports.jobs_of(users["bureau"])) == [plain]
        assert exports.visible_job(users["bureau"], secret.pk) is None
        assert exports.visible_job(users["bureau"], plain.pk) == plain
        assert exports.visible_job(users["superuser"], secret.pk) == secret
        _client(client, users["bureau"])
        assert client.get(reverse("export-detail", args=[secret.pk])).status_code == 404
        assert client.get(reverse("export-detail", args=[plain.pk])).status_code == 200
    finally:
        exports._REGISTRY.pop("hidden-test", None)
