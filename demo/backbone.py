"""The demo city's backbone roster (SPEC §6): titles awarded in earlier rounds, so the roster page and
workbook show a believable history on a first visit: current holders, one revoked and one lapsed title."""

from __future__ import annotations

import datetime as dt
import random

from backbone.models import EntryStatus, RosterEntry, RosterEvent, Tier, Type
from bureau.models import Teacher

TITLES_ORDER = ["一级教师", "高级教师", "正高级教师"]


def _five_years_on(day: dt.date) -> dt.date:
    return day.replace(year=day.year + 5) if not (day.month == 2 and day.day == 29) else dt.date(day.year + 5, 2, 28)


def build_demo_backbone(*, seed: int, today: dt.date) -> int:
    rng = random.Random(seed + 17)
    holders = list(
        Teacher.objects.filter(status="在职", title__in=TITLES_ORDER).select_related("school").order_by("staff_no")
    )
    rng.shuffle(holders)
    holders = holders[: max(3, len(holders) // 25)]
    entries, events = [], []
    for number, teacher in enumerate(holders, start=1):
        awarded = dt.date(today.year - rng.choice([1, 2, 3, 4]), 9, 10)
        tier = Tier.COUNTY if number % 4 else Tier.CITY
        kind = Type.LEADER if teacher.title != "一级教师" and number % 3 == 0 else Type.BACKBONE
        status = EntryStatus.ACTIVE
        if number == 1:
            status = EntryStatus.REVOKED
        entries.append(RosterEntry(
            teacher=teacher, tier=tier, type=kind, certificate_no=f"GG{awarded.year}-{number:04d}", awarded_on=awarded,
            expires_on=_five_years_on(awarded), status=status, allowance=status == EntryStatus.ACTIVE,
            school_at_award=teacher.school,
        ))
    if holders:
        # One title awarded six years ago that lapsed at its expiry.
        teacher = holders[-1]
        awarded = dt.date(today.year - 6, 9, 10)
        entries.append(RosterEntry(
            teacher=teacher, tier=Tier.COUNTY, type=Type.BACKBONE, certificate_no=f"GG{awarded.year}-9999",
            awarded_on=awarded, expires_on=_five_years_on(awarded), status=EntryStatus.LAPSED, allowance=False,
            school_at_award=teacher.school,
        ))
    RosterEntry.objects.bulk_create(entries)
    for entry in RosterEntry.objects.filter(certificate_no__in=[e.certificate_no for e in entries]):
        events.append(RosterEvent(entry=entry, action="award", from_state="", to_state=EntryStatus.ACTIVE,
                                  reason="演示数据：历年评选认定"))
    RosterEvent.objects.bulk_create(events)
    return len(entries)
