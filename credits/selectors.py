"""Reads of the credits part: the policy in force and a teacher's totals (CR-3, CR-5, CR-6)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from bureau import versions
from bureau.choices import Mode, Theme
from bureau.models import StatusChange, Teacher
from bureau.rules import status_on

from . import rules
from .models import (
    Amendment,
    AmendmentState,
    Exemption,
    ExemptionStatus,
    HoursSubmission,
    LedgerEntry,
    Policy,
    Source,
    SubmissionState,
)

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
    # CR-4 for Y and CR-6 (amended): subject this year; years of the cycle so far in which subject.
    subject: bool = True
    subject_years: int = 0

    @property
    def cycle_end(self) -> int:
        return self.cycle_start + self.policy.cycle_years - 1

    @property
    def cycle_required(self) -> int:
        """周期应完成学时 so far (CR-6 amended)."""
        return rules.cycle_requirement(subject_years=self.subject_years, policy=self.policy)

    @property
    def ethics_ok(self) -> bool | None:
        return rules.ethics_met(ethics_hours=self.ethics_hours, policy=self.policy, subject=self.subject)

    @property
    def school_ok(self) -> bool | None:
        return rules.school_based_met(school_hours=self.school_based_hours, policy=self.policy, subject=self.subject)

    @property
    def cycle_ok(self) -> bool | None:
        if not self.subject:
            return None
        return rules.cycle_met(year=self.year, cycle_hours=self.cycle_hours, requirement=self.cycle_required,
                               policy=self.policy)

    @property
    def missing(self) -> list[str]:
        """What is still missing, in plain words for the teacher's portal (empty: nothing)."""
        if not self.subject:
            return []
        policy, out = self.policy, []
        if not self.compliant:
            out.append(f"年度学分还差 {rules.hours_text(policy.annual_credits - self.annual_credits)} 学分")
        if self.ethics_ok is False:
            out.append(f"师德学时还差 {rules.hours_text(policy.min_ethics_hours - self.ethics_hours)} 学时")
        if self.school_ok is False:
            out.append(f"校本研修学时还差 {rules.hours_text(policy.min_school_based_hours - self.school_based_hours)} 学时")
        if self.cycle_hours < self.cycle_required:
            gap = rules.hours_text(self.cycle_required - self.cycle_hours)
            if rules.is_cycle_last_year(self.year, policy=policy):
                out.append(f"本周期还需 {gap} 学时（本周期应完成 {self.cycle_required} 学时）")
            else:
                out.append(f"本周期还需 {gap} 学时（截至今年应完成 {self.cycle_required} 学时）")
        return out

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
    subject, subject_years = _subject_years(teacher_id, year, policy)
    return TeacherYear(year=year, credits=credits, cycle_start=start, policy=policy, subject=subject,
                       subject_years=subject_years, **totals)


def _subject_years(teacher_id: int, year: int, policy: rules.PolicyValues) -> tuple[bool, int]:
    """CR-4 in Y, and how many years of Y's cycle (its start through Y) the teacher is subject to CR-4
    (CR-6 amended): the status on 31 December of each year (CR-7 amended, bureau.rules.status_on), the first
    employment date, granted exemptions. Three small queries."""
    found = Teacher.objects.filter(pk=teacher_id).values_list("status", "employed_on").first()
    if found is None:
        return False, 0
    status, employed_on = found
    years = rules.cycle_years_through(year, policy=policy)
    changes = list(StatusChange.objects.filter(teacher_id=teacher_id, effective_on__gt=dt.date(years[0], 12, 31))
                   .order_by("id").values_list("effective_on", "from_status"))
    exempt = set(Exemption.objects.filter(teacher_id=teacher_id, status=ExemptionStatus.GRANTED, year__in=years)
                 .values_list("year", flat=True))
    subject = [y for y in years
               if rules.is_subject_to_check(status=status_on(dt.date(y, 12, 31), current=status, changes=changes),
                                            employed_on=employed_on, year=y, exempt=y in exempt)]
    return year in subject, len(subject)


def standing_version_key(teacher_id: int) -> str:
    """Bumped by the teacher's own record and exemptions: what CR-4 and the cycle requirement read."""
    return f"credits.standing.v.{teacher_id}"


def teacher_version_keys(teacher_id: int) -> list[str]:
    """What a teacher's cached figures depend on (the rows that bump them: credits/caching.py)."""
    return [ledger_version_key(teacher_id), standing_version_key(teacher_id), POLICY_VERSION, ALL_TEACHERS]


def pending_submissions(teacher_id: int) -> int:
    """How many of a teacher's school-based/self-study hours submissions wait for the principal."""
    return HoursSubmission.objects.filter(teacher_id=teacher_id, state=SubmissionState.SUBMITTED).count()


def pending_amendments(teacher_id: int) -> int:
    """How many of a teacher's postings wait as 补报 in a closed year (CR-9 amended)."""
    return Amendment.objects.filter(teacher_id=teacher_id, state=AmendmentState.PENDING).count()


def submissions_version_key(teacher_id: int) -> str:
    """Bumped by every saved or deleted hours submission or 补报 of the teacher (credits/caching.py)."""
    return f"credits.submissions.v.{teacher_id}"


def closed_report(year: int):
    """The frozen annual close of a year (CR-9), finished; None while the year is not closed."""
    from .models import ComplianceReport, ReportKind, ReportStatus

    return ComplianceReport.objects.filter(year=year, kind=ReportKind.CLOSED, status=ReportStatus.DONE).first()
