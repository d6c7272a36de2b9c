"""The ledger: append-only in code and in the database; results post exactly once (CR-1, CR-2, CR-3)."""

import datetime as dt
import threading
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from bureau.services import ApplicationError
from credits.models import LedgerEntry, Policy, Source
from credits.selectors import policy_for, teacher_year
from credits.services import ledger_adjust, ledger_reverse
from tests.factories import TeacherFactory
from training.models import Project, Result
from training.services import result_post, result_record


@pytest.fixture
def project(db):
    return Project.objects.create(
        code="P1", name="信息技术能力提升", level="市培", mode="网络研修", kind="必修", theme="信息技术",
        hours=D("30"), credits=D("12"), start_on=dt.date(2026, 3, 1), end_on=dt.date(2026, 6, 30), organiser="市教师发展中心",
    )


@pytest.fixture
def teacher(db):
    return TeacherFactory()


def record(project, teacher, grade, on=dt.date(2026, 6, 30), certified=None):
    return result_record(project=project, teacher=teacher, grade=grade, completed_on=on, certified_hours=certified, actor=None)


def ledger(teacher):
    return list(LedgerEntry.objects.filter(teacher=teacher).order_by("id").values_list("entry_date", "hours", "credits", "revision"))


def test_cr1_passing_result_posts_one_row(project, teacher):
    record(project, teacher, "合格")
    assert ledger(teacher) == [(dt.date(2026, 6, 30), D("30.00"), D("12.00"), 1)]
    row = LedgerEntry.objects.get()
    assert (row.source, row.mode, row.theme, row.project_code) == (Source.TRAINING_RESULT, "网络研修", "信息技术", project.code)


def test_cr1_failing_result_posts_nothing(project, teacher):
    record(project, teacher, "不合格")
    record(project, teacher, "未完成", on=None)
    assert ledger(teacher) == []


def test_cr2_saving_same_result_again_posts_nothing(project, teacher):
    record(project, teacher, "优秀")
    _, changed = record(project, teacher, "优秀")
    assert not changed
    assert len(ledger(teacher)) == 1


def test_cr2_pass_to_fail_posts_reversal_only(project, teacher):
    record(project, teacher, "合格")
    record(project, teacher, "不合格")
    assert ledger(teacher) == [
        (dt.date(2026, 6, 30), D("30.00"), D("12.00"), 1),
        (dt.date(2026, 6, 30), D("-30.00"), D("-12.00"), 2),
    ]
    assert teacher_year(teacher.pk, 2026).annual_credits == 0


def test_cr2_fail_back_to_pass_posts_again(project, teacher):
    record(project, teacher, "合格")
    record(project, teacher, "不合格")
    record(project, teacher, "合格")
    assert [r[3] for r in ledger(teacher)] == [1, 2, 3]
    assert teacher_year(teacher.pk, 2026).annual_credits == D("12")


def test_cr2_changed_certified_hours_reverse_and_repost(project, teacher):
    record(project, teacher, "合格")
    record(project, teacher, "合格", certified=D("10"))
    assert ledger(teacher)[1:] == [
        (dt.date(2026, 6, 30), D("-30.00"), D("-12.00"), 2),
        (dt.date(2026, 6, 30), D("10.00"), D("4.00"), 3),
    ]


def test_cr2_excellent_to_pass_changes_nothing_in_ledger(project, teacher):
    record(project, teacher, "优秀")
    record(project, teacher, "合格")
    assert len(ledger(teacher)) == 1


def test_cr3_blank_project_credits_follow_policy_of_completion_year(project, teacher):
    Policy.objects.create(year=2026, credits_per_hour=D("0.5"))
    project.credits = None
    project.save()
    record(project, teacher, "合格")
    assert ledger(teacher)[0][2] == D("15.00")


def test_cr3_policy_for_year_takes_latest_version_not_after_it(db):
    Policy.objects.create(year=2022, annual_credits=D("60"))
    Policy.objects.create(year=2027, annual_credits=D("80"))
    assert policy_for(2021).annual_credits == D("72")  # defaults before any version
    assert policy_for(2026).annual_credits == D("60")
    assert policy_for(2027).annual_credits == D("80")


def test_ledger_rows_cannot_be_updated_or_deleted_in_code(project, teacher):
    record(project, teacher, "合格")
    row = LedgerEntry.objects.get()
    row.credits = D("99")
    with pytest.raises(ValidationError):
        row.save()
    with pytest.raises(ValidationError):
        row.delete()
    with pytest.raises(ValidationError):
        LedgerEntry.objects.filter(pk=row.pk).update(credits=1)
    with pytest.raises(ValidationError):
        LedgerEntry.objects.all().delete()


