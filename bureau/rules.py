"""Pure rules of the organisation part of the SPEC: no ORM import, tested without a database."""

from __future__ import annotations

import datetime as dt
import re

from stdnum.cn import ric

_ID_FORMAT = re.compile(r"^\d{17}[\dX]$")


class IdNumberError(ValueError):
    """A 身份证号 that fails GB 11643; the message is the Chinese reason shown to users."""


def normalize_id_number(value: str) -> str:
    return value.strip().replace(" ", "").upper()


def check_id_number(number: str, *, birth_date: dt.date | None, male: bool | None) -> str:
    """SPEC §7 teachers.xlsx: a given 身份证号 passes the GB 11643 checksum and agrees with 出生日期 and 性别.

    Returns the normalised number. The region code is not looked up: codes change with administrative
    reforms and a number issued under an old code stays valid.
    """
    number = normalize_id_number(number)
    if len(number) != 18:
        raise IdNumberError(f"应为18位，实为{len(number)}位")
    if not _ID_FORMAT.match(number):
        raise IdNumberError("格式错误：前17位应为数字，末位为数字或X")
    expected = ric.calc_check_digit(number)
    if number[-1] != expected:
        raise IdNumberError(f"校验位错误，应为 {expected}")
    try:
        encoded_birth = ric.get_birth_date(number)
    except ric.ValidationError:
        raise IdNumberError("其中的出生日期不是有效日期") from None
    if birth_date is not None and encoded_birth != birth_date:
        raise IdNumberError(f"与出生日期不符（身份证为 {encoded_birth:%Y-%m-%d}）")
    if male is not None and id_number_is_male(number) != male:
        raise IdNumberError("与性别不符")
    return number


def id_number_is_male(number: str) -> bool:
    """GB 11643: the 17th digit (sequence code) is odd for men, even for women."""
    return int(number[16]) % 2 == 1


def mask_id_number(number: str | None) -> str:
    """SEC-3 (amended): the first and the last character shown, the rest starred (4****************0).

    The first 6 and last 4 beside the birth date, which pages show, gave the whole number back: the
    middle 8 digits are the birth date and only 3 serial digits stayed hidden, which the check digit
    narrows to one."""
    if not number:
        return ""
    if len(number) <= 2:
        return "*" * len(number)
    return number[0] + "*" * (len(number) - 2) + number[-1]


def status_change_problem(*, effective_on: dt.date, latest: dt.date | None, today: dt.date) -> str | None:
    """CR-7 (amended): why a status change may not take effect on `effective_on`, or None.

    Not in the future (the status on record is the status now), and never before the teacher's last
    recorded change: the effective dates of one teacher's changes only go forward, which is what lets
    the compliance query read the status of any day from the first change after it."""
    if effective_on > today:
        return f"不能晚于今天（{today:%Y-%m-%d}）"
    if latest is not None and effective_on < latest:
        return f"不能早于上次状态变更的生效日期（{latest:%Y-%m-%d}）"
    return None


def status_on(day: dt.date, *, current: str, changes: list[tuple[dt.date, str]]) -> str:
    """CR-7 (amended): a teacher's 在职状态 on `day`, from the recorded changes (effective date, status
    before the change), in the order they were recorded: the status before the first change that took
    effect after `day`, else the status now."""
    for effective_on, from_status in changes:
        if effective_on > day:
            return from_status
    return current


def full_years(start: dt.date, on: dt.date) -> int:
    """Full years (周岁) from `start` to `on`: the anniversary falling on `on` counts.

    A 29 February start reaches its anniversary on 1 March in a common year (comparing month and day).
    """
    years = on.year - start.year
    if (on.month, on.day) < (start.month, start.day):
        years -= 1
    return years


def years_before(on: dt.date, years: int) -> dt.date:
    """The date `years` full years before `on` (29 February falls back to 28 February).

    "At least N full years on `on`" is "on or before years_before(on, N)": age and tenure rules
    become date cut-offs the database can filter on.
    """
    try:
        return on.replace(year=on.year - years)
    except ValueError:
        return on.replace(year=on.year - years, day=28)
