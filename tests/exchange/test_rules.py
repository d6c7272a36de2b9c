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


def test_ex1_amended_man_aged_55_on_31_august_is_eligible_56_is_not():
    """Amended: "55周岁以下" includes 55 (the test before the amendment said 55 was out)."""
    assert eligible(birth_date=dt.date(1971, 8, 31))  # 55 on the reference date
    assert not eligible(birth_date=dt.date(1970, 8, 31))  # 56 on the reference date
    assert eligible(birth_date=dt.date(1970, 9, 1))  # one day short of 56: still 55


def test_ex1_amended_woman_aged_50_is_eligible_51_is_not():
    assert eligible(male=False, birth_date=dt.date(1976, 8, 31))
    assert not eligible(male=False, birth_date=dt.date(1975, 8, 31))


def test_ex1_first_reading_kept_for_plans_opened_before_the_amendment():
    first = rules.ExchangeRules(amended=False)
    assert not eligible(birth_date=dt.date(1971, 8, 31), rules=first)
    assert eligible(birth_date=dt.date(1971, 9, 1), rules=first)
    assert not eligible(male=False, birth_date=dt.date(1976, 8, 31), rules=first)


def test_ex1_age_reason_in_chinese():
    reason = rules.ineligibility(active=True, stage="小学", male=True, birth_date=dt.date(1970, 8, 31),
                                 joined_school_on=dt.date(2015, 9, 1), on=REF)
    assert reason == "参照日年满56周岁，超过男教师55周岁的年龄上限"


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
    assert rules.surplus(headcount=7, quota=5, school_overstaffed=True) == 2
    assert rules.surplus(headcount=5, quota=5, school_overstaffed=True) == 0
    assert rules.surplus(headcount=9, quota=None, school_overstaffed=True) == 0


def stint(start, end, rural=False, weak=False):
    return rules.Stint(started_on=start, ended_on=end, rural=rural, weak=weak)


def test_ex7_urban_40_year_old_for_senior_with_one_and_a_half_rural_years_misses_half_a_year():
    on = dt.date(2026, 11, 23)
    missing = rules.promotion_missing(
        urban=True, compulsory=True, birth_date=dt.date(1986, 1, 1), target_title="高级教师", on=on,
        stints=[stint(dt.date(2020, 9, 1), dt.date(2022, 2, 28), rural=True), stint(dt.date(2022, 3, 1), None)],
    )
    assert missing == ["乡村学校任教满2年（义务教育学校40周岁及以下申报高级教师）：已有1.5年，还差0.5年"]


def test_ex7_first_grade_needs_one_rural_year_or_three_weak_years():
    on = dt.date(2026, 11, 23)
    kwargs = dict(urban=True, compulsory=True, birth_date=dt.date(1990, 1, 1), target_title="一级教师", on=on)
    assert rules.promotion_missing(stints=[], **kwargs) == [
        "乡村学校任教满1年：已有0年，还差1年；或薄弱学校任教满3年：已有0年，还差3年"
    ]
    assert rules.promotion_missing(stints=[stint(dt.date(2024, 9, 1), dt.date(2025, 8, 31), rural=True)], **kwargs) == []
    assert rules.promotion_missing(stints=[stint(dt.date(2022, 9, 1), dt.date(2025, 8, 31), weak=True)], **kwargs) == []
    assert rules.promotion_missing(stints=[stint(dt.date(2022, 9, 2), dt.date(2025, 8, 31), weak=True)], **kwargs) != []


def test_ex7_over_40_senior_needs_only_the_first_grade_condition():
    on = dt.date(2026, 11, 23)
    assert rules.promotion_missing(
        urban=True, compulsory=True, birth_date=dt.date(1985, 11, 22), target_title="高级教师", on=on,  # 41
        stints=[stint(dt.date(2010, 9, 1), dt.date(2011, 8, 31), rural=True)],
    ) == []
    assert rules.promotion_missing(
        urban=True, compulsory=True, birth_date=dt.date(1986, 11, 23), target_title="高级教师", on=on,  # exactly 40
        stints=[stint(dt.date(2010, 9, 1), dt.date(2011, 8, 31), rural=True)],
    ) == ["乡村学校任教满2年（义务教育学校40周岁及以下申报高级教师）：已有1年，还差1年"]


@pytest.mark.parametrize("compulsory, age, missing", [
    (True, 40, True),    # 初中 at 40: the two rural years are required
    (True, 41, False),   # 初中 at 41: not
    (False, 40, False),  # 高中 at 40 (amended): not, the rule is for compulsory-education schools only
    (False, 41, False),
])
def test_ex7_amended_two_rural_years_only_at_compulsory_schools(compulsory, age, missing):
    on = dt.date(2026, 11, 23)
    born = dt.date(on.year - age, on.month, on.day)
    one_rural_year = [stint(dt.date(2010, 9, 1), dt.date(2011, 8, 31), rural=True)]
    result = rules.promotion_missing(urban=True, compulsory=compulsory, birth_date=born, target_title="高级教师", on=on,
                                     stints=one_rural_year)
    assert bool(result) is missing


