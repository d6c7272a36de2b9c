"""Report jobs: build once, annual close frozen (CR-9), failed jobs re-run, flag notices once (CR-7)."""

import datetime as dt
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from bureau.models import Notice
from bureau.services import ApplicationError, user_assign_role
from credits.amendments import amendment_decide
from credits.models import ComplianceReport
from credits.reports import latest_report, notify_flagged_principals, report_build, report_start
from credits.services import ledger_adjust
from tests.factories import SchoolFactory, TeacherFactory, UserFactory

YEAR = 2026


@pytest.fixture
def setup(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bureau = UserFactory(username="clerk")
    user_assign_role(user=bureau, role="bureau", actor=None)
    school = SchoolFactory(code="S1", name="东风小学")
    short = TeacherFactory(school=school, staff_no="A")
    ok = TeacherFactory(school=school, staff_no="B")
    ledger_adjust(teacher_id=ok.pk, entry_date=dt.date(YEAR, 5, 1), hours=D(72), credits=D(72), reason="测试", actor=bureau)
    principal = UserFactory(username="head")
    user_assign_role(user=principal, role="principal", school=school, actor=bureau)
    return {"bureau": bureau, "short": short, "principal": principal, "school": school}


def test_annual_close_is_frozen_while_live_view_moves(setup):
    bureau = setup["bureau"]
    closed = report_build(report_id=report_start(year=YEAR, kind="closed", actor=bureau).pk)
    assert closed.summary["compliant"] == 1 and closed.schools[0]["flagged"] is True
    late = ledger_adjust(teacher_id=setup["short"].pk, entry_date=dt.date(YEAR, 12, 1), hours=D(72), credits=D(72),
                         reason="补录", actor=bureau)
    assert late.state == "pending"  # CR-9 (amended): dated in the closed year, it waits as 补报
    amendment_decide(amendment_id=late.pk, approve=True, reason="", actor=bureau)
    live = report_build(report_id=report_start(year=YEAR, kind="live", actor=bureau).pk)
    closed.refresh_from_db()
    assert (closed.summary["compliant"], live.summary["compliant"]) == (1, 2)
    assert latest_report(YEAR) == closed
    sheet = load_workbook(closed.workbook.open("rb"))["汇总"]
    assert sheet["B4"].value == 1  # 达标人数 in the frozen workbook


def test_a_year_is_closed_once(setup):
    bureau = setup["bureau"]
    report_build(report_id=report_start(year=YEAR, kind="closed", actor=bureau).pk)
    with pytest.raises(ApplicationError, match="已关账"):
        report_start(year=YEAR, kind="closed", actor=bureau)


def test_only_bureau_closes_a_year(setup):
    with pytest.raises(ApplicationError, match="只有市教育局"):
        report_start(year=YEAR, kind="closed", actor=setup["principal"])


def test_a_failed_close_can_be_rerun_to_the_same_result(setup, monkeypatch):
    bureau = setup["bureau"]
    report = report_start(year=YEAR, kind="closed", actor=bureau)
    import credits.reports as module

    def boom(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(module, "write_compliance_workbook", boom)
    with pytest.raises(RuntimeError):
        report_build(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == "failed"
    monkeypatch.undo()
    again = report_start(year=YEAR, kind="closed", actor=bureau)
    assert again.pk == report.pk
    done = report_build(report_id=again.pk)
    assert done.status == "done" and done.summary["subject"] == 2
    assert report_build(report_id=again.pk).finished_at == done.finished_at  # running it again changes nothing
    assert ComplianceReport.objects.count() == 1


def test_flag_notices_reach_the_principal_once(setup):
    report_build(report_id=report_start(year=YEAR, kind="live", actor=None).pk)
    assert notify_flagged_principals(year=YEAR) == 1
    assert notify_flagged_principals(year=YEAR) == 0
    notice = Notice.objects.get()
    assert notice.recipient == setup["principal"] and "东风小学" in notice.title and "50.0%" in notice.body


def test_no_notice_without_a_report(setup):
    assert notify_flagged_principals(year=YEAR) == 0


def test_notice_inbox_shows_own_notices_and_marks_read(client, setup):
    report_build(report_id=report_start(year=YEAR, kind="live", actor=None).pk)
    notify_flagged_principals(year=YEAR)
    client.force_login(setup["bureau"])
    assert "东风小学" not in client.get("/notices/").content.decode()
    notice = Notice.objects.get()
    assert client.post(f"/notices/{notice.pk}/read/").status_code == 404
    client.force_login(setup["principal"])
    assert "东风小学" in client.get("/notices/").content.decode()
    assert client.post(f"/notices/{notice.pk}/read/").status_code == 302
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_notice_inbox_needs_login(client, db):
    assert client.get("/notices/").status_code == 302


# --- REL-1: a build whose worker died is queued again --------------------------------------------------


def _stuck(setup, minutes_ago: int) -> ComplianceReport:
    """A report left "running 10%" by a worker killed mid-build, its last progress `minutes_ago`."""
    from django.utils import timezone

    report = report_start(year=YEAR, kind="live", actor=setup["bureau"])
    ComplianceReport.objects.filter(pk=report.pk).update(
        progress=10, heartbeat_at=timezone.now() - dt.timedelta(minutes=minutes_ago)
    )
    return report


def test_sweeper_queues_a_report_whose_worker_died_and_it_finishes(setup):
    from django.utils import timezone

    from credits.reports import reports_sweep
    from credits.tasks import build_report

    report = _stuck(setup, minutes_ago=16)
    assert reports_sweep(now=timezone.now(), queue=build_report.delay) == [report.pk]
    report.refresh_from_db()
    assert (report.status, report.progress) == ("done", 100)


def test_sweeper_leaves_a_report_that_is_still_moving(setup):
    from django.utils import timezone

    from credits.reports import reports_sweep

    _stuck(setup, minutes_ago=14)
    queued = []
    assert reports_sweep(now=timezone.now(), queue=queued.append) == [] and queued == []


def test_two_sweepers_queue_a_stale_report_once(setup):
    from django.utils import timezone

    from credits.reports import reports_sweep

    report = _stuck(setup, minutes_ago=60)
    queued = []
    now = timezone.now()
    reports_sweep(now=now, queue=queued.append)
    reports_sweep(now=now, queue=queued.append)  # the first claimed it: its heartbeat is now fresh
    assert queued == [report.pk]


def test_a_killed_worker_gives_its_task_back():
    from django.conf import settings

    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] >= 3600
