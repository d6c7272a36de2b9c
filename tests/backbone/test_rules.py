"""BB-2 criteria at each edge, BB-1 expiry, working days, BB-6 ranks: without a database."""

import datetime as dt
from decimal import Decimal as D

import pytest

from backbone import rules

LEADER = rules.DEFAULT_CRITERIA["学科带头人"]
ON = rules.reference_date(2026)  # 2026-08-31


def facts(**over):
    values = dict(active=True, title="一级教师", education="本科", birth_date=dt.date(1985, 1, 1), employed_on=dt.date(2010, 9, 1))
    values.update(over)
    return rules.Facts(**values)


def test_bb2_age_45_on_the_reference_date_qualifies_46_does_not():
    assert rules.failures(facts(birth_date=dt.date(1980, 9, 1)), LEADER, tier="县级", year=2026) == []  # 45
    assert rules.failures(facts(birth_date=dt.date(1980, 8, 31)), LEADER, tier="县级", year=2026) == [
        "年龄须在45周岁及以下（2026-08-31时46周岁）"
    ]


def test_bb2_exactly_eight_years_of_teaching_qualifies():
    assert rules.failures(facts(employed_on=dt.date(2018, 8, 31)), LEADER, tier="县级", year=2026) == []
    assert rules.failures(facts(employed_on=dt.date(2018, 9, 1)), LEADER, tier="县级", year=2026) == [
        "教龄须满8年（2026-08-31时7年）"
    ]


def test_bb2_title_and_education_or_above():
    assert rules.failures(facts(title="高级教师", education="硕士研究生"), LEADER, tier="县级", year=2026) == []
    assert rules.failures(facts(title="二级教师", education="大专"), LEADER, tier="县级", year=2026) == [
        "职称须为一级教师及以上（现为二级教师）", "学历须为本科及以上（现为大专）"
    ]


def test_bb2_master_teacher_has_no_age_limit_backbone_no_degree_requirement():
    master = rules.DEFAULT_CRITERIA["教学名师"]
    assert rules.failures(facts(title="高级教师", birth_date=dt.date(1968, 1, 1), employed_on=dt.date(1990, 9, 1)), master,
                          tier="市级", year=2026) == []
    backbone = rules.DEFAULT_CRITERIA["骨干教师"]
    assert rules.failures(facts(title="二级教师", education="大专", employed_on=dt.date(2021, 8, 31)), backbone,
                          tier="县级", year=2026) == []


def test_bb2_non_compliance_veto_and_lower_tier():
    assert rules.failures(facts(non_compliant_years=(2025,)), LEADER, tier="县级", year=2026) == ["2025年度学分未达标"]
    assert rules.failures(facts(ethics_veto=True), LEADER, tier="县级", year=2026) == ["有师德一票否决记录"]
    strict = rules.Criterion(require_lower_tier=True)
    assert rules.failures(facts(), strict, tier="市级", year=2026) == ["须先获得县级同类称号"]
    assert rules.failures(facts(), strict, tier="县级", year=2026) == []
    assert rules.failures(facts(holds_lower_tier=True), strict, tier="省级", year=2026) == []


def test_bb1_expiry_is_five_years_after_award():
    assert rules.expires_on(dt.date(2026, 9, 10)) == dt.date(2031, 9, 10)
    assert rules.expires_on(dt.date(2028, 2, 29)) == dt.date(2033, 2, 28)


@pytest.mark.parametrize("start, end", [
    (dt.date(2026, 11, 23), dt.date(2026, 11, 27)),  # Monday → Friday
    (dt.date(2026, 11, 25), dt.date(2026, 12, 1)),   # Wednesday → next Tuesday
    (dt.date(2026, 11, 28), dt.date(2026, 12, 4)),   # Saturday start: first working day is Monday
])
def test_notice_of_five_working_days(start, end):
    assert rules.add_working_days(start, 5) == end


@pytest.mark.parametrize("start, end", [
    # National Day 2025: 1–8 October are holidays, Sunday 28 September and Saturday 11 October are 调休 working days.
    (dt.date(2025, 9, 26), dt.date(2025, 10, 9)),   # Fri, 调休 Sun 28th, Mon, Tue, then the 9th after the holidays
    (dt.date(2025, 10, 1), dt.date(2025, 10, 14)),  # starts in the holidays: 9th, 10th, 调休 Sat 11th, 13th, 14th
    (dt.date(2025, 10, 11), dt.date(2025, 10, 16)),  # a 调休 Saturday is a working day and counts as the first
])
def test_bb3_notice_skips_public_holidays_and_counts_working_weekends(start, end):
    assert rules.add_working_days(start, 5) == end


def test_bb3_the_state_councils_calendar_as_the_library_knows_it():
    assert not rules.is_working_day(dt.date(2025, 10, 8)) and rules.is_working_day(dt.date(2025, 10, 9))
    assert rules.is_working_day(dt.date(2025, 9, 28)) and rules.is_working_day(dt.date(2025, 10, 11))  # 调休
    assert not rules.is_working_day(dt.date(2025, 10, 12))  # an ordinary Sunday