@pytest.mark.parametrize("statement", ["UPDATE credits_ledgerentry SET credits = 99", "DELETE FROM credits_ledgerentry"])
def test_ledger_is_append_only_in_the_database(project, teacher, statement):
    record(project, teacher, "合格")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert LedgerEntry.objects.get().credits == D("12")


def test_cr2_database_refuses_a_second_row_for_the_same_revision(project, teacher):
    record(project, teacher, "合格")
    row = LedgerEntry.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            teacher=teacher, entry_date=row.entry_date, hours=row.hours, credits=row.credits,
            source=row.source, source_key=row.source_key, revision=1,
        )


@pytest.mark.django_db(transaction=True)
def test_cr2_two_workers_posting_the_same_result_at_once_leave_one_row(project, teacher):
    from training.models import Enrolment

    enrolment = Enrolment.objects.create(project=project, teacher=teacher, state="completed")
    result = Result.objects.create(enrolment=enrolment, grade="合格", completed_on=dt.date(2026, 6, 30))
    barrier = threading.Barrier(4)
    errors = []

    def worker():
        try:
            barrier.wait()
            result_post(result_id=result.pk, actor=None)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert LedgerEntry.objects.filter(teacher=teacher).count() == 1


def test_manual_adjustment_needs_bureau_role_and_reason(users, city):
    teacher = city["teachers"][0]
    with pytest.raises(ApplicationError, match="原因"):
        ledger_adjust(teacher_id=teacher.pk, entry_date=dt.date(2026, 5, 1), hours=D("2"), credits=D("2"), reason=" ", actor=users["bureau"])
    with pytest.raises(ApplicationError, match="只有市教育局"):
        ledger_adjust(teacher_id=teacher.pk, entry_date=dt.date(2026, 5, 1), hours=D("2"), credits=D("2"), reason="补录", actor=users["district"])
    entry = ledger_adjust(teacher_id=teacher.pk, entry_date=dt.date(2026, 5, 1), hours=D("2"), credits=D("2"), reason="补录", actor=users["bureau"])
    assert (entry.source, entry.description, entry.entered_by) == (Source.MANUAL_ADJUSTMENT, "补录", users["bureau"])


def test_reversal_of_a_row_happens_once(users, city):
    teacher = city["teachers"][0]
    entry = ledger_adjust(teacher_id=teacher.pk, entry_date=dt.date(2026, 5, 1), hours=D("2"), credits=D("2"), reason="补录", actor=users["bureau"])
    reversal = ledger_reverse(entry=entry, reason="重复登记", actor=users["bureau"])
    assert (reversal.credits, reversal.reverses) == (D("-2"), entry)
    with pytest.raises(ApplicationError, match="已被冲销"):
        ledger_reverse(entry=entry, reason="again", actor=users["bureau"])
    with pytest.raises(ApplicationError, match="不能再冲销"):
        ledger_reverse(entry=reversal, reason="again", actor=users["bureau"])


def test_cr6_cycle_hours_run_from_cycle_start_through_year(users, city):
    teacher = city["teachers"][0]
    bureau = users["bureau"]
    for day, hours in [(dt.date(2025, 12, 31), 100), (dt.date(2026, 1, 1), 10), (dt.date(2026, 12, 31), 5), (dt.date(2027, 1, 1), 7)]:
        ledger_adjust(teacher_id=teacher.pk, entry_date=day, hours=D(hours), credits=D(hours), reason="测试", actor=bureau)
    year = teacher_year(teacher.pk, 2026)
    assert (year.cycle_start, year.cycle_hours, year.annual_credits) == (2026, D("15"), D("15"))
    assert teacher_year(teacher.pk, 2025).cycle_hours == D("100")
    assert teacher_year(teacher.pk, 2027).cycle_hours == D("22")


@pytest.mark.time_machine(dt.datetime(2026, 11, 23, 10, 0))
def test_cached_portal_follows_every_appended_row_and_policy_edit(client, users, city):
    from django.urls import reverse

    teacher = city["teachers"][0]
    client.force_login(users["teacher"])
    assert '<span class="figure">0</span> / 72' in client.get(reverse("credits:portal")).content.decode()
    ledger_adjust(teacher_id=teacher.pk, entry_date=dt.date(2026, 5, 1), hours=D("8"), credits=D("8"), reason="补录",
                  actor=users["bureau"])
    assert '<span class="figure">8</span> / 72' in client.get(reverse("credits:portal")).content.decode()
    Policy.objects.create(year=2026, annual_credits=D("60"))
    assert '<span class="figure">8</span> / 60' in client.get(reverse("credits:portal")).content.decode()
