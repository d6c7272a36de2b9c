"""CR-5 (amended) 师德达标 and 校本达标, CR-6 (amended) 周期应完成学时 and 周期达标: at their edges, in the
rules and in the database alike; the workbook's 教师 sheet; the portal's plain words; the "who is short
on what" lists per role."""

import datetime as dt
import io
import itertools
from decimal import Decimal as D

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from credits import rules
from credits.compliance import ComplianceRun, school_figures
from credits.exports import write_compliance_workbook
from credits.models import Exemption, Policy
from credits.posting import Posting, ledger_sync
from credits.selectors import policy_for, teacher_year
from tests.factories import SchoolFactory, TeacherFactory

POLICY = rules.PolicyValues()
LAST = 2025  # the last year of the cycle 2021-2025
_keys = itertools.count(1)


def post(teacher, hours, *, source="training_result", mode="", theme="", day=dt.date(LAST, 6, 1)):
    (row,) = ledger_sync(source_key=f"verdicts:{next(_keys)}", actor=None, reason="测试", wanted=Posting(
        teacher_id=teacher.pk, entry_date=day, hours=D(hours), credits=D(hours), source=source, mode=mode, theme=theme))
    return row


def rows_of(teacher, year):
    """The teacher's row from the city-wide run, the one-school query and the teacher's own figures:
    they must agree (database and Python rules on the same rows)."""
    with ComplianceRun(year) as run:
        (row,) = [t for t in run.teachers() if t.staff_no == teacher.staff_no]
        listed = [t.staff_no for t in run.teachers(short_of_anything=True)]
    (one,) = [t for t in school_figures(year, teacher.school)[2] if t.staff_no == teacher.staff_no]
    own = teacher_year(teacher.pk, year)
    fields = ("ethics_ok", "school_ok", "subject_years", "cycle_required", "cycle_ok", "subject")
    assert [getattr(row, f) for f in fields] == [getattr(one, f) for f in fields]
    assert (row.ethics_ok, row.school_ok, row.cycle_required, row.cycle_ok, row.subject) == (
        own.ethics_ok, own.school_ok, own.cycle_required, own.cycle_ok, own.subject)
    assert row.cycle_required == rules.cycle_requirement(subject_years=row.subject_years, policy=policy_for(year))
    assert (teacher.staff_no in listed) == bool(row.short_of)  # the SQL filter and TeacherRow.short_of agree
    return row


# --- the rules, without a database ---------------------------------------------------------------------


def test_cr5_ethics_twelve_is_met_and_eleven_point_nine_is_not():
    assert rules.ethics_met(ethics_hours=D("12.0"), policy=POLICY, subject=True) is True
    assert rules.ethics_met(ethics_hours=D("11.9"), policy=POLICY, subject=True) is False
    assert rules.ethics_met(ethics_hours=D("0"), policy=POLICY, subject=False) is None


def test_cr5_school_based_sixteen_is_met_and_fifteen_point_nine_is_not():
    assert rules.school_based_met(school_hours=D("16.0"), policy=POLICY, subject=True) is True
    assert rules.school_based_met(school_hours=D("15.9"), policy=POLICY, subject=True) is False
    assert rules.school_based_met(school_hours=D("99"), policy=POLICY, subject=False) is None


def test_cr6_requirement_is_a_share_of_the_cycle_rounded_half_up():
    assert [rules.cycle_requirement(subject_years=n, policy=POLICY) for n in range(6)] == [0, 72, 144, 216, 288, 360]
    odd = rules.PolicyValues(cycle_hours=D("100"), cycle_years=8)
    assert rules.cycle_requirement(subject_years=3, policy=odd) == 38  # 37.5 -> 38 (half up)
    assert rules.cycle_requirement(subject_years=1, policy=odd) == 13  # 12.5 -> 13
    assert rules.cycle_requirement(subject_years=2, policy=odd) == 25


def test_cr6_verdict_only_in_the_cycles_last_year():
    assert rules.cycle_met(year=2025, cycle_hours=D("216"), requirement=216, policy=POLICY) is True
    assert rules.cycle_met(year=2025, cycle_hours=D("215.9"), requirement=216, policy=POLICY) is False
    assert all(rules.cycle_met(year=y, cycle_hours=D("0"), requirement=360, policy=POLICY) is None
               for y in (2021, 2022, 2023, 2024, 2026))


