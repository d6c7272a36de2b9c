import datetime as dt
from decimal import Decimal as D

import pytest

from credits import rules

DAY = dt.date(2026, 6, 30)


def posting(grade, certified=None, hours=D("24"), credits=D("24"), on=DAY):
    return rules.result_posting(
        grade=grade, completed_on=on, project_hours=hours, project_credits=credits, certified_hours=certified
    )


@pytest.mark.parametrize("grade", ["优秀", "合格"])
def test_cr1_passing_grade_posts_project_credits_on_completion_date(grade):
    assert posting(grade) == rules.Posting(DAY, D("24.00"), D("24.00"))


@pytest.mark.parametrize("grade", ["不合格", "未完成"])
def test_cr1_failing_grade_posts_nothing(grade):
    assert posting(grade) is None


def test_cr1_certified_hours_scale_credits_by_project_ratio():
    # 30 hours worth 12 credits; 10 certified hours → 10 × 12/30 = 4 credits
    assert posting("合格", certified=D("10"), hours=D("30"), credits=D("12")) == rules.Posting(DAY, D("10.00"), D("4.00"))


def test_cr1_certified_hours_ratio_rounds_to_cents():
    assert posting("优秀", certified=D("10"), hours=D("30"), credits=D("10")).credits == D("3.33")


def test_blank_project_credits_use_policy_credits_per_hour():
    assert rules.project_credits(hours=D("16"), credits=None, credits_per_hour=D("0.5")) == D("8.00")
    assert rules.project_credits(hours=D("16"), credits=D("3"), credits_per_hour=D("0.5")) == D("3.00")


@pytest.mark.parametrize(
    "year, start", [(2021, 2021), (2025, 2021), (2026, 2026), (2030, 2026), (2031, 2031), (2020, 2016)]
)
def test_cr3_cr6_cycles_of_five_years_from_2021(year, start):
    assert rules.cycle_start_year(year, first_cycle_start=2021, cycle_years=5) == start


def test_cr4_employed_on_first_january_is_subject_second_january_is_not():
    assert rules.is_subject_to_check(status="在职", employed_on=dt.date(2026, 1, 1), year=2026, exempt=False)
    assert not rules.is_subject_to_check(status="在职", employed_on=dt.date(2026, 1, 2), year=2026, exempt=False)
    assert not rules.is_subject_to_check(status="退休", employed_on=dt.date(2000, 1, 1), year=2026, exempt=False)
    assert not rules.is_subject_to_check(status="在职", employed_on=dt.date(2000, 1, 1), year=2026, exempt=True)


def test_cr5_exactly_the_requirement_is_compliant():
    assert rules.is_compliant(annual_credits=D("72"), requirement=D("72"))
    assert not rules.is_compliant(annual_credits=D("71.99"), requirement=D("72"))


def test_cr7_exactly_twenty_percent_is_flagged_and_just_below_is_not():
    assert rules.school_flagged(short=2, subject=10, threshold=D("0.20"))
    assert not rules.school_flagged(short=199, subject=1000, threshold=D("0.20"))
    assert not rules.school_flagged(short=0, subject=0, threshold=D("0.20"))