def test_bb3_a_year_the_calendar_does_not_know_counts_monday_to_friday(monkeypatch):
    assert rules.add_working_days(dt.date(2099, 10, 1), 5) == dt.date(2099, 10, 7)  # no holidays known: Thu → Wed

    def unknown(day):
        raise NotImplementedError(f"no available data for year {day.year}")

    monkeypatch.setattr(rules.chinese_calendar, "is_workday", unknown)
    assert rules.add_working_days(dt.date(2025, 10, 1), 5) == dt.date(2025, 10, 7)


def scored(key, score, district=1, subject="语文"):
    return rules.Scored(key, D(score), district, subject)


def test_bb3_district_quotas_one_and_two_share_three_places():
    """Issue 15: with quotas 1 and 2 for two districts all three places went to the first."""
    candidates = [scored(1, "95", 1), scored(2, "90", 1), scored(3, "85", 1), scored(4, "80", 2), scored(5, "70", 2),
                  scored(6, "60", 2)]
    quotas = [rules.Quota(1, "", 1), rules.Quota(2, "", 2)]
    assert rules.shortlist(candidates, places=3, quotas=quotas) == rules.Shortlist((1, 4, 5))


def test_bb3_subject_quota_and_the_rounds_places_both_hold():
    candidates = [scored(1, "95", subject="语文"), scored(2, "94", subject="语文"), scored(3, "80", subject="数学"),
                  scored(4, "79", subject="英语"), scored(5, "78", subject="英语")]
    quotas = [rules.Quota(None, "语文", 1)]  # 数学 and 英语 have no quota: only the places hold them
    assert rules.shortlist(candidates, places=3, quotas=quotas).chosen == (1, 3, 4)
    assert rules.shortlist(candidates, places=1, quotas=quotas).chosen == (1,)
    # a subject within a district: the district's 语文 quota is 0 places left after one
    assert rules.shortlist(candidates, places=5, quotas=[rules.Quota(1, "语文", 1), rules.Quota(1, "英语", 1)]).chosen == (
        1, 3, 4)


def test_bb3_exactly_the_quota_is_taken_never_more():
    candidates = [scored(k, str(100 - k), 1) for k in range(1, 5)]
    assert rules.shortlist(candidates, places=10, quotas=[rules.Quota(1, "", 4)]).chosen == (1, 2, 3, 4)
    assert rules.shortlist(candidates, places=10, quotas=[rules.Quota(1, "", 3)]).chosen == (1, 2, 3)


def test_bb3_equal_scores_at_the_last_place_decide_nothing():
    candidates = [scored(1, "90"), scored(2, "85"), scored(3, "85"), scored(4, "70")]
    assert rules.shortlist(candidates, places=2) == rules.Shortlist((1,), tied=(2, 3))
    # the same tie where the places take both, or where neither could get a place, needs nothing
    assert rules.shortlist(candidates, places=3).chosen == (1, 2, 3)
    assert rules.shortlist([scored(1, "90"), scored(2, "70"), scored(3, "70")], places=1).chosen == (1,)


def test_bb3_equal_scores_at_a_quotas_last_place_decide_nothing():
    candidates = [scored(1, "88", 1), scored(2, "88", 1), scored(3, "80", 2)]
    result = rules.shortlist(candidates, places=3, quotas=[rules.Quota(1, "", 1)])
    assert result.tied == (1, 2)


def test_bb3_a_county_round_names_its_district_a_city_round_none():
    assert rules.round_owner_problem(tier="县级", has_district=True) is None
    assert rules.round_owner_problem(tier="市级", has_district=False) is None
    assert rules.round_owner_problem(tier="县级", has_district=False) == "县级评选须指定区县。"
    assert rules.round_owner_problem(tier="省级", has_district=True)


def test_bb6_mentor_must_outrank_mentee():
    assert rules.mentor_outranks(("市级", "骨干教师"), ("县级", "教学名师"))
    assert rules.mentor_outranks(("县级", "学科带头人"), ("县级", "骨干教师"))
    assert not rules.mentor_outranks(("县级", "骨干教师"), ("县级", "骨干教师"))
    assert rules.mentor_outranks(("县级", "骨干教师"), None)


def test_bb3_years_without_a_known_holiday_calendar_are_named():
    """A notice running into a year the library does not know yet is counted Monday to Friday there, and
    that year is named so the staff are told (a library covering it makes the list empty)."""
    assert rules.unknown_calendar_years(dt.date(2025, 9, 28), dt.date(2025, 10, 11)) == []
    assert rules.unknown_calendar_years(dt.date(2099, 12, 28), dt.date(2100, 1, 4)) == [2099, 2100]
    assert rules.calendar_known(dt.date(2026, 12, 31)) and not rules.calendar_known(dt.date(2099, 1, 1))
