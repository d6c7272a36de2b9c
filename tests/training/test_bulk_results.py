"""PERF-6: importing results costs queries and cache calls per batch, not per row; CR-1/CR-2 hold."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.counting import counted_cache_calls
from bureau import versions
from bureau.importing import run_import
from bureau.models import AuditEntry
from credits.models import LedgerEntry
from credits.posting import Posting, ledger_sync, ledger_sync_many
from tests.factories import TeacherFactory
from tests.xlsx import write_xlsx
from training import imports
from training.imports import ResultImporter
from training.models import Certificate, Enrolment, Project, Result

RESULT_HEADERS = ["项目编号", "工号", "姓名", "考核结果", "完成日期", "认定学时"]
TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def city(db):
    project = Project.objects.create(
        code="GP2026-09", name="国培示范", level="国培", mode="混合式", kind="必修", theme="学科教学",
        hours=D("60"), credits=D("24"), start_on=dt.date(2026, 4, 1), end_on=dt.date(2026, 6, 30),
        organiser="省教育厅", status="finished")
    teachers = [TeacherFactory(staff_no=f"B{i:04d}", name=f"教师{i}") for i in range(51)]
    return project, teachers


def rows_for(teachers, grade="合格", certified=None):
    return [["GP2026-09", t.staff_no, t.name, grade, "2026-06-30", certified] for t in teachers]


def run(tmp_path, rows, name="r.xlsx"):
    with open(write_xlsx(tmp_path / name, RESULT_HEADERS, rows), "rb") as handle:
        return run_import(ResultImporter(actor=None, today=TODAY), handle, filename=name)


def measure(tmp_path, monkeypatch, rows, name):
    with counted_cache_calls() as counting, CaptureQueriesContext(connection) as queries:
        report = run(tmp_path, rows, name)
    assert report.written and not report.errors
    return len(queries), counting.calls


@pytest.mark.parametrize("grade_then", ["不合格", "优秀"])
def test_perf6_queries_and_cache_calls_do_not_grow_with_rows(city, tmp_path, monkeypatch, grade_then):
    """N and 5N results in one batch cost the same queries and cache calls: first import (enrolments,
    results, ledger rows, certificates created) and a changing import (reversals, new rows, revoked and
    re-issued certificates)."""
    _, teachers = city
    # Batches above BULK_ROWS rows bump the coarse keys (every school, every teacher) instead of one per
    # teacher: the threshold is made small here so 10 and 50 rows are both "many".
    monkeypatch.setattr(versions, "BULK_ROWS", 5)
    measure(tmp_path, monkeypatch, rows_for(teachers[44:]), "warm.xlsx")  # policies cached, counters started
    small, large = teachers[:10], teachers[10:44]
    first_small = measure(tmp_path, monkeypatch, rows_for(small), "a.xlsx")
    first_large = measure(tmp_path, monkeypatch, rows_for(large), "b.xlsx")
    assert first_large == first_small
    again_small = measure(tmp_path, monkeypatch, rows_for(small, grade_then, 30), "c.xlsx")
    again_large = measure(tmp_path, monkeypatch, rows_for(large, grade_then, 30), "d.xlsx")
    assert again_large == again_small
    assert Result.objects.count() == 51 and Enrolment.objects.filter(imported=True).count() == 51
    assert LedgerEntry.objects.count() == (51 + 44 if grade_then == "不合格" else 51 + 2 * 44)


def test_perf6_queries_grow_per_batch_only(city, tmp_path, monkeypatch):
    _, teachers = city
    monkeypatch.setattr(imports, "RESULT_BATCH", 10)
    measure(tmp_path, monkeypatch, rows_for(teachers[50:]), "warm.xlsx")  # the policies cached
    one = measure(tmp_path, monkeypatch, rows_for(teachers[:10]), "a.xlsx")[0]
    five = measure(tmp_path, monkeypatch, rows_for(teachers[10:50]), "b.xlsx")[0]  # 4 batches
    # a new batch: savepoint, enrolments read + ids drawn + COPY + events, results read (locked) + ids drawn +
    # COPY + history, ledger read + ids drawn + COPY, certificates read + COPY, audit, release (a change here
    # is deliberate)
    per_batch = 16
    assert five - one == 3 * per_batch
    assert LedgerEntry.objects.count() == 51


def test_bulk_import_does_what_the_single_path_does(city, tmp_path):
    """CR-1, certificates, events, audit and history; then a change (CR-2) reverses and re-issues."""
    project, teachers = city
    run(tmp_path, rows_for(teachers[:3]) + [["GP2026-09", teachers[3].staff_no, teachers[3].name, "不合格", None, None]])
    assert LedgerEntry.objects.count() == 3
    assert set(LedgerEntry.objects.values_list("hours", "credits", "source_key").distinct().values_list("hours", "credits")) == {
        (D("60.00"), D("24.00"))}
    assert Certificate.objects.filter(status="valid").count() == 3
    (batch,) = AuditEntry.objects.filter(action="training.results.recorded")  # one row for the batch
    assert batch.data["count"] == 4 and sum(r["changed"] for r in batch.data["results"]) == 4
    assert sorted(len(r["rows"]) for r in batch.data["results"]) == [0, 1, 1, 1]
    assert Result.history.count() == 4
    enrolment = Enrolment.objects.get(teacher=teachers[0], project=project)
    assert list(enrolment.events.values_list("action", flat=True)) == ["import"]
    run(tmp_path, [["GP2026-09", teachers[0].staff_no, teachers[0].name, "不合格", "2026-06-30", None]], "b.xlsx")
    rows = list(LedgerEntry.objects.filter(source_key=f"result:{enrolment.pk}").values_list("revision", "credits"))
    assert rows == [(1, D("24.00")), (2, D("-24.00"))]
    assert Certificate.objects.get(result__enrolment=enrolment).status == "revoked"
    assert Result.history.filter(id=enrolment.result.pk).count() == 2


def test_reimport_changes_nothing(city, tmp_path):
    _, teachers = city
    first = run(tmp_path, rows_for(teachers))
    counts = (LedgerEntry.objects.count(), Certificate.objects.count(), Result.history.count(),
              AuditEntry.objects.exclude(action="training.results.imported").count())
    again = run(tmp_path, rows_for(teachers), "again.xlsx")
    assert (first.created, again.created, again.updated, again.unchanged) == (51, 0, 0, 51)
    assert (LedgerEntry.objects.count(), Certificate.objects.count(), Result.history.count(),
            AuditEntry.objects.exclude(action="training.results.imported").count()) == counts


def test_ledger_sync_many_decides_as_ledger_sync(city):
    """The same (live row, wanted) pairs give the same rows through both paths (one decision, _planned)."""
    _, teachers = city
    t = teachers[0].pk

    def posting(credits):
        return Posting(teacher_id=t, entry_date=dt.date(2026, 5, 1), hours=credits, credits=credits, source="training")

    for key, start in (("single", D("2")), ("bulk", D("2"))):
        ledger_sync(source_key=key, wanted=posting(start), actor=None, reason="")
    steps = [posting(D("2")), posting(D("3")), None, None, posting(D("4"))]
    for wanted in steps:
        ledger_sync(source_key="single", wanted=wanted, actor=None, reason="r")
        ledger_sync_many([("bulk", wanted, "r")], actor=None)

    def shape(key):
        return list(LedgerEntry.objects.filter(source_key=key).order_by("revision")
                    .values_list("revision", "credits", "reverses__revision", "description"))

    assert shape("single") == shape("bulk")
    assert len(shape("bulk")) == 5


def test_coalesced_bumps_each_key_once(db):
    versions.bump("perf6:a", "perf6:b")  # the counters exist: one incr each, no start
    with counted_cache_calls() as counting, versions.coalesced():
        for _ in range(100):
            versions.bump("perf6:a", "perf6:b")
    assert counting.calls == 2  # one incr per key (the on-commit ones come with the test's commit)


def test_repost_many_follows_a_credits_change_once_per_batch(city, tmp_path, monkeypatch):
    """A project's credits changed (CR-2): every result is reversed and re-posted, its certificate re-issued,
    in queries that do not grow with the results; run again, nothing more."""
    from training.services import results_repost_many

    project, teachers = city
    run(tmp_path, rows_for(teachers))
    Project.objects.filter(pk=project.pk).update(credits=D("30"))
    ids = sorted(Result.objects.values_list("pk", flat=True))
    results_repost_many(ids[:1], actor=None)  # the policies cached
    with CaptureQueriesContext(connection) as few:
        assert results_repost_many(ids[1:11], actor=None) == 20
    with CaptureQueriesContext(connection) as many:
        assert results_repost_many(ids[11:], actor=None) == 80
    assert len(many) == len(few)
    assert set(LedgerEntry.objects.filter(revision=3).values_list("credits", flat=True)) == {D("30.00")}
    assert Certificate.objects.filter(status="valid", credits=D("30.00")).count() == 51
    assert results_repost_many(ids, actor=None) == 0
