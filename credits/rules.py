"""Credit rules of SPEC §4 (CR-1 to CR-8, CR-10) as pure functions: no ORM import, tested without a database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bureau.vocabulary import PASSING_GRADES
from bureau.workflow import Transition, transition

TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class PolicyValues:
    """CR-3: the yearly policy. Defaults are the sources' figures; bureau staff edit them per year."""

    annual_credits: Decimal = Decimal("72")
    cycle_hours: Decimal = Decimal("360")
    cycle_years: int = 5
    first_cycle_start: int = 2021
    flag_threshold: Decimal = Decimal("0.20")
    min_school_based_hours: Decimal = Decimal("16")
    min_ethics_hours: Decimal = Decimal("12")
    credits_per_hour: Decimal = Decimal("1")
    target_participation: Decimal = Decimal("1.00")
    target_pass: Decimal = Decimal("1.00")
    target_compliance: Decimal = Decimal("0.90")
    claim_max_wait_days: int = 7
    # CR-3 (amended): the most credits a year that count from self-study (师本) and from 网络研修 rows
    # (None: no cap), and the most hours one day of submitted school-based or self-study hours may hold.
    self_study_cap: Decimal | None = Decimal("24")
    online_cap: Decimal | None = None
    daily_hours_limit: Decimal = Decimal("8")


@dataclass(frozen=True)
class Posting:
    """What one ledger row for a result should hold."""

    entry_date: dt.date
    hours: Decimal
    credits: Decimal


