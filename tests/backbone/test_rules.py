"""BB-2 criteria at each edge, BB-1 expiry, working days, BB-6 ranks: without a database."""

import datetime as dt

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


def test_bb6_mentor_must_outrank_mentee():
    assert rules.mentor_outranks(("市级", "骨干教师"), ("县级", "教学名师"))
    assert rules.mentor_outranks(("县级", "学科带头人"), ("县级", "骨干教师"))
    assert not rules.mentor_outranks(("县级", "骨干教师"), ("县级", "骨干教师"))
    assert rules.mentor_outranks(("县级", "骨干教师"), None)
