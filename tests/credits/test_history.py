"""CR-7 (amended): a year's figures come from history, never from today's record. The school of a teacher
in Y is the home posting that covered most days of Y (a tie: the later one); the status is that of 31
December of Y, from the recorded changes with their effective dates. Checked in the city-wide run, the
one-school query and the teacher's own figures, at the edges: the December move, the retirement dated
in Y+1, exactly 31 December / 1 January, the tie; and through the roster import and the admin."""

import datetime as dt
import io
import itertools
from decimal import Decimal as D

import pytest
from django.urls import reverse
from openpyxl import Workbook

from bureau import importing
from bureau import rules as bureau_rules
from bureau.choices import PostingKind, Status
from bureau.imports import TeacherImporter
from bureau.models import Posting, StatusChange, Teacher
from bureau.services import status_changes_record
from credits.compliance import ComplianceRun, Scope, school_figures
from credits.posting import Posting as LedgerPosting
from credits.posting import ledger_sync
from credits.selectors import teacher_year
from tests.factories import SchoolFactory, TeacherFactory

Y = 2025
_keys = itertools.count(1)


def post(teacher, credits, *, day=dt.date(Y, 6, 1)):
    ledger_sync(source_key=f"history:{next(_keys)}", actor=None, reason="测试", wanted=LedgerPosting(
        teacher_id=teacher.pk, entry_date=day, hours=D(credits), credits=D(credits), source="training_result"))


def moved(teacher, school, *, on: dt.date):
    """The teacher's home post closes the day before `on` and one at `school` opens on `on`."""
    Posting.objects.filter(teacher=teacher, kind=PostingKind.REGULAR, ended_on__isnull=True).update(
        ended_on=on - dt.timedelta(days=1))
    Posting.objects.create(teacher=teacher, school=school, kind=PostingKind.REGULAR, started_on=on)
    Teacher.objects.filter(pk=teacher.pk).update(school=school, joined_school_on=on)
    teacher.refresh_from_db()


def retire(teacher, *, on: dt.date, status=Status.RETIRED):
    old = teacher.status
    teacher.status = status
    status_changes_record(changes=[(teacher, old, on)], actor=None)
    teacher.save()


def city_row(year, teacher):
    with ComplianceRun(year) as run:
        (row,) = [t for t in run.teachers() if t.staff_no == teacher.staff_no]
        schools = {s.code: s for s in run.schools()}
    return row, schools


# --- the school of the year ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_december_move_leaves_a_short_teacher_at_the_old_school_for_that_year():
    old, new = SchoolFactory(code="OLD"), SchoolFactory(code="NEW")
    short = TeacherFactory(staff_no="M1", school=old, joined_school_on=dt.date(2015, 9, 1))
    for i in range(4):
        post(TeacherFactory(staff_no=f"M{i + 2}", school=old), "72")  # 1 short of 5 = exactly 20%
    post(TeacherFactory(staff_no="N1", school=new), "72")
    moved(short, new, on=dt.date(Y, 12, 10))

    row, schools = city_row(Y, short)
    assert row.school_code == "OLD"
    assert (schools["OLD"].subject, schools["OLD"].short, schools["OLD"].flagged) == (5, 1, True)
    assert (schools["NEW"].subject, schools["NEW"].flagged) == (1, False)
    # The one-school query and a district-scoped run agree.
    school_row, _, teachers = school_figures(Y, old)
    assert school_row.flagged and "M1" in [t.staff_no for t in teachers]
    assert "M1" not in [t.staff_no for t in school_figures(Y, new)[2]]
    with ComplianceRun(Y, scope=Scope(district_id=old.district_id)) as run:
        assert "M1" in [t.staff_no for t in run.teachers()]
        assert [s.flagged for s in run.schools()] == [True]
    # The next year the teacher is at the new school.
    row, schools = city_row(Y + 1, short)
    assert row.school_code == "NEW" and schools["OLD"].subject == 4