# --- in the database, agreeing with the rules -----------------------------------------------------------


def test_cr5_ethics_and_school_based_edges_in_the_database(db):
    school = SchoolFactory(code="V")
    exact = TeacherFactory(staff_no="V1", school=school)
    post(exact, "12.0", theme="师德")
    post(exact, "16.0", source="school_based")
    short = TeacherFactory(staff_no="V2", school=school)
    post(short, "11.9", theme="师德")
    post(short, "15.9", mode="校本研修")
    a, b = rows_of(exact, LAST), rows_of(short, LAST)
    assert (a.ethics_ok, a.school_ok) == (True, True)
    assert (b.ethics_ok, b.school_ok) == (False, False)
    assert not a.compliant and not b.compliant  # the sub-verdicts do not decide 达标
    assert b.short_of == ["学分", "师德", "校本", "周期"]


def test_cr5_sub_verdicts_do_not_change_the_school_flag(db):
    school = SchoolFactory(code="F")
    for i in range(5):
        teacher = TeacherFactory(staff_no=f"F{i}", school=school)
        post(teacher, "72")  # compliant, no ethics or school-based hours at all
    with ComplianceRun(LAST) as run:
        (row,) = [s for s in run.schools() if s.code == "F"]
        assert (row.compliant, row.flagged) == (5, False)
        assert {t.ethics_ok for t in run.teachers()} == {False}


def test_cr6_teacher_first_subject_in_the_third_year_owes_216_at_the_end(db):
    teacher = TeacherFactory(staff_no="H1", employed_on=dt.date(2022, 9, 1), joined_school_on=dt.date(2022, 9, 1))  # subject from 2023
    post(teacher, "216", day=dt.date(2024, 6, 1))
    row = rows_of(teacher, LAST)
    assert (row.subject_years, row.cycle_required, row.cycle_ok) == (3, 216, True)
    assert rows_of(teacher, 2024).cycle_required == 144  # 2 of 5 so far
    assert rows_of(teacher, 2024).cycle_ok is None  # not the cycle's last year: blank
    assert rows_of(teacher, 2022).cycle_required == 0


def test_cr6_employed_exactly_on_the_first_of_january_counts_that_year(db):
    teacher = TeacherFactory(staff_no="H2", employed_on=dt.date(2023, 1, 1), joined_school_on=dt.date(2023, 1, 1))
    post(teacher, "215.5", day=dt.date(2025, 3, 1))
    row = rows_of(teacher, LAST)
    assert (row.subject_years, row.cycle_required, row.cycle_ok) == (3, 216, False)


def test_cr6_an_exempt_year_is_not_counted_and_a_refused_one_is(db):
    teacher = TeacherFactory(staff_no="E1")
    Exemption.objects.create(teacher=teacher, year=2023, reason="产假", status="granted")
    Exemption.objects.create(teacher=teacher, year=2024, reason="病假", status="refused")
    post(teacher, "288", day=dt.date(2022, 6, 1))
    row = rows_of(teacher, LAST)
    assert (row.subject_years, row.cycle_required, row.cycle_ok) == (4, 288, True)


def test_cr6_an_exemption_before_employment_is_not_counted_twice(db):
    teacher = TeacherFactory(staff_no="E2", employed_on=dt.date(2023, 9, 1), joined_school_on=dt.date(2023, 9, 1))  # subject 2024, 2025
    Exemption.objects.create(teacher=teacher, year=2023, reason="入职前", status="granted")
    assert rows_of(teacher, LAST).subject_years == 2


def test_cr6_exempt_in_the_last_year_leaves_every_verdict_blank(db):
    teacher = TeacherFactory(staff_no="E3")
    Exemption.objects.create(teacher=teacher, year=LAST, reason="长期外派", status="granted")
    row = rows_of(teacher, LAST)
    assert (row.subject, row.ethics_ok, row.school_ok, row.cycle_ok, row.cycle_required) == (False, None, None, None, 288)
    assert row.short_of == []


def test_cr6_a_teacher_not_in_service_owes_nothing(db):
    teacher = TeacherFactory(staff_no="R1", status="退休")
    assert (rows_of(teacher, LAST).subject_years, rows_of(teacher, LAST).cycle_required) == (0, 0)


