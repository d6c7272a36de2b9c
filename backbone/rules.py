"""Backbone-teacher rules of SPEC §6 as pure functions: no ORM import, tested without a database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import chinese_calendar

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


def is_working_day(day: dt.date) -> bool:
    """BB-3 (amended): a working day of the State Council's calendar: its public holidays are not, its 调休
    working weekends are. For a year the calendar library does not know yet (it raises
    NotImplementedError), Monday to Friday."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def calendar_known(day: dt.date) -> bool:
    """Whether the State Council's calendar for the year of `day` is known to the library (a new year's
    holidays are announced late in the year before; the library follows in its next release)."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def unknown_calendar_years(start: dt.date, end: dt.date) -> list[int]:
    """The years between `start` and `end` (both included) whose holidays are not known: working days
    there were counted Monday to Friday, and the staff are told so."""
    return [year for year in range(start.year, end.year + 1) if not calendar_known(dt.date(year, 6, 1))]


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start`: the last day of a notice period that starts on `start`
    (counted as its first day when it is a working day)."""
    current = start
    counted = 1 if is_working_day(start) else 0
    while counted < days:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            counted += 1
    return current


@dataclass(frozen=True)
class Scored:
    """A candidate of the review: who (key), the score, and the units a quota may name."""

    key: int
    score: Decimal
    district: int | None
    subject: str


@dataclass(frozen=True)
class Quota:
    """Places of a unit (BB-3): a district, a subject, or a subject within a district."""

    district: int | None
    subject: str
    places: int

    def covers(self, candidate: Scored) -> bool:
        return (self.district is None or self.district == candidate.district) and (
            not self.subject or self.subject == candidate.subject)


@dataclass(frozen=True)
class Shortlist:
    chosen: tuple[int, ...]  # keys, best first
    tied: tuple[int, ...] = ()  # keys of equal score that the places cannot all take (nothing decided then)


def shortlist(candidates: Sequence[Scored], *, places: int, quotas: Sequence[Quota] = ()) -> Shortlist:
    """BB-3 (amended): highest scores first; a candidate is shortlisted while the round has places left and
    every quota that covers the candidate has places left, so no unit ever gets more than its quota and the
    round never more than its places. A unit without a quota is held only by the round's places.

    Equal scores: when the candidates of one score cannot all be taken (a place or a quota would run out
    among them), nothing is decided and they are returned as `tied`: the reviewers break the tie and
    change a score. A tie that every place can take, or none, decides nothing and needs nothing."""
    used = [0] * len(quotas)
    chosen: list[int] = []
    ordered = sorted(candidates, key=lambda c: (-c.score, c.key))
    position = 0
    while position < len(ordered):
        score = ordered[position].score
        group = [c for c in ordered[position:] if c.score == score]
        position += len(group)
        fits = [c for c in group if len(chosen) < places
                and all(used[i] < q.places for i, q in enumerate(quotas) if q.covers(c))]
        over_places = len(chosen) + len(fits) > places
        over_quota = any(used[i] + sum(q.covers(c) for c in fits) > q.places for i, q in enumerate(quotas))
        if over_places or over_quota:
            return Shortlist(tuple(chosen), tied=tuple(c.key for c in fits))
        for candidate in fits:
            chosen.append(candidate.key)
            for i, q in enumerate(quotas):
                used[i] += q.covers(candidate)
    return Shortlist(tuple(chosen))


def round_owner_problem(*, tier: str, has_district: bool) -> str | None:
    """BB-3 (amended): a county (县级) round belongs to one district; a city or province round to none."""
    if tier == TIERS[0] and not has_district:
        return "县级评选须指定区县。"
    if tier != TIERS[0] and has_district:
        return "市级、省级评选由市教育局组织，不指定区县。"
    return None


def rank(tier: str, type_: str) -> tuple[int, int]:
    return TIERS.index(tier), TYPES.index(type_)


def mentor_outranks(mentor: tuple[str, str], mentee: tuple[str, str] | None) -> bool:
    """BB-6: the mentor holds a higher tier, or the same tier and a higher type, than the mentee (if any)."""
    if mentee is None:
        return True
    return rank(*mentor) > rank(*mentee)


# --- The backbone workflows (BB-3, BB-4, BB-5): action -> allowed from-states, to-state, label ---------

# A round is opened ("open") by the staff who run it (bureau staff; a district's staff for its county
# rounds); then notice, review, selection (the shortlisted become trainees) and award, in this order.
ROUND_TRANSITIONS: dict[str, Transition] = {
    "start_notice": transition({"open"}, "notice", "发布公示"),
    "start_review": transition({"notice"}, "review", "组织评审"),
    "select": transition({"review"}, "training", "确定入围名单"),
    "award": transition({"training"}, "awarded", "认定"),
}

# A teacher applies ("apply"); the school decides; the review makes trainees (培养对象), the training
# assessment passes or drops them, the award takes those who passed. An objection is recorded on the
# application without changing its state and holds it until resolved; an upheld one disqualifies it.
APPLICATION_TRANSITIONS: dict[str, Transition] = {
    "recommend": transition({"applied"}, "recommended", "学校推荐"),
    "not_recommend": transition({"applied"}, "not_recommended", "学校不推荐"),
    "shortlist": transition({"recommended"}, "trainee", "入围培养对象"),
    "not_select": transition({"recommended"}, "not_selected", "未入选"),
    "pass_training": transition({"trainee"}, "passed", "培养考核合格"),
    "drop": transition({"trainee"}, "dropped", "培养考核不合格，淘汰", needs_reason=True),
    "disqualify": transition({"recommended", "trainee", "passed"}, "disqualified", "异议成立，取消资格",
                             needs_reason=True),
    "award": transition({"passed"}, "awarded", "认定"),
}

# An entry is created active by the round's award ("award"); only an active entry changes. A holder
# awarded the same tier and type again before expiry: the old entry ends as re-awarded (BB-5).
ROSTER_TRANSITIONS: dict[str, Transition] = {
    "revoke": transition({"active"}, "revoked", "年度考核不合格，撤销称号"),
    "lapse": transition({"active"}, "lapsed", "到期失效"),
    "stop_allowance": transition({"active"}, "active", "调离认定学校，停发津贴"),
    "reaward": transition({"active"}, "reawarded", "重新认定"),
}
