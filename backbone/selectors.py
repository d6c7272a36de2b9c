"""Reads of the backbone part: who qualifies for a tier and type (BB-2), plan against roster (BB-7)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from bureau.choices import Education, Role, Status, Title
from bureau.models import Teacher
from bureau.rules import full_years, years_before
from bureau.scoping import profile_of, role_of
from credits.compliance import ComplianceRun, Scope

from . import rules
from .models import Criterion, EntryStatus, EthicsVeto, PlanTarget, RosterEntry, SelectionRound


def rounds_seen_by(user) -> QuerySet[SelectionRound]:
    """The rounds a staff user sees on the round pages: the whole city's for bureau staff and auditors, a
    district's own county rounds for its staff (BB-3 amended), none for anyone else."""
    role = role_of(user)
    if role in (Role.BUREAU, Role.AUDITOR):
        return SelectionRound.objects.all()
    if role == Role.DISTRICT:
        return SelectionRound.objects.filter(district_id=profile_of(user).district_id)
    return SelectionRound.objects.none()


def may_run_round(user, round_: SelectionRound) -> bool:
    """Who runs a round's steps (BB-3 amended): bureau staff any round; a district's staff the county
    rounds of their district. Auditors only read."""
    role = role_of(user)
    if role == Role.BUREAU:
        return True
    return role == Role.DISTRICT and round_.district_id is not None and round_.district_id == profile_of(user).district_id


def open_rounds_for(teacher: Teacher) -> QuerySet[SelectionRound]:
    """Rounds a teacher may apply to: city and province rounds, and the county rounds of the teacher's district."""
    return SelectionRound.objects.filter(status="open").filter(
        Q(district__isnull=True) | Q(district_id=teacher.school.district_id))


def criterion_for(tier: str, type_: str) -> rules.Criterion:
    row = Criterion.objects.filter(tier=tier, type=type_).first()
    return row.rule() if row else rules.DEFAULT_CRITERIA[type_]


FEW_TEACHERS = 20  # up to this many, each teacher's years are computed for that teacher alone


def non_compliant_by_year(year: int, teacher_ids: list[int] | None = None) -> dict[int, set[int]]:
    """Teachers subject to the check and short of credits in each of the two years before `year` (CR-5).
    An exempt year passes: only subject teachers can be non-compliant."""
    out: dict[int, set[int]] = {}
    if teacher_ids is not None and len(teacher_ids) <= FEW_TEACHERS:
        # One teacher's check (the portal, an application): that teacher's figures only, one statement a
        # year, flat in the size of the city (issue 18), never the whole city's run.
        for past in (year - 2, year - 1):
            for pk in teacher_ids:
                with ComplianceRun(past, scope=Scope(teacher_id=pk)) as run:
                    if any(True for _ in run.teachers(only_short=True)):
                        out.setdefault(pk, set()).add(past)
        return out
    for past in (year - 2, year - 1):
        with ComplianceRun(past) as run:
            staff_nos = {t.staff_no for t in run.teachers(only_short=True)}
        ids = Teacher.objects.filter(staff_no__in=staff_nos).values_list("pk", flat=True)
        for pk in ids:
            if teacher_ids is None or pk in teacher_ids:
                out.setdefault(pk, set()).add(past)
    return out


def _database_filter(criterion: rules.Criterion, year: int) -> Q:
    """Title, education, age and years of teaching as database filters (date cut-offs on 31 August)."""
    on = rules.reference_date(year)
    q = Q(status=Status.ACTIVE)
    if criterion.min_title:
        q &= Q(title__in=list(Title.values)[list(Title.values).index(criterion.min_title):])
    if criterion.min_education:
        q &= Q(education__in=list(Education.values)[list(Education.values).index(criterion.min_education):])
    if criterion.max_age is not None:  # age ≤ max ⇔ born after the day max+1 years before
        q &= Q(birth_date__gt=years_before(on, criterion.max_age + 1))
    if criterion.min_teaching_years is not None:
        q &= Q(employed_on__lte=years_before(on, criterion.min_teaching_years))
    return q