def money(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def project_credits(*, hours: Decimal, credits: Decimal | None, credits_per_hour: Decimal) -> Decimal:
    """A project's credits: as set, or hours × the policy's credits per hour when left blank (SPEC §3)."""
    return money(credits if credits is not None else hours * credits_per_hour)


def result_posting(
    *,
    grade: str,
    completed_on: dt.date | None,
    project_hours: Decimal,
    project_credits: Decimal,
    certified_hours: Decimal | None,
) -> Posting | None:
    """CR-1: 优秀 or 合格 posts one row dated on the completion date; 不合格 and 未完成 post nothing.

    With certified hours, credits = certified hours × (project credits / project hours).
    """
    if grade not in PASSING_GRADES or completed_on is None:
        return None
    if certified_hours is None:
        return Posting(completed_on, money(project_hours), money(project_credits))
    if project_hours == 0:
        return Posting(completed_on, money(certified_hours), money(project_credits))
    return Posting(completed_on, money(certified_hours), money(certified_hours * project_credits / project_hours))


def cycle_start_year(year: int, *, first_cycle_start: int, cycle_years: int) -> int:
    """CR-3/CR-6: cycles run first_cycle_start … +cycle_years-1, then the next one (2021–2025, 2026–2030…)."""
    return first_cycle_start + ((year - first_cycle_start) // cycle_years) * cycle_years


def is_subject_to_check(*, status: str, employed_on: dt.date, year: int, exempt: bool) -> bool:
    """CR-4: 在职, first employed on or before 1 January of the year, and not exempted for it."""
    return status == "在职" and employed_on <= dt.date(year, 1, 1) and not exempt


# How the ledger marks the rows the CR-3 caps apply to (credits.models.Source, bureau.choices.Mode).
SELF_STUDY_SOURCE = "self_study"
ONLINE_MODE = "网络研修"


def cap_kind(*, source: str, mode: str) -> str | None:
    """CR-3: which cap a ledger row counts against: "self_study" (source 自主研修/师本), "online" (mode
    网络研修), or None. A row is under one cap at most: a self-study row is never also an online one."""
    if source == SELF_STUDY_SOURCE:
        return "self_study"
    if mode == ONLINE_MODE:
        return "online"
    return None


def over_cap(amount: Decimal, cap: Decimal | None) -> Decimal:
    """CR-3: the part of a year's credits of one capped kind above its cap; nothing without a cap.

    `amount` is the sum of the kind's rows, reversals included, so a reversal lowers it first."""
    if cap is None or amount <= cap:
        return Decimal("0")
    return amount - cap


@dataclass(frozen=True)
class AnnualCredits:
    """CR-5: a year's credits as recorded in the ledger and as counted after the CR-3 caps."""

    recorded: Decimal  # every ledger row of the year, reversals included
    self_study: Decimal  # of which self-study (师本) rows
    online: Decimal  # of which 网络研修 rows
    self_study_over: Decimal  # above the self-study cap: recorded, not counted
    online_over: Decimal  # above the 网络研修 cap: recorded, not counted

    @property
    def uncounted(self) -> Decimal:
        """超出上限未计: recorded credits the caps leave out."""
        return self.self_study_over + self.online_over

    @property
    def counted(self) -> Decimal:
        """The year's credits for CR-5: recorded less any excess over the caps."""
        return self.recorded - self.uncounted


def annual_credits(*, recorded: Decimal, self_study: Decimal, online: Decimal, policy: PolicyValues) -> AnnualCredits:
    """CR-5: annual credits = the year's ledger credits (reversals included) less any excess over the
    CR-3 caps; the rows stay in the ledger, only the excess is not counted."""
    return AnnualCredits(
        recorded=recorded, self_study=self_study, online=online,
        self_study_over=over_cap(self_study, policy.self_study_cap),
        online_over=over_cap(online, policy.online_cap),
    )


def annual_credits_of_rows(rows: Iterable[tuple[str, str, Decimal]], policy: PolicyValues) -> AnnualCredits:
    """CR-5 over one year's ledger rows given as (source, mode, credits): the transcript's figures, and
    what credits.compliance computes in the database (a test shows that they agree)."""
    recorded = self_study = online = Decimal("0")
    for source, mode, credits in rows:
        recorded += credits
        kind = cap_kind(source=source, mode=mode)
        if kind == "self_study":
            self_study += credits
        elif kind == "online":
            online += credits
    return annual_credits(recorded=recorded, self_study=self_study, online=online, policy=policy)


def daily_hours_refusal(*, day: dt.date, already: Decimal, adding: Decimal, limit: Decimal) -> str | None:
    """CR-10: a day of submitted school-based or self-study hours may hold at most the policy's daily limit,
    counting what the teacher already submitted for that day (pending or approved). The reason, or None."""
    if already + adding <= limit:
        return None
    day_text = day.isoformat()
    if already == 0:
        return f"{day_text} 申报 {_figure(adding)} 学时，超过每日上限 {_figure(limit)} 学时。"
    return (f"{day_text} 已申报 {_figure(already)} 学时，加上本次 {_figure(adding)} 学时共 {_figure(already + adding)} 学时，"
            f"超过每日上限 {_figure(limit)} 学时。")


def _figure(value: Decimal) -> str:
    """A figure as people write it: 8, 8.5 (no trailing zeros)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def is_compliant(*, annual_credits: Decimal, requirement: Decimal) -> bool:
    """CR-5: compliant when the year's counted credits (reversals included, excess over the caps left
    out: annual_credits) reach the requirement."""
    return annual_credits >= requirement


def ethics_met(*, ethics_hours: Decimal, policy: PolicyValues, subject: bool) -> bool | None:
    """CR-5 (amended) 师德达标: the year's ethics hours reach the policy's minimum (≥). None (blank) for a
    teacher not subject to the check (CR-4). It decides neither 达标 nor the CR-7 flag."""
    return ethics_hours >= policy.min_ethics_hours if subject else None


def school_based_met(*, school_hours: Decimal, policy: PolicyValues, subject: bool) -> bool | None:
    """CR-5 (amended) 校本达标: the year's school-based hours reach the policy's minimum (≥). None (blank)
    for a teacher not subject to the check (CR-4). It decides neither 达标 nor the CR-7 flag."""
    return school_hours >= policy.min_school_based_hours if subject else None


def cycle_years_through(year: int, *, policy: PolicyValues) -> list[int]:
    """CR-6: the years of the cycle that contains `year`, from its start through `year`."""
    start = cycle_start_year(year, first_cycle_start=policy.first_cycle_start, cycle_years=policy.cycle_years)
    return list(range(start, year + 1))


def is_cycle_last_year(year: int, *, policy: PolicyValues) -> bool:
    """CR-6: `year` is the last year of its cycle (2025 of 2021–2025)."""
    start = cycle_start_year(year, first_cycle_start=policy.first_cycle_start, cycle_years=policy.cycle_years)
    return year == start + policy.cycle_years - 1


def cycle_requirement(*, subject_years: int, policy: PolicyValues) -> int:
    """CR-6 (amended) 周期应完成学时: the policy's cycle hours × the years of the cycle (its start through
    Y) in which the teacher is subject to CR-4 ÷ the cycle length, rounded to whole hours half up
    (37.5 → 38). A teacher first subject in the third year of a 5-year cycle owes 3/5 × 360 = 216 at
    its end. credits.compliance computes the same figure in the database (a test shows they agree)."""
    exact = policy.cycle_hours * subject_years / policy.cycle_years
    return int(exact.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def cycle_met(*, year: int, cycle_hours: Decimal, requirement: int, policy: PolicyValues) -> bool | None:
    """CR-6 (amended) 周期达标: in the cycle's last year, cycle hours ≥ 周期应完成学时; blank (None) in
    the other years."""
    if not is_cycle_last_year(year, policy=policy):
        return None
    return cycle_hours >= requirement


def yes_no(value: bool | None) -> str:
    """是 / 否 as the workbook writes a verdict; blank for None."""
    return "" if value is None else ("是" if value else "否")


def hours_text(value: Decimal) -> str:
    """Hours as people write them: 4, 4.5 (no trailing zeros)."""
    return _figure(value)


def school_flagged(*, short: int, subject: int, threshold: Decimal) -> bool:
    """CR-7: flagged when the non-compliant share is at or above the threshold (≥, not >); none subject: no."""
    if subject == 0:
        return False
    return Decimal(short) >= threshold * subject


# 学时申报: submitted by the teacher ("submit" creates it), decided once by the principal.
SUBMISSION_TRANSITIONS: dict[str, Transition] = {
    "approve": transition({"submitted"}, "approved", "通过"),
    "reject": transition({"submitted"}, "rejected", "退回", needs_reason=True),
}


# 补报 (CR-9 amended): a posting dated in a closed year waits for bureau staff. "request"/"update" are
# the ledger's (credits.posting), "withdraw" when its source no longer wants it; bureau staff decide it
# once, a refusal with a reason (an approval's reason is optional and recorded).
AMENDMENT_TRANSITIONS: dict[str, Transition] = {
    "approve": transition({"pending"}, "approved", "通过补报", roles={"bureau"}),
    "refuse": transition({"pending"}, "refused", "拒绝补报", roles={"bureau"}, needs_reason=True),
    "withdraw": transition({"pending"}, "withdrawn", "撤回补报"),
}


# 免考核 (CR-4): requested by the school ("request" creates it), or granted directly by district or
# bureau staff ("grant" creates it granted); a request is decided once. Only granted exempts anyone.
EXEMPTION_TRANSITIONS: dict[str, Transition] = {
    "grant": transition({"requested"}, "granted", "批准免考核", roles={"district", "bureau"}),
    "refuse": transition({"requested"}, "refused", "不予免考核", roles={"district", "bureau"}, needs_reason=True),
}


# --- CR-11 duplicate recognition claims -------------------------------------------------------------


@dataclass(frozen=True)
class ClaimFacts:
    """What a recognition claim says about the training (CR-11): blank codes are not compared."""

    project_code: str
    certificate_no: str
    organiser: str
    started_on: dt.date
    ended_on: dt.date


@dataclass(frozen=True)
class PriorRecord:
    """Something the teacher already has: a live ledger row (kind "ledger": its date on both ends, no
    organiser or certificate) or another approved claim (kind "claim")."""

    kind: str
    record_id: int
    project_code: str
    certificate_no: str
    organiser: str
    started_on: dt.date
    ended_on: dt.date
    hours: Decimal
    source: str = ""


@dataclass(frozen=True)
class DuplicateMatch:
    record: PriorRecord
    reasons: tuple[str, ...]  # in words: 项目编号相同, 证书编号相同, 主办单位相同且培训日期重叠


def _norm(text: str) -> str:
    """Codes and organisers compare without case, surrounding or inner blanks (全角 spaces included)."""
    return "".join((text or "").split()).casefold()


def dates_overlap(a_start: dt.date, a_end: dt.date, b_start: dt.date, b_end: dt.date) -> bool:
    """Closed ranges share at least one day (one day in common is an overlap; adjacent ranges are not)."""
    return a_start <= b_end and b_start <= a_end


def claim_duplicates(claim: ClaimFacts, records: Iterable[PriorRecord]) -> list[DuplicateMatch]:
    """CR-11: the prior records the claim matches, each with why: the same project code or certificate
    number (when the claim gives one), or the same organiser with overlapping training dates."""
    code, cert, organiser = _norm(claim.project_code), _norm(claim.certificate_no), _norm(claim.organiser)
    matches = []
    for record in records:
        reasons = []
        if code and _norm(record.project_code) == code:
            reasons.append("项目编号相同")
        if cert and _norm(record.certificate_no) == cert:
            reasons.append("证书编号相同")
        if organiser and _norm(record.organiser) == organiser and dates_overlap(
                claim.started_on, claim.ended_on, record.started_on, record.ended_on):
            reasons.append("主办单位相同且培训日期重叠")
        if reasons:
            matches.append(DuplicateMatch(record, tuple(reasons)))
    return matches


# --- CR-12 appeals (申诉): the 30-day window -----------------------------------------------------------

APPEAL_WINDOW_DAYS = 30


def appeal_deadline(since: dt.date) -> dt.date:
    """CR-12: the last day a teacher may appeal something dated `since` (that day is day 0): the 30th day
    after it is still in time, the 31st is not."""
    return since + dt.timedelta(days=APPEAL_WINDOW_DAYS)


def appeal_open(*, since: dt.date, today: dt.date) -> bool:
    """CR-12: whether an appeal against something dated `since` may still be filed on `today`."""
    return today <= appeal_deadline(since)
