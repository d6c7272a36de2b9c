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


POLICY_CACHE_KEY = "credits.policies"


def _policies() -> list[tuple[int, rules.PolicyValues]]:
    """Every policy version, cached (a handful of rows read on many pages) until a policy is saved or
    deleted (credits.apps bumps the policy version)."""
    return versions.cached(
        POLICY_CACHE_KEY, ["credits.policy.v"], lambda: [(p.year, p.values()) for p in Policy.objects.order_by("year")],
        600,
    )


def forget_policies(**kwargs) -> None:
    versions.bump("credits.policy.v")


def ledger_appended(*, teacher_id: int) -> None:
    """A row was appended to a teacher's ledger: cached figures of that teacher are out of date."""
    versions.bump(f"credits.ledger.v.{teacher_id}")


def school_changed(*, school_id: int | None) -> None:
    """Something a school's figures read changed (a ledger row, a result, a teacher, an exemption)."""
    if school_id is not None:
        versions.bump(f"credits.school.v.{school_id}")


def _school_of(teacher_id: int) -> int | None:
    return Teacher.objects.filter(pk=teacher_id).values_list("school_id", flat=True).first()


def teacher_school_changed(*, teacher_id: int | None) -> None:
    """Something of a teacher that their school's figures read changed (e.g. a training result)."""
    school_changed(school_id=_school_of(teacher_id) if teacher_id else None)


def on_ledger_saved(sender, instance, created, **kwargs) -> None:
    if created:
        ledger_appended(teacher_id=instance.teacher_id)
        school_changed(school_id=_school_of(instance.teacher_id))


def on_teacher_saved(sender, instance, **kwargs) -> None:
    school_changed(school_id=instance.school_id)
    before = getattr(instance, "_before_save", None)  # bureau.auth.on_teacher_pre_save
    if before is not None and before[1] != instance.school_id:
        school_changed(school_id=before[1])  # the school the teacher left


def on_school_saved(sender, instance, **kwargs) -> None:
    school_changed(school_id=instance.pk)


def on_teachers_bulk_changed(sender, school_ids, **kwargs) -> None:
    for school_id in school_ids:
        school_changed(school_id=school_id)


def on_exemption_saved(sender, instance, **kwargs) -> None:
    school_changed(school_id=_school_of(instance.teacher_id))


def school_version_keys(school_id: int) -> list[str]:
    """What a school's cached figures depend on."""
    return [f"credits.school.v.{school_id}", "credits.policy.v"]


def policy_for(year: int) -> rules.PolicyValues:
    """CR-3: the policy row with the greatest start year ≤ year; the defaults when there is none."""
    applicable = [values for start, values in _policies() if start <= year]
    return applicable[-1] if applicable else rules.PolicyValues()


@dataclass(frozen=True)
class TeacherYear:
    year: int
    annual_credits: Decimal
    annual_hours: Decimal
    ethics_hours: Decimal
    school_based_hours: Decimal
    cycle_start: int
    cycle_hours: Decimal
    policy: rules.PolicyValues

    @property
    def compliant(self) -> bool:
        return rules.is_compliant(annual_credits=self.annual_credits, requirement=self.policy.annual_credits)


def teacher_year(teacher_id: int, year: int) -> TeacherYear:
    """One teacher's figures for a year, in one aggregate query (CR-5, CR-6)."""
    policy = policy_for(year)
    start = rules.cycle_start_year(year, first_cycle_start=policy.first_cycle_start, cycle_years=policy.cycle_years)
    in_year = Q(entry_date__gte=dt.date(year, 1, 1))
    totals = LedgerEntry.objects.filter(
        teacher_id=teacher_id, entry_date__gte=dt.date(start, 1, 1), entry_date__lte=dt.date(year, 12, 31)
    ).aggregate(
        annual_credits=Coalesce(Sum("credits", filter=in_year), ZERO),
        annual_hours=Coalesce(Sum("hours", filter=in_year), ZERO),
        ethics_hours=Coalesce(Sum("hours", filter=in_year & Q(theme=Theme.ETHICS)), ZERO),
        school_based_hours=Coalesce(Sum("hours", filter=in_year & SCHOOL_BASED), ZERO),
        cycle_hours=Coalesce(Sum("hours"), ZERO),
    )
    return TeacherYear(year=year, cycle_start=start, policy=policy, **totals)


def teacher_version_keys(teacher_id: int) -> list[str]:
    """What a teacher's cached figures depend on."""
    return [f"credits.ledger.v.{teacher_id}", "credits.policy.v"]


def pending_submissions(teacher_id: int) -> int:
    """How many of a teacher's school-based/self-study hours submissions wait for the principal."""
    return HoursSubmission.objects.filter(teacher_id=teacher_id, state=SubmissionState.SUBMITTED).count()


def submissions_version_key(teacher_id: int) -> str:
    """Bumped by every saved or deleted hours submission of the teacher (credits.apps)."""
    return f"credits.submissions.v.{teacher_id}"


def on_submission_saved(sender, instance, **kwargs) -> None:
    versions.bump(submissions_version_key(instance.teacher_id))