def _holders(tier: str, type_: str) -> QuerySet:
    return RosterEntry.objects.filter(tier=tier, type=type_, status=EntryStatus.ACTIVE).values("teacher_id")


@dataclass(frozen=True)
class Candidate:
    staff_no: str
    name: str
    school_code: str
    title: str
    age: int
    teaching_years: int


def candidates(*, year: int, tier: str, type_: str, scope: QuerySet[Teacher] | None = None) -> list[Candidate]:
    """BB-2: every active teacher who meets the criteria of the tier and type in the round's year."""
    criterion = criterion_for(tier, type_)
    teachers = (scope if scope is not None else Teacher.objects.all()).filter(_database_filter(criterion, year))
    teachers = teachers.exclude(pk__in=EthicsVeto.objects.values("teacher_id"))
    if criterion.require_lower_tier and tier != rules.TIERS[0]:
        teachers = teachers.filter(pk__in=_holders(rules.TIERS[rules.TIERS.index(tier) - 1], type_))
    rows = list(teachers.order_by("school__code", "staff_no").values_list(
        "pk", "staff_no", "name", "school__code", "title", "birth_date", "employed_on"))
    short = non_compliant_by_year(year, [r[0] for r in rows])
    on = rules.reference_date(year)
    return [
        Candidate(staff_no, name, code, title, full_years(birth, on), full_years(employed, on))
        for pk, staff_no, name, code, title, birth, employed in rows
        if pk not in short
    ]


def check_teacher(*, teacher: Teacher, year: int, tier: str, type_: str) -> list[str]:
    """BB-2 for one teacher, with every failing criterion named (the portal shows them)."""
    short = non_compliant_by_year(year, [teacher.pk]).get(teacher.pk, set())
    lower_held = True
    if tier != rules.TIERS[0]:
        lower_held = _holders(rules.TIERS[rules.TIERS.index(tier) - 1], type_).filter(teacher_id=teacher.pk).exists()
    facts = rules.Facts(
        active=teacher.status == Status.ACTIVE, title=teacher.title, education=teacher.education,
        birth_date=teacher.birth_date, employed_on=teacher.employed_on, non_compliant_years=tuple(sorted(short)),
        ethics_veto=EthicsVeto.objects.filter(teacher=teacher).exists(), holds_lower_tier=lower_held,
    )
    return rules.failures(facts, criterion_for(tier, type_), tier=tier, year=year)


AGE_BANDS = [(0, 35, "35岁及以下"), (36, 45, "36–45岁"), (46, 200, "46岁及以上")]


def plan_vs_roster(*, year: int) -> list[dict]:
    """BB-7: each target against the active roster, with the roster by subject and age band."""
    on = rules.reference_date(year)
    held = {
        (r["tier"], r["type"]): r["n"]
        for r in RosterEntry.objects.filter(status=EntryStatus.ACTIVE).values("tier", "type").annotate(n=Count("pk"))
    }
    entries = RosterEntry.objects.filter(status=EntryStatus.ACTIVE).values_list("tier", "type", "teacher__subject",
                                                                                "teacher__birth_date")
    by_subject: dict[tuple, dict[str, int]] = {}
    by_band: dict[tuple, dict[str, int]] = {}
    for tier, type_, subject, birth in entries:
        key = (tier, type_)
        by_subject.setdefault(key, {}).setdefault(subject, 0)
        by_subject[key][subject] += 1
        age = full_years(birth, on)
        band = next(label for low, high, label in AGE_BANDS if low <= age <= high)
        by_band.setdefault(key, {}).setdefault(band, 0)
        by_band[key][band] += 1
    rows = []
    for target in PlanTarget.objects.filter(start_year__lte=year, end_year__gte=year).order_by("tier", "type"):
        key = (target.tier, target.type)
        rows.append({
            "tier": target.tier, "type": target.type, "period": f"{target.start_year}–{target.end_year}",
            "target": target.target, "held": held.get(key, 0),
            "rate": held.get(key, 0) / target.target if target.target else None,
            "by_subject": sorted(by_subject.get(key, {}).items()), "by_band": [
                (label, by_band.get(key, {}).get(label, 0)) for _, _, label in AGE_BANDS],
        })
    return rows