@pytest.mark.django_db
def test_the_posting_covering_most_days_wins_and_a_tie_goes_to_the_later_one():
    a, b = SchoolFactory(code="A"), SchoolFactory(code="B")
    most = TeacherFactory(staff_no="D1", school=a, joined_school_on=dt.date(2015, 9, 1))
    moved(most, b, on=dt.date(Y, 7, 3))  # A: 1 Jan - 2 Jul = 183 days, B: 182
    assert city_row(Y, most)[0].school_code == "A"
    tie = TeacherFactory(staff_no="D2", school=a, joined_school_on=dt.date(2015, 9, 1))
    Posting.objects.filter(teacher=tie).update(ended_on=dt.date(Y, 6, 30))  # A: 181 days
    Posting.objects.create(teacher=tie, school=b, kind=PostingKind.REGULAR, started_on=dt.date(Y, 7, 4))  # B: 181
    Teacher.objects.filter(pk=tie.pk).update(school=b)
    assert city_row(Y, tie)[0].school_code == "B"


@pytest.mark.django_db
def test_a_move_in_the_next_year_and_a_secondment_do_not_change_the_school_of_the_year():
    a, b, c = SchoolFactory(code="A"), SchoolFactory(code="B"), SchoolFactory(code="C")
    later = TeacherFactory(staff_no="L1", school=a, joined_school_on=dt.date(2015, 9, 1))
    moved(later, b, on=dt.date(Y + 1, 1, 1))  # exactly the first day of Y+1
    assert city_row(Y, later)[0].school_code == "A"
    assert city_row(Y + 1, later)[0].school_code == "B"
    away = TeacherFactory(staff_no="L2", school=a)
    Posting.objects.create(teacher=away, school=c, kind=PostingKind.EXCHANGE, started_on=dt.date(Y, 2, 1))
    assert city_row(Y, away)[0].school_code == "A"  # an exchange is not a home post (EX-8)


# --- the status of 31 December ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_retirement_dated_in_the_next_year_leaves_the_year_unchanged():
    school = SchoolFactory(code="R")
    teacher = TeacherFactory(staff_no="R1", school=school)
    retire(teacher, on=dt.date(Y + 1, 1, 1))
    row, schools = city_row(Y, teacher)
    assert row.subject and not row.compliant and schools["R"].flagged  # still counted (and short) in Y
    assert teacher_year(teacher.pk, Y).subject
    row, schools = city_row(Y + 1, teacher)
    assert not row.subject and row.verdict == "免考核" and not schools["R"].flagged
    assert not teacher_year(teacher.pk, Y + 1).subject


@pytest.mark.django_db
def test_a_retirement_effective_on_the_thirty_first_of_december_counts_in_that_year():
    teacher = TeacherFactory(staff_no="R2")
    retire(teacher, on=dt.date(Y, 12, 31))
    assert not city_row(Y, teacher)[0].subject
    assert not teacher_year(teacher.pk, Y).subject
    assert city_row(Y - 1, teacher)[0].subject


@pytest.mark.django_db
def test_the_cycle_counts_only_the_years_the_teacher_was_active_on_the_thirty_first():
    teacher = TeacherFactory(staff_no="R3")
    retire(teacher, on=dt.date(2023, 8, 31))  # 在职 on 31 Dec 2021, 2022; retired on 31 Dec 2023
    retire(teacher, on=dt.date(2024, 3, 1), status=Status.ACTIVE)  # re-employed: 在职 on 31 Dec 2024, 2025
    row, _ = city_row(Y, teacher)
    own = teacher_year(teacher.pk, Y)
    assert (row.subject, row.subject_years, row.cycle_required) == (True, 4, 288)
    assert (own.subject, own.subject_years, own.cycle_required) == (True, 4, 288)
    (one,) = school_figures(Y, teacher.school)[2]
    assert (one.subject_years, one.cycle_required) == (4, 288)
    assert not city_row(2023, teacher)[0].subject