@pytest.mark.parametrize("location, urban", [("城区", True), ("镇区", True), ("乡村", False)])
def test_ex7_amended_town_counts_as_urban(location, urban):
    assert rules.is_urban(location) is urban


def test_ex7_rural_teachers_and_lower_titles_need_nothing():
    on = dt.date(2026, 11, 23)
    assert rules.promotion_missing(urban=False, compulsory=True, birth_date=dt.date(1990, 1, 1), target_title="高级教师",
                                   on=on, stints=[]) == []
    assert rules.promotion_missing(urban=True, compulsory=True, birth_date=dt.date(1990, 1, 1), target_title="二级教师",
                                   on=on, stints=[]) == []


def test_share_comes_from_the_plan():
    assert rules.minimum_to_send(11, share=D("0.2")) == 3


# --- EX-1 (amended): rotation in turn ---------------------------------------------------------------------

def away(start, end):
    return rules.Secondment(started_on=start, ended_on=end)


def test_ex1_exchange_ended_exactly_six_years_before_the_reference_date_is_eligible():
    assert eligible(joined_school_on=dt.date(2010, 9, 1), exchanges=[away(dt.date(2019, 9, 1), dt.date(2020, 8, 31))])


def test_ex1_exchange_ended_five_years_364_days_before_is_not():
    history = [away(dt.date(2019, 9, 2), dt.date(2020, 9, 1))]
    assert not eligible(joined_school_on=dt.date(2010, 9, 1), exchanges=history)
    reason = rules.ineligibility(active=True, stage="小学", male=True, birth_date=dt.date(1980, 1, 1),
                                 joined_school_on=dt.date(2010, 9, 1), on=REF, exchanges=history)
    assert reason == "自上次交流结束（2020-09-01）起在本校任职不满6年"


def test_ex1_on_an_exchange_on_the_reference_date_is_not_eligible():
    assert not eligible(exchanges=[away(dt.date(2025, 9, 1), dt.date(2026, 8, 31))])  # ends on the reference date
    assert not eligible(exchanges=[away(dt.date(2025, 9, 1), None)])  # open
    assert eligible(exchanges=[away(dt.date(2026, 9, 1), dt.date(2027, 8, 31))])  # starts after: not yet history


def test_ex1_exchanges_shorter_than_a_year_do_not_restart_the_count():
    short = [away(dt.date(2024, 3, 1), dt.date(2025, 2, 27))]  # one day short of a year
    assert eligible(exchanges=short)
    assert not eligible(exchanges=[away(dt.date(2024, 3, 1), dt.date(2025, 2, 28))])  # exactly a year


def test_ex1_first_reading_knows_no_rotation():
    assert eligible(exchanges=[away(dt.date(2025, 9, 1), None)], rules=rules.ExchangeRules(amended=False))


def test_ex1_tenure_counts_from_the_later_of_joining_and_the_latest_return():
    history = [away(dt.date(2012, 9, 1), dt.date(2013, 8, 31)), away(dt.date(2016, 9, 1), dt.date(2018, 8, 31))]
    assert rules.tenure_start(dt.date(2010, 9, 1), history, REF) == dt.date(2018, 8, 31)
    assert rules.tenure_start(dt.date(2019, 9, 1), history, REF) == dt.date(2019, 9, 1)


# --- EX-2 (amended): surplus only at an overstaffed school -------------------------------------------------

def test_ex2_overstaffed_is_more_active_teachers_than_the_total_quota():
    assert not rules.overstaffed(active_teachers=30, staffing_quota=30)  # exactly equal: not
    assert rules.overstaffed(active_teachers=31, staffing_quota=30)  # one over
    assert not rules.overstaffed(active_teachers=31, staffing_quota=None)


def test_ex2_no_surplus_at_a_school_that_is_not_overstaffed():
    assert rules.surplus(headcount=7, quota=5, school_overstaffed=False) == 0
    assert rules.surplus(headcount=7, quota=5, school_overstaffed=True) == 2


def test_ex2_surplus_picks_longest_at_school_first():
    candidates = [(dt.date(2020, 9, 1), "B", 2), (dt.date(2018, 9, 1), "C", 3), (dt.date(2018, 9, 1), "A", 1)]
    assert rules.surplus_picks(candidates, headcount=5, quota=3, school_overstaffed=True) == [1, 3]
    assert rules.surplus_picks(candidates, headcount=5, quota=3, school_overstaffed=False) == []
