"""Exchange (rotation) rules of SPEC §5 as pure functions: no ORM import, tested without a database."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from bureau.rules import full_years
from bureau.vocabulary import TITLE_ORDER

EXCHANGE_STAGES = ("小学", "初中", "九年一贯制")
REASON_TENURE = "任职满6年"
REASON_SURPLUS = "超编学科富余"


@dataclass(frozen=True)
class ExchangeRules:
    """EX-1 and EX-3 figures; a plan copies them when it is opened, and bureau staff may change them."""

    male_age_limit: int = 55
    female_age_limit: int = 50
    tenure_years: int = 6
    min_share: Decimal = Decimal("0.10")


def reference_date(year: int) -> dt.date:
    """EX-1: the exchange year's reference date, 31 August."""
    return dt.date(year, 8, 31)


def age_limit(*, male: bool, rules: ExchangeRules) -> int:
    return rules.male_age_limit if male else rules.female_age_limit


def is_eligible(
    *,
    active: bool,
    stage: str,
    male: bool,
    birth_date: dt.date,
    joined_school_on: dt.date,
    on: dt.date,
    non_teaching: bool = False,
    cannot_teach: bool = False,
    rules: ExchangeRules = ExchangeRules(),
) -> bool:
    """EX-1 (and EX-4): active, at a 小学/初中/九年一贯制 school, under the age limit on the reference date
    (55 for men, 50 for women, in full years), and 6 or more full years at the current school."""
    if not active or stage not in EXCHANGE_STAGES or non_teaching or cannot_teach:
        return False
    return (
        full_years(birth_date, on) < age_limit(male=male, rules=rules)
        and full_years(joined_school_on, on) >= rules.tenure_years
    )


def minimum_to_send(eligible: int, *, share: Decimal = ExchangeRules.min_share) -> int:
    """EX-3: at least ceil(share × eligible) teachers (0 eligible → 0)."""
    return math.ceil(Decimal(eligible) * share)


def surplus(*, headcount: int, quota: int | None) -> int:
    """EX-2: teachers of a subject beyond the school's quota for it (0 without a quota)."""
    return max(0, headcount - quota) if quota is not None else 0


# --- EX-7: promotion prerequisite ---------------------------------------------------------------------


@dataclass(frozen=True)
class Stint:
    """A period at one school, from the posting history."""

    started_on: dt.date
    ended_on: dt.date | None
    rural: bool
    weak: bool


def full_months(start: dt.date, end_exclusive: dt.date) -> int:
    months = (end_exclusive.year - start.year) * 12 + end_exclusive.month - start.month
    if end_exclusive.day < start.day:
        months -= 1
    return max(0, months)


def months_where(stints: list[Stint], on: dt.date, *, rural: bool = False, weak: bool = False) -> int:
    total = 0
    for stint in stints:
        if (rural and not stint.rural) or (weak and not stint.weak) or stint.started_on > on:
            continue
        end = min(stint.ended_on or on, on) + dt.timedelta(days=1)
        total += full_months(stint.started_on, end)
    return total


def _years(months: int) -> str:
    value = Decimal(months) / 12
    return f"{value.quantize(Decimal('0.1')).normalize():f}"


def promotion_missing(
    *, urban: bool, birth_date: dt.date, target_title: str, on: dt.date, stints: list[Stint]
) -> list[str]:
    """EX-7: what an urban teacher still lacks for the target title (empty: nothing missing).

    一级教师 or higher: 1 year at a rural school or 3 years at a weak school.
    高级教师 or higher, aged 40 or under: 2 years at a rural school.
    """
    if not urban or target_title not in TITLE_ORDER:
        return []
    rank = TITLE_ORDER.index(target_title)
    rural = months_where(stints, on, rural=True)
    weak = months_where(stints, on, weak=True)
    missing = []
    if rank >= TITLE_ORDER.index("一级教师") and rural < 12 and weak < 36:
        missing.append(
            f"乡村学校任教满1年：已有{_years(rural)}年，还差{_years(12 - rural)}年；"
            f"或薄弱学校任教满3年：已有{_years(weak)}年，还差{_years(36 - weak)}年"
        )
    if rank >= TITLE_ORDER.index("高级教师") and full_years(birth_date, on) <= 40 and rural < 24:
        missing.append(f"乡村学校任教满2年（40周岁及以下申报高级教师）：已有{_years(rural)}年，还差{_years(24 - rural)}年")
    return missing
