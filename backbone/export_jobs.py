"""Background export of the backbone part (issue 18 item 3): the roster (名册) of a scope larger than a
school; a principal's stays in the request."""

from __future__ import annotations

import datetime as dt

from bureau.choices import Role
from bureau.exports import register
from bureau.scoping import role_of, visible_teachers

from .exports import ROSTER_STATUS_WORDS, roster_entries, write_roster
from .models import Tier, Type

ROLES = (Role.BUREAU, Role.DISTRICT, Role.AUDITOR)


def filtered_entries(user, chosen: dict):
    entries = roster_entries(None if role_of(user) in (Role.BUREAU, Role.AUDITOR) else visible_teachers(user))
    if chosen.get("tier") in Tier.values:
        entries = entries.filter(tier=chosen["tier"])
    if chosen.get("type") in Type.values:
        entries = entries.filter(type=chosen["type"])
    if chosen.get("status") in ROSTER_STATUS_WORDS:
        entries = entries.filter(status=chosen["status"])
    return entries


def build_roster(job, target, progress) -> int:
    entries = filtered_entries(job.created_by, job.params)
    total = entries.count()
    today = dt.date.fromisoformat(job.params["today"])
    write_roster(target, entries, today,
                 progress=lambda written: progress(min(0.99, written / total)) if total else None,
                 by=job.created_by)
    return total


def register_all() -> None:
    register("roster", label="骨干名册", roles=ROLES, build=build_roster)