def test_cr6_requirement_in_the_database_rounds_like_the_rule(db):
    Policy.objects.create(year=2020, cycle_hours=D("100"), cycle_years=8, first_cycle_start=2021)
    teacher = TeacherFactory(staff_no="P1", employed_on=dt.date(2020, 5, 1), joined_school_on=dt.date(2020, 5, 1))
    odd = rules.PolicyValues(cycle_hours=D("100"), cycle_years=8)
    for year, expected in [(2021, 13), (2022, 25), (2023, 38)]:
        row = rows_of(teacher, year)
        assert row.cycle_required == expected == rules.cycle_requirement(subject_years=year - 2020, policy=odd)


def test_workbook_teacher_sheet_new_columns(db, tmp_path):
    school = SchoolFactory(code="W")
    full = TeacherFactory(staff_no="W1", school=school)
    post(full, "72", theme="师德", day=dt.date(2021, 3, 1))
    post(full, "300", day=dt.date(2022, 3, 1))
    post(full, "12", theme="师德")
    post(full, "16", source="school_based")
    post(full, "44")
    TeacherFactory(staff_no="W2", school=school, employed_on=dt.date(2025, 3, 1), joined_school_on=dt.date(2025, 3, 1))  # 免考核 (new)
    for year, last in [(LAST, True), (2024, False)]:
        path = tmp_path / f"{year}.xlsx"
        with ComplianceRun(year) as run:
            write_compliance_workbook(path, run)
        teachers = [tuple(r) for r in load_workbook(path)["教师"].iter_rows(values_only=True)]
        assert teachers[0][9:] == ("是否达标", "师德达标", "校本达标", "周期应完成学时", "周期达标", "学校名称")
        if last:
            assert teachers[1][9:14] == ("是", "是", "是", 360, "是")
            assert teachers[2][9:14] == ("免考核", None, None, 0, None)
        else:
            assert teachers[1][9:14] == ("否", "否", "否", 288, None)


# --- the portal: what is still missing, in plain words -----------------------------------------------


def test_portal_says_what_is_still_missing(client, users, city):
    teacher = city["teachers"][0]  # employed 2007: subject every year of the cycle
    post(teacher, "8", theme="师德", day=dt.date(2026, 3, 1))
    page = client_page(client, users, 2026)
    assert "师德学时还差 4 学时" in page
    assert "校本研修学时还差 16 学时" in page
    assert "年度学分还差 64 学分" in page
    assert "本周期还需 64 学时（截至今年应完成 72 学时）" in page
    assert "EX-" not in page and "CR-" not in page


def test_portal_says_nothing_is_missing_and_the_cycle_verdict_in_the_last_year(client, users, city):
    teacher = city["teachers"][0]
    post(teacher, "300", day=dt.date(2024, 3, 1))
    post(teacher, "12", theme="师德")
    post(teacher, "16", source="school_based")
    post(teacher, "44")
    page = client_page(client, users, LAST)
    assert "本年度各项要求均已完成" in page and "周期已达标" in page


def test_portal_for_an_exempt_year(client, users, city):
    Exemption.objects.create(teacher=city["teachers"][0], year=2026, reason="产假", status="granted")
    page = client_page(client, users, 2026)
    assert "免考核" in page and "还差" not in page


def client_page(client, users, year):
    client.force_login(users["teacher"])
    response = client.get(reverse("credits:portal") + f"?year={year}")
    assert response.status_code == 200
    return response.content.decode()


# --- who is short on what: pages and xlsx per role ---------------------------------------------------


ROLES = ["anonymous", "superuser", "bureau", "district", "principal", "teacher", "auditor"]
STAFF = {"superuser", "bureau", "district", "auditor"}


def short_pages(city):
    d1, d2 = city["districts"]
    return {
        "school": (reverse("credits:school-short"), {"principal"}, set()),
        "school-xlsx": (reverse("credits:school-short-xlsx"), {"principal"}, set()),
        "staff": (reverse("credits:short-list"), STAFF, set()),
        "staff-own": (reverse("credits:short-list") + f"?district={d1.pk}", STAFF, set()),
        "staff-other": (reverse("credits:short-list") + f"?district={d2.pk}", {"superuser", "bureau", "auditor"}, {"district"}),
        "xlsx": (reverse("credits:short-xlsx"), STAFF, set()),
        "xlsx-other": (reverse("credits:short-xlsx") + f"?district={d2.pk}", {"superuser", "bureau", "auditor"}, {"district"}),
    }