def test_status_on_reads_the_first_change_after_the_day():
    changes = [(dt.date(2023, 8, 31), "在职"), (dt.date(2024, 3, 1), "退休")]
    assert bureau_rules.status_on(dt.date(2023, 8, 30), current="在职", changes=changes) == "在职"
    assert bureau_rules.status_on(dt.date(2023, 8, 31), current="在职", changes=changes) == "退休"
    assert bureau_rules.status_on(dt.date(2024, 3, 1), current="在职", changes=changes) == "在职"
    assert bureau_rules.status_on(dt.date(2020, 1, 1), current="在职", changes=[]) == "在职"


def test_a_change_may_not_take_effect_in_the_future_or_before_the_last_one():
    today = dt.date(2026, 11, 30)
    problem = bureau_rules.status_change_problem
    assert problem(effective_on=today, latest=None, today=today) is None
    assert "晚于今天" in problem(effective_on=today + dt.timedelta(days=1), latest=None, today=today)
    assert problem(effective_on=dt.date(2026, 3, 1), latest=dt.date(2026, 3, 1), today=today) is None
    assert "早于上次" in problem(effective_on=dt.date(2026, 2, 28), latest=dt.date(2026, 3, 1), today=today)


# --- where the effective date comes from ---------------------------------------------------------------


