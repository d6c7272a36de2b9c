"""Credit rules of SPEC §4 (CR-1 to CR-8) as pure functions: no ORM import, tested without a database."""

from __future__ import annotations

import datetime as dt
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


def is_compliant(*, annual_credits: Decimal, requirement: Decimal) -> bool:
    """CR-5: compliant when the year's credits (reversals included) reach the requirement."""
    return annual_credits >= requirement


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


# 免考核 (CR-4): requested by the school ("request" creates it), or granted directly by district or
# bureau staff ("grant" creates it granted); a request is decided once. Only granted exempts anyone.
EXEMPTION_TRANSITIONS: dict[str, Transition] = {
    "grant": transition({"requested"}, "granted", "批准免考核", roles={"district", "bureau"}),
    "refuse": transition({"requested"}, "refused", "不予免考核", roles={"district", "bureau"}, needs_reason=True),
}
