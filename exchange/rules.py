"""Exchange (rotation) rules of SPEC §5 as pure functions: no ORM import, tested without a database."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from bureau.rules import full_years
from bureau.vocabulary import TITLE_ORDER

EXCHANGE_STAGES = ("小学", "初中", "九年一贯制")
# EX-7: the compulsory-education stages (the 40-or-under rule applies only there) and 城镇 (城区 and 镇区).
COMPULSORY_STAGES = EXCHANGE_STAGES
URBAN_LOCATIONS = ("城区", "镇区")
REASON_TENURE = "任职满6年"
REASON_SURPLUS = "超编学科富余"


@dataclass(frozen=True)
class ExchangeRules:
    """EX-1 and EX-3 figures; a plan copies them when it is opened, and bureau staff may change them.

    `amended` is the reading of EX-1/EX-2 in force since issue 15: ages inclusive (55周岁以下 includes 55),
    rotation in turn (the 6 years count from the end of the latest exchange; a teacher on one, or back
    within 6 years, is out), surplus only at an overstaffed school. Plans opened before it keep the first
    reading (amended False: ages exclusive, no rotation, surplus at any school), so their figures stay.
    """

    male_age_limit: int = 55
    female_age_limit: int = 50
    tenure_years: int = 6
    min_share: Decimal = Decimal("0.10")
    amended: bool = True


def reference_date(year: int) -> dt.date:
    """EX-1: the exchange year's reference date, 31 August."""
    return dt.date(year, 8, 31)


def age_limit(*, male: bool, rules: ExchangeRules) -> int:
    return rules.male_age_limit if male else rules.female_age_limit


def within_age(age: int, *, male: bool, rules: ExchangeRules) -> bool:
    """EX-1 (amended): "55周岁以下" includes 55, as BB-2 reads "45周岁以下"; the first reading excluded it."""
    limit = age_limit(male=male, rules=rules)
    return age <= limit if rules.amended else age < limit


@dataclass(frozen=True)
class Secondment:
    """An exchange posting (交流、支教、协作) from the posting history."""

    started_on: dt.date
    ended_on: dt.date | None


def lasts_a_year(posting: Secondment) -> bool:
    """One year or more: 1 September to 31 August of the next year is a year (the day after the end
    reaches the first anniversary of the start)."""
    return posting.ended_on is not None and full_years(posting.started_on, posting.ended_on + dt.timedelta(days=1)) >= 1


def on_exchange(postings: Iterable[Secondment], on: dt.date) -> bool:
    """EX-1 (amended): an exchange posting covers the reference date (started by then, not ended before it)."""
    return any(p.started_on <= on and (p.ended_on is None or p.ended_on >= on) for p in postings)


def latest_return(postings: Iterable[Secondment], on: dt.date) -> dt.date | None:
    """The end of the latest exchange posting of one year or more that ended before `on` (postings
    starting after `on` are not yet history)."""
    ends = [p.ended_on for p in postings if p.started_on <= on and p.ended_on is not None and p.ended_on < on
            and lasts_a_year(p)]
    return max(ends, default=None)


def tenure_start(joined_school_on: dt.date, postings: Iterable[Secondment], on: dt.date) -> dt.date:
    """EX-1 (amended): the 6 years count from the later of 入校日期 and the end of the latest exchange
    posting of one year or more."""
    back = latest_return(postings, on)
    return max(joined_school_on, back) if back else joined_school_on


def rotation_barred(postings: Iterable[Secondment], on: dt.date, rules: ExchangeRules) -> bool:
    """EX-1 (amended): on an exchange on the reference date, or back from one for less than 6 full years
    (the 6th anniversary of the end falling on or before the reference date counts). Such a teacher is
    neither eligible nor in the EX-3 base; the first reading knew no such bar."""
    if not rules.amended:
        return False
    postings = tuple(postings)
    if on_exchange(postings, on):
        return True
    back = latest_return(postings, on)
    return back is not None and full_years(back, on) < rules.tenure_years