def teachers_xlsx(rows):
    book = Workbook()
    sheet = book.active
    sheet.append(["工号", "姓名", "性别", "出生日期", "学校代码", "任教学科", "职称", "学历", "参加工作日期", "入校日期",
                  "编制类型", "在职状态", "状态生效日期"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def roster_row(teacher, status, since):
    return [teacher.staff_no, teacher.name, teacher.gender, teacher.birth_date, teacher.school.code, teacher.subject,
            teacher.title, teacher.education, teacher.employed_on, teacher.joined_school_on, teacher.employment_type,
            status, since]


def run_import(rows, today=dt.date(2026, 11, 30)):
    return importing.run_import(TeacherImporter(actor=None, today=today), teachers_xlsx(rows))


@pytest.mark.django_db
def test_the_roster_import_records_the_change_with_its_effective_date_and_re_importing_changes_nothing():
    teacher = TeacherFactory(staff_no="I1")
    report = run_import([roster_row(teacher, "退休", "2026-01-01")])
    assert not report.errors
    (change,) = StatusChange.objects.filter(teacher=teacher)
    assert (change.from_status, change.to_status, change.effective_on) == ("在职", "退休", dt.date(2026, 1, 1))
    teacher.refresh_from_db()
    assert (teacher.status, teacher.status_since) == ("退休", dt.date(2026, 1, 1))
    assert city_row(Y, teacher)[0].subject and not city_row(Y + 1, teacher)[0].subject
    run_import([roster_row(teacher, "退休", "2026-01-01")])
    assert StatusChange.objects.filter(teacher=teacher).count() == 1


@pytest.mark.django_db
def test_the_roster_import_refuses_a_date_before_the_last_change_or_in_the_future():
    teacher = TeacherFactory(staff_no="I2")
    retire(teacher, on=dt.date(2026, 3, 1))
    report = run_import([roster_row(teacher, "在职", "2026-02-28")])
    assert [(e.column, "早于上次" in e.reason) for e in report.errors] == [("状态生效日期", True)]
    other = TeacherFactory(staff_no="I3")
    report = run_import([roster_row(other, "离职", "2026-12-01")])
    assert [(e.column, "晚于今天" in e.reason) for e in report.errors] == [("状态生效日期", True)]
    assert StatusChange.objects.filter(teacher__in=[teacher, other]).count() == 1  # nothing written


@pytest.mark.django_db
def test_a_blank_effective_date_means_the_import_date():
    teacher = TeacherFactory(staff_no="I4")
    run_import([roster_row(teacher, "调出", None)], today=dt.date(2026, 11, 30))
    assert StatusChange.objects.get(teacher=teacher).effective_on == dt.date(2026, 11, 30)


@pytest.mark.django_db
def test_a_new_teacher_listed_as_retired_since_a_day_was_active_until_then():
    school = SchoolFactory(code="NW")
    model = TeacherFactory.build(staff_no="I5", school=school)
    run_import([roster_row(model, "退休", "2026-01-01")])
    teacher = Teacher.objects.get(staff_no="I5")
    (change,) = StatusChange.objects.filter(teacher=teacher)
    assert (change.from_status, change.to_status, change.effective_on) == ("在职", "退休", dt.date(2026, 1, 1))
    assert city_row(Y, teacher)[0].subject and not city_row(Y + 1, teacher)[0].subject
    undated = TeacherFactory.build(staff_no="I6", school=school)
    run_import([roster_row(undated, "退休", None)])  # no date: taken as 退休 throughout (docs/decisions.md)
    assert not StatusChange.objects.filter(teacher__staff_no="I6").exists()
    assert not city_row(Y, Teacher.objects.get(staff_no="I6"))[0].subject


@pytest.mark.django_db
def test_the_admin_records_a_change_with_the_date_given_and_refuses_one_before_the_last(client, django_user_model):
    from bureau.services import user_assign_role

    staff = django_user_model.objects.create_user("bureau-admin", password="pw-123456-x")
    user_assign_role(user=staff, role="bureau", actor=None)
    client.force_login(staff)
    teacher = TeacherFactory(staff_no="A1")
    url = reverse("admin:bureau_teacher_change", args=[teacher.pk])
    page = client.get(url)
    assert page.status_code == 200 and "状态生效日期" in page.content.decode()
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"status": "退休", "status_since": "2026-02-01",
                 "postings-TOTAL_FORMS": 1, "postings-INITIAL_FORMS": 1, "postings-MIN_NUM_FORMS": 0,
                 "postings-MAX_NUM_FORMS": 1000, "postings-0-id": teacher.postings.get().pk, "postings-0-teacher": teacher.pk,
                 "status_changes-TOTAL_FORMS": 0, "status_changes-INITIAL_FORMS": 0, "status_changes-MIN_NUM_FORMS": 0,
                 "status_changes-MAX_NUM_FORMS": 1000})
    data = {k: v for k, v in data.items() if k not in ("user",)}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    (change,) = StatusChange.objects.filter(teacher=teacher)
    assert (change.to_status, change.effective_on, change.created_by) == ("退休", dt.date(2026, 2, 1), staff)
    data.update({"status": "在职", "status_since": "2026-01-15",
                 "status_changes-TOTAL_FORMS": 1, "status_changes-INITIAL_FORMS": 1, "status_changes-0-id": change.pk,
                 "status_changes-0-teacher": teacher.pk})
    response = client.post(url, data)
    assert response.status_code == 200 and "不能早于上次状态变更" in response.content.decode()
    assert StatusChange.objects.filter(teacher=teacher).count() == 1


@pytest.mark.django_db
def test_the_old_principal_opens_the_year_of_a_teacher_who_moved_away_but_not_later_years(client, city, users):
    """CR-7: the old school's list for Y names the teacher moved in December, and the link opens; for
    the next year, when the teacher was never at the school, it is a 404 like any other teacher's."""
    s1, _, s3 = city["schools"]
    teacher = TeacherFactory(staff_no="MV", school=s1, joined_school_on=dt.date(2015, 9, 1))
    moved(teacher, s3, on=dt.date(Y, 12, 10))
    client.force_login(users["principal"])
    url = reverse("credits:teacher-detail", args=["MV"])
    assert client.get(url, {"year": Y}).status_code == 200
    assert client.get(url, {"year": Y + 1}).status_code == 404
    assert "MV" in [t.staff_no for t in school_figures(Y, s1)[2]]
    client.force_login(users["district"])  # the first district (S1's), not S3's
    assert client.get(url, {"year": Y}).status_code == 200
    assert client.get(url, {"year": Y + 1}).status_code == 404
