"""Backbone-teacher rules of SPEC §6 as pure functions: no ORM import, tested without a database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bureau.rules import full_years
from bureau.vocabulary import EDUCATION_ORDER, TITLE_ORDER
from bureau.workflow import Transition, transition

TIERS = ("县级", "市级", "省级")  # ascending
TYPES = ("骨干教师", "学科带头人", "教学名师")  # ascending
VALIDITY_YEARS = 5
EXPIRY_NOTICE_DAYS = 90


def reference_date(year: int) -> dt.date:
    """BB-2: ages and years of teaching are full years on 31 August of the round's year."""
    return dt.date(year, 8, 31)


@dataclass(frozen=True)
class Criterion:
    """BB-2: one tier × type's requirements; None means no requirement."""

    min_title: str | None = None
    min_education: str | None = None
    max_age: int | None = None
    min_teaching_years: int | None = None
    require_lower_tier: bool = False


DEFAULT_CRITERIA = {
    "教学名师": Criterion(min_title="高级教师", min_education="本科", min_teaching_years=10),
    "学科带头人": Criterion(min_title="一级教师", min_education="本科", max_age=45, min_teaching_years=8),
    "骨干教师": Criterion(min_title="二级教师", max_age=45, min_teaching_years=5),
}


@dataclass(frozen=True)
class Facts:
    """What the check reads about a teacher."""

    active: bool
    title: str
    education: str
    birth_date: dt.date
    employed_on: dt.date
    non_compliant_years: tuple[int, ...] = ()  # of the two previous years
    ethics_veto: bool = False
    holds_lower_tier: bool = False


def failures(facts: Facts, criterion: Criterion, *, tier: str, year: int) -> list[str]:
    """Which criteria fail (Chinese, for the teacher); empty when the teacher qualifies."""
    on = reference_date(year)
    problems = []
    if not facts.active:
        problems.append("非在职教师")
    if criterion.min_title and TITLE_ORDER.index(facts.title) < TITLE_ORDER.index(criterion.min_title):
        problems.append(f"职称须为{criterion.min_title}及以上（现为{facts.title}）")
    if criterion.min_education and EDUCATION_ORDER.index(facts.education) < EDUCATION_ORDER.index(criterion.min_education):
        problems.append(f"学历须为{criterion.min_education}及以上（现为{facts.education}）")
    age = full_years(facts.birth_date, on)
    if criterion.max_age is not None and age > criterion.max_age:
        problems.append(f"年龄须在{criterion.max_age}周岁及以下（{on:%Y-%m-%d}时{age}周岁）")
    years = full_years(facts.employed_on, on)
    if criterion.min_teaching_years is not None and years < criterion.min_teaching_years:
        problems.append(f"教龄须满{criterion.min_teaching_years}年（{on:%Y-%m-%d}时{years}年）")
    for bad_year in sorted(facts.non_compliant_years):
        problems.append(f"{bad_year}年度学分未达标")
    if facts.ethics_veto:
        problems.append("有师德一票否决记录")
    if criterion.require_lower_tier and tier != TIERS[0] and not facts.holds_lower_tier:
        problems.append(f"须先获得{TIERS[TIERS.index(tier) - 1]}同类称号")
    return problems


def expires_on(awarded_on: dt.date) -> dt.date:
    """BB-1: a title is valid for five years from the award."""
    try:
        return awarded_on.replace(year=awarded_on.year + VALIDITY_YEARS)
    except ValueError:
        return awarded_on.replace(year=awarded_on.year + VALIDITY_YEARS, day=28)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days (Monday to Friday) after `start`: the last day of a notice period
    that starts on `start` (counted as its first day when it is a working day)."""
    current = start
    counted = 1 if start.weekday() < 5 else 0
    while counted < days:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            counted += 1
    return current


def rank(tier: str, type_: str) -> tuple[int, int]:
    return TIERS.index(tier), TYPES.index(type_)


def mentor_outranks(mentor: tuple[str, str], mentee: tuple[str, str] | None) -> bool:
    """BB-6: the mentor holds a higher tier, or the same tier and a higher type, than the mentee (if any)."""
    if mentee is None:
        return True
    return rank(*mentor) > rank(*mentee)


# --- The backbone workflows (BB-3, BB-4, BB-5): action -> allowed from-states, to-state, label ---------

# A round is opened ("open") by bureau staff; then notice, review, selection and award, in this order.
ROUND_TRANSITIONS: dict[str, Transition] = {
    "start_notice": transition({"open"}, "notice", "发布公示"),
    "start_review": transition({"notice"}, "review", "组织评审"),
    "select": transition({"review"}, "training", "评审"),
    "award": transition({"training"}, "awarded", "认定"),
}

# A teacher applies ("apply"); the school decides; the round's review and award move the candidates. An
# objection during the notice is recorded on the application without changing its state.
APPLICATION_TRANSITIONS: dict[str, Transition] = {
    "recommend": transition({"applied"}, "recommended", "学校推荐"),
    "not_recommend": transition({"applied"}, "not_recommended", "学校不推荐"),
    "shortlist": transition({"recommended"}, "shortlisted", "评审入围"),
    "not_select": transition({"recommended"}, "not_selected", "未入选"),
    "award": transition({"shortlisted"}, "awarded", "认定"),
}

# An entry is created active by the round's award ("award"); only an active entry changes.
ROSTER_TRANSITIONS: dict[str, Transition] = {
    "revoke": transition({"active"}, "revoked", "年度考核不合格，撤销称号"),
    "lapse": transition({"active"}, "lapsed", "到期失效"),
    "stop_allowance": transition({"active"}, "active", "调离认定学校，停发津贴"),
}
