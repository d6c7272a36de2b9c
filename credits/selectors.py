"""Reads of the credits part: the policy in force and a teacher's totals (CR-3, CR-5, CR-6)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from bureau import versions
from bureau.choices import Mode, Theme
from bureau.models import Teacher

from . import rules
from .models import HoursSubmission, LedgerEntry, Policy, Source, SubmissionState

ZERO = Decimal("0")
# School-based study: submitted 校本 hours and projects run in the 校本研修 mode.
SCHOOL_BASED = Q(source=Source.SCHOOL_BASED) | Q(mode=Mode.SCHOOL_BASED)
# The rows the CR-3 caps apply to (credits.rules.cap_kind): self-study, and 网络研修 rows that are not.
SELF_STUDY = Q(source=Source.SELF_STUDY)
ONLINE = Q(mode=Mode.ONLINE) & ~Q(source=Source.SELF_STUDY)


POLICY_CACHE_KEY = "credits.policies"


def _policies() -> list[tuple[int, rules.PolicyValues]]:
    """Every policy version, cached (a handful of rows read on many pages) until a policy is saved or
    deleted (credits.apps bumps the policy version)."""
    return versions.cached(
        POLICY_CACHE_KEY, [POLICY_VERSION], lambda: [(p.year, p.values()) for p in Policy.objects.order_by("year")],
        600,
    )


POLICY_VERSION = "credits.policy.v"
# Bumped by bulk writes of many rows at once (bureau.versions.BULK_ROWS): every school's / teacher's figures.
ALL_SCHOOLS = "credits.schools.v"
ALL_TEACHERS = "credits.teachers.v"


def forget_policies(**kwargs) -> None:
    versions.bump(POLICY_VERSION)


def ledger_version_key(teacher_id: int) -> str:
    return f"credits.ledger.v.{teacher_id}"


def school_version_key(school_id: int | None) -> str | None:
    return f"credits.school.v.{school_id}" if school_id is not None else None


def school_of(teacher_id: int | None) -> int | None:
    if teacher_id is None:
        return None
    return Teacher.objects.filter(pk=teacher_id).values_list("school_id", flat=True).first()


def school_version_keys(school_id: int) -> list[str]:
    """What a school's cached figures depend on (the rows that bump them: credits/caching.py)."""
    return [school_version_key(school_id), POLICY_VERSION, ALL_SCHOOLS]


def policy_for(year: int) -> rules.PolicyValues:
    """CR-3: the policy row with the greatest start year ≤ year; the defaults when there is none."""
    applicable = [values for start, values in _policies() if start <= year]
    return applicable[-1] if applicable else rules.PolicyValues()


@dataclass(frozen=True)
class TeacherYear:
    year: int
    credits: rules.AnnualCredits  # recorded, capped (CR-3) and counted (CR-5)
    annual_hours: Decimal
    ethics_hours: Decimal
    school_based_hours: Decimal
    cycle_start: int
    cycle_hours: Decimal
    policy: rules.PolicyValues

    @property
    def annual_credits(self) -> Decimal:
        """CR-5: the year's credits as counted (excess over the CR-3 caps left out)."""
        return self.credits.counted

    @property
    def uncounted_credits(self) -> Decimal:
        """超出上限未计: credits in the ledger that the CR-3 caps leave out of the year's credits."""
        return self.credits.uncounted

    @property
    def compliant(self) -> bool:
        return rules.is_compliant(annual_credits=self.annual_credits, requirement=self.policy.annual_credits)


def teacher_year(teacher_id: int, year: int) -> TeacherYear:
    """One teacher's figures for a year, in one aggregate query (CR-3 caps, CR-5, CR-6)."""
    policy = policy_for(year)
    start = rules.cycle_start_year(year, first_cycle_start=policy.first_cycle_start, cycle_years=policy.cycle_years)
    in_year = Q(entry_date__gte=dt.date(year, 1, 1))
    totals = LedgerEntry.objects.filter(
        teacher_id=teacher_id, entry_date__gte=dt.date(start, 1, 1), entry_date__lte=dt.date(year, 12, 31)
    ).aggregate(
        recorded=Coalesce(Sum("credits", filter=in_year), ZERO),
        self_study=Coalesce(Sum("credits", filter=in_year & SELF_STUDY), ZERO),
        online=Coalesce(Sum("credits", filter=in_year & ONLINE), ZERO),
        annual_hours=Coalesce(Sum("hours", filter=in_year), ZERO),
        ethics_hours=Coalesce(Sum("hours", filter=in_year & Q(theme=Theme.ETHICS)), ZERO),
        school_based_hours=Coalesce(Sum("hours", filter=in_year & SCHOOL_BASED), ZERO),
        cycle_hours=Coalesce(Sum("hours"), ZERO),
    )
    credits = rules.annual_credits(recorded=totals.pop("recorded"), self_study=totals.pop("self_study"),
                                   online=totals.pop("online"), policy=policy)
    return TeacherYear(year=year, credits=credits, cycle_start=start, policy=policy, **totals)


def teacher_version_keys(teacher_id: int) -> list[str]:
    """What a teacher's cached figures depend on (the rows that bump them: credits/caching.py)."""
    return [ledger_version_key(teacher_id), POLICY_VERSION, ALL_TEACHERS]


def pending_submissions(teacher_id: int) -> int:
    """How many of a teacher's school-based/self-study hours submissions wait for the principal."""
    return HoursSubmission.objects.filter(teacher_id=teacher_id, state=SubmissionState.SUBMITTED).count()


def submissions_version_key(teacher_id: int) -> str:
    """Bumped by every saved or deleted hours submission of the teacher (credits/caching.py)."""
    return f"credits.submissions.v.{teacher_id}"