def ineligibility(
    *,
    active: bool,
    stage: str,
    male: bool,
    birth_date: dt.date,
    joined_school_on: dt.date,
    on: dt.date,
    non_teaching: bool = False,
    cannot_teach: bool = False,
    exchanges: Iterable[Secondment] = (),
    rules: ExchangeRules = ExchangeRules(),
) -> str | None:
    """EX-1 (and EX-4) by tenure: why a teacher is not eligible on the reference date `on`, in Chinese;
    None when eligible. (EX-2 surplus is decided per school and subject, see the selectors.)"""
    exchanges = tuple(exchanges) if rules.amended else ()
    if not active:
        return "不是在职教师"
    if stage not in EXCHANGE_STAGES:
        return f"所在学校学段为{stage}，交流轮岗限小学、初中、九年一贯制学校"
    if non_teaching:
        return "属于非教学人员"
    if cannot_teach:
        return "目前暂不能任教"
    age = full_years(birth_date, on)
    if not within_age(age, male=male, rules=rules):
        limit = age_limit(male=male, rules=rules)
        return f"参照日年满{age}周岁，超过{'男' if male else '女'}教师{limit}周岁的年龄上限" if rules.amended else (
            f"参照日年满{age}周岁，未在{'男' if male else '女'}教师{limit}周岁以下")
    if on_exchange(exchanges, on):
        return "参照日正在交流中"
    start = tenure_start(joined_school_on, exchanges, on)
    if full_years(start, on) < rules.tenure_years:
        since = "上次交流结束" if start != joined_school_on else "入校"
        return f"自{since}（{start:%Y-%m-%d}）起在本校任职不满{rules.tenure_years}年"
    return None


def is_eligible(**kwargs) -> bool:
    """EX-1 (and EX-4): active, at a 小学/初中/九年一贯制 school, not a non-teaching or unable teacher, aged
    55 or under for men and 50 or under for women on the reference date (in full years, inclusive), not on
    an exchange on that date, and 6 or more full years at the current school counted from the later of
    入校日期 and the end of the latest exchange of one year or more. Arguments as `ineligibility`."""
    return ineligibility(**kwargs) is None


def overstaffed(*, active_teachers: int, staffing_quota: int | None) -> bool:
    """EX-2 (amended): 超编 is more active teachers than the school's total 编制数 (none without one)."""
    return staffing_quota is not None and active_teachers > staffing_quota


def minimum_to_send(eligible: int, *, share: Decimal = ExchangeRules.min_share) -> int:
    """EX-3: at least ceil(share × eligible) teachers (0 eligible → 0)."""
    return math.ceil(Decimal(eligible) * share)


def surplus(*, headcount: int, quota: int | None, school_overstaffed: bool) -> int:
    """EX-2: teachers of a subject beyond the school's quota for it (0 without a quota); (amended) only at
    an overstaffed school."""
    if not school_overstaffed or quota is None:
        return 0
    return max(0, headcount - quota)


def surplus_picks(candidates: list[tuple[dt.date, str, int]], *, headcount: int, quota: int | None,
                  school_overstaffed: bool) -> list[int]:
    """EX-2: of one school's teachers of one subject, the surplus ones: the `surplus` count taken from the
    candidates (counted-from date, 工号, id), longest at the school first. Teachers barred by rotation
    (EX-1 amended) count in the headcount but are not candidates."""
    count = surplus(headcount=headcount, quota=quota, school_overstaffed=school_overstaffed)
    return [pk for _, _, pk in sorted(candidates)[:count]]


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


def is_urban(location: str) -> bool:
    """EX-7 (amended): 城镇 is 城区 and 镇区."""
    return location in URBAN_LOCATIONS


def promotion_missing(
    *, urban: bool, birth_date: dt.date, target_title: str, on: dt.date, stints: list[Stint], compulsory: bool
) -> list[str]:
    """EX-7: what a town or city (城镇) teacher still lacks for the target title (empty: nothing missing).

    一级教师 or higher: 1 year at a rural school or 3 years at a weak school.
    高级教师 or higher, aged 40 or under on `on`, at a compulsory-education school (小学, 初中, 九年一贯制;
    `compulsory`): 2 years at a rural school (amended: not at senior high schools).
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
    if (compulsory and rank >= TITLE_ORDER.index("高级教师") and full_years(birth_date, on) <= 40
            and rural < 24):
        missing.append(f"乡村学校任教满2年（义务教育学校40周岁及以下申报高级教师）：已有{_years(rural)}年，"
                       f"还差{_years(24 - rural)}年")
    return missing
