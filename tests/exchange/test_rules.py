"""EX-1, EX-3, EX-7 at their edges, without a database."""

import datetime as dt
from decimal import Decimal as D

import pytest

from exchange import rules

REF = rules.reference_date(2026)


def eligible(**over):
    values = dict(active=True, stage="小学", male=True, birth_date=dt.date(1980, 1, 1), joined_school_on=dt.date(2015, 9, 1), on=REF)
    values.update(over)
    return rules.is_eligible(**values)


def test_reference_date_is_31_august():
    assert REF == dt.date(2026, 8, 31)


def test_ex1_man_turning_55_on_31_august_is_not_eligible():
    assert not eligible(birth_date=dt.date(1971, 8, 31))
    assert eligible(birth_date=dt.date(1971, 9, 1))  # still 54 on the reference date


def test_ex1_woman_one_day_short_of_50_is_eligible():
    assert eligible(male=False, birth_date=dt.date(1976, 9, 1))
    assert not eligible(male=False, birth_date=dt.date(1976, 8, 31))


def test_ex1_exactly_six_years_at_school_is_eligible_one_day_short_is_not():
    assert eligible(joined_school_on=dt.date(2020, 8, 31))
    assert not eligible(joined_school_on=dt.date(2020, 9, 1))  # 5 years 364 days


@pytest.mark.parametrize("stage", ["高中", "幼儿园", "完全中学", "职业学校", "特殊教育"])
def test_ex1_other_stages_never(stage):
    assert not eligible(stage=stage)


@pytest.mark.parametrize("stage", ["小学", "初中", "九年一贯制"])
def test_ex1_exchange_stages(stage):
    assert eligible(stage=stage)


def test_ex1_only_active_and_ex4_never_non_teaching_or_unable():
    assert not eligible(active=False)
    assert not eligible(non_teaching=True)
    assert not eligible(cannot_teach=True)


@pytest.mark.parametrize("count, minimum", [(0, 0), (1, 1), (3, 1), (10, 1), (11, 2), (20, 2), (21, 3)])
def test_ex3_minimum_is_ceiling_of_ten_percent(count, minimum):
    assert rules.minimum_to_send(count) == minimum


def test_ex2_surplus():
    assert rules.surplus(headcount=7, quota=5) == 2
    assert rules.surplus(headcount=5, quota=5) == 0
    assert rules.surplus(headcount=9, quota=None) == 0


def stint(start, end, rural=False, weak=False):
    return rules.Stint(started_on=start, ended_on=end, rural=rural, weak=weak)


def test_ex7_urban_40_year_old_for_senior_with_one_and_a_half_rural_years_misses_half_a_year():
    on = dt.date(2026, 11, 23)
    missing = rules.promotion_missing(
        urban=True, birth_date=dt.date(1986, 1, 1), target_title="高级教师", on=on,
        stints=[stint(dt.date(2020, 9, 1), dt.date(2022, 2, 28), rural=True), stint(dt.date(2022, 3, 1), None)],
    )
    assert missing == ["乡村学校任教满2年（40周岁及以下申报高级教师）：已有1.5年，还差0.5年"]


def test_ex7_first_grade_needs_one_rural_year_or_three_weak_years():
    on = dt.date(2026, 11, 23)
    kwargs = dict(urban=True, birth_date=dt.date(1990, 1, 1), target_title="一级教师", on=on)
    assert rules.promotion_missing(stints=[], **kwargs) == [
        "乡村学校任教满1年：已有0年，还差1年；或薄弱学校任教满3年：已有0年，还差3年"
    ]
    assert rules.promotion_missing(stints=[stint(dt.date(2024, 9, 1), dt.date(2025, 8, 31), rural=True)], **kwargs) == []
    assert rules.promotion_missing(stints=[stint(dt.date(2022, 9, 1), dt.date(2025, 8, 31), weak=True)], **kwargs) == []
    assert rules.promotion_missing(stints=[stint(dt.date(2022, 9, 2), dt.date(2025, 8, 31), weak=True)], **kwargs) != []


def test_ex7_over_40_senior_needs_only_the_first_grade_condition():
    on = dt.date(2026, 11, 23)
    assert rules.promotion_missing(
        urban=True, birth_date=dt.date(1985, 11, 22), target_title="高级教师", on=on,  # 41
        stints=[stint(dt.date(2010, 9, 1), dt.date(2011, 8, 31), rural=True)],
    ) == []
    assert rules.promotion_missing(
        urban=True, birth_date=dt.date(1986, 11, 23), target_title="高级教师", on=on,  # exactly 40
        stints=[stint(dt.date(2010, 9, 1), dt.date(2011, 8, 31), rural=True)],
    ) == ["乡村学校任教满2年（40周岁及以下申报高级教师）：已有1年，还差1年"]


def test_ex7_rural_teachers_and_lower_titles_need_nothing():
    on = dt.date(2026, 11, 23)
    assert rules.promotion_missing(urban=False, birth_date=dt.date(1990, 1, 1), target_title="高级教师", on=on, stints=[]) == []
    assert rules.promotion_missing(urban=True, birth_date=dt.date(1990, 1, 1), target_title="二级教师", on=on, stints=[]) == []


def test_share_comes_from_the_plan():
    assert rules.minimum_to_send(11, share=D("0.2")) == 3