@pytest.mark.parametrize("role", ROLES)
def test_short_lists_per_role(client, users, city, role):
    if role != "anonymous":
        client.force_login(users[role])
    for name, (url, allowed, hidden) in short_pages(city).items():
        status = client.get(url).status_code
        expected = 302 if role == "anonymous" else 200 if role in allowed else 404 if role in hidden else 403
        assert status == expected, f"{name} as {role}: {status} != {expected}"


def test_principal_list_names_the_schools_short_teachers_only(client, users, city):
    t1 = city["teachers"][0]
    post(t1, "72", day=dt.date(2026, 3, 1))  # credits met; ethics, school-based and cycle not
    other = TeacherFactory(staff_no="T9", school=city["schools"][0])
    for hours, kw in [("72", {}), ("12", {"theme": "师德"}), ("16", {"source": "school_based"})]:
        post(other, hours, day=dt.date(2026, 3, 1), **kw)  # 100 hours: nothing short in 2026
    client.force_login(users["principal"])
    page = client.get(reverse("credits:school-short") + "?year=2026").content.decode()
    assert "T1" in page and "师德、校本" in page and "T9" not in page and "T2" not in page
    book = load_workbook(io.BytesIO(client.get(reverse("credits:school-short-xlsx") + "?year=2026").content))
    rows = [tuple(r) for r in book.active.iter_rows(values_only=True)]
    assert rows[0][0] == "工号" and rows[0][-1] == "欠缺项目"
    assert [r[0] for r in rows[1:]] == ["T1"] and rows[1][-1] == "师德、校本"


def test_district_list_is_scoped_and_its_xlsx_too(client, users, city):
    client.force_login(users["district"])
    page = client.get(reverse("credits:short-list") + "?year=2026").content.decode()
    assert "T1" in page and "T2" in page and "T3" not in page
    book = load_workbook(io.BytesIO(client.get(reverse("credits:short-xlsx") + "?year=2026").content))
    assert sorted(r[0] for r in book.active.iter_rows(min_row=2, values_only=True)) == ["T1", "T2"]
    client.force_login(users["bureau"])
    book = load_workbook(io.BytesIO(client.get(reverse("credits:short-xlsx") + "?year=2026").content))
    assert sorted(r[0] for r in book.active.iter_rows(min_row=2, values_only=True)) == ["T1", "T2", "T3"]


def test_short_lists_query_count_does_not_grow(client, users, city, django_assert_max_num_queries):
    for i in range(30):
        TeacherFactory(staff_no=f"Q{i:02d}", school=city["schools"][0])
    client.force_login(users["principal"])
    with django_assert_max_num_queries(8):
        assert client.get(reverse("credits:school-short") + "?year=2026").status_code == 200
    client.force_login(users["district"])
    with django_assert_max_num_queries(10):
        assert client.get(reverse("credits:short-list") + "?year=2026").status_code == 200


def test_school_dashboard_and_teacher_page_lead_to_the_lists(client, users, city):
    client.force_login(users["principal"])
    page = client.get(reverse("credits:school-dashboard") + "?year=2026").content.decode()
    assert reverse("credits:school-short") + "?year=2026" in page
    page = client.get(reverse("credits:teacher-detail", args=["T1"]) + "?year=2026").content.decode()
    assert "师德学时还差 12 学时" in page
    client.force_login(users["district"])
    page = client.get(reverse("credits:staff-school-dashboard", args=[city["schools"][0].pk]) + "?year=2026").content.decode()
    assert f"{reverse('credits:short-list')}?district={city['districts'][0].pk}&amp;year=2026" in page


def test_api_summary_carries_the_sub_verdicts(client, users, city):
    post(city["teachers"][0], "12", theme="师德")
    client.force_login(users["bureau"])
    data = client.get(f"/api/teachers/T1/summary/?year={LAST}").json()
    assert (data["subject"], data["ethics_met"], data["school_based_met"], data["cycle_required_hours"],
            data["cycle_met"]) == (True, True, False, 360, False)
    data = client.get("/api/teachers/T1/summary/?year=2026").json()
    assert (data["cycle_required_hours"], data["cycle_met"]) == (72, None)
