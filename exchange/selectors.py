"""Reads of the exchange part: the eligible list (EX-1, EX-2, EX-4) and school minimums (EX-3),
computed in the database: age and tenure become date cut-offs, surplus a window over the roster."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber

from bureau.choices import Gender, Role, Status
from bureau.models import School, SubjectQuota, Teacher
from bureau.rules import full_years, years_before
from bureau.scoping import own_teacher, role_of, visible_schools

from . import rules
from .models import Proposal


def visible_proposals(user) -> QuerySet[Proposal]:
    """Proposals a user may see: a teacher their own; staff and principals those of the schools they see."""
    if role_of(user) == Role.TEACHER:
        teacher = own_teacher(user)
        return Proposal.objects.filter(teacher=teacher) if teacher else Proposal.objects.none()
    return Proposal.objects.filter(home_school__in=visible_schools(user))


def eligible_by_tenure(year: int, rules_: rules.ExchangeRules) -> Q:
    """EX-1 as a filter: 'age < limit on the reference date' is 'born after the date limit years before'."""
    on = rules.reference_date(year)
    joined_by = years_before(on, rules_.tenure_years)
    male = Q(gender=Gender.MALE, birth_date__gt=years_before(on, rules_.male_age_limit))
    female = Q(gender=Gender.FEMALE, birth_date__gt=years_before(on, rules_.female_age_limit))
    return (male | female) & Q(joined_school_on__lte=joined_by)


def exchange_pool(scope: QuerySet[Teacher] | None = None) -> QuerySet[Teacher]:
    """Teachers who may be proposed at all: active, at an exchange-stage school, teaching (EX-1, EX-4)."""
    teachers = scope if scope is not None else Teacher.objects.all()
    return teachers.filter(
        status=Status.ACTIVE,
        school__stage__in=rules.EXCHANGE_STAGES,
        is_non_teaching=False,
        cannot_teach=False,
    )


@dataclass(frozen=True)
class EligibleTeacher:
    teacher_id: int
    staff_no: str
    name: str
    school_id: int
    school_code: str
    gender: str
    age: int
    years_at_school: int
    reason: str
    subject: str


def surplus_ids(pool: QuerySet[Teacher]) -> set[int]:
    """EX-2: per school and subject with a quota, the teachers beyond it, longest at the school first."""
    quota = SubjectQuota.objects.filter(school=OuterRef("school_id"), subject=OuterRef("subject")).values("quota")[:1]
    ranked = (
        pool
        .annotate(
            quota=Subquery(quota),
            headcount=Window(Count("pk"), partition_by=[F("school_id"), F("subject")]),
            position=Window(RowNumber(), partition_by=[F("school_id"), F("subject")],
                            order_by=[F("joined_school_on").asc(), F("staff_no").asc()]),
        )
        .filter(quota__isnull=False, headcount__gt=F("quota"))
        .filter(position__lte=F("headcount") - F("quota"))
    )
    return set(ranked.values_list("pk", flat=True))


def eligible_teachers(year: int, rules_: rules.ExchangeRules, scope: QuerySet[Teacher] | None = None) -> list[EligibleTeacher]:
    """Every eligible teacher with the reason and the figures behind it, by 学校代码 then 工号."""
    on = rules.reference_date(year)
    pool = exchange_pool(scope)
    by_tenure = set(pool.filter(eligible_by_tenure(year, rules_)).values_list("pk", flat=True))
    by_surplus = surplus_ids(pool) - by_tenure
    rows = (
        Teacher.objects.filter(pk__in=by_tenure | by_surplus)
        .select_related("school")
        .order_by("school__code", "staff_no")
        .values_list("pk", "staff_no", "name", "school_id", "school__code", "gender", "birth_date", "joined_school_on",
                     "subject")
    )
    return [
        EligibleTeacher(
            teacher_id=pk, staff_no=staff_no, name=name, school_id=school_id, school_code=code, gender=gender,
            age=full_years(birth, on), years_at_school=full_years(joined, on),
            reason=rules.REASON_TENURE if pk in by_tenure else rules.REASON_SURPLUS, subject=subject,
        )
        for pk, staff_no, name, school_id, code, gender, birth, joined, subject in rows
    ]


@dataclass(frozen=True)
class SchoolQuota:
    school_id: int
    code: str
    name: str
    cluster_id: int | None
    eligible: int
    minimum: int
    proposed: int = 0
    approved: int = 0

    @property
    def below_minimum(self) -> bool:
        return self.approved < self.minimum


def school_quotas(year: int, rules_: rules.ExchangeRules, eligible: list[EligibleTeacher],
                  schools: QuerySet[School] | None = None, proposals=None) -> list[SchoolQuota]:
    """EX-3 per exchange-stage school (schools with none eligible are listed with 0 and 0)."""
    counts: dict[int, int] = {}
    for row in eligible:
        counts[row.school_id] = counts.get(row.school_id, 0) + 1
    proposed: dict[int, int] = {}
    approved: dict[int, int] = {}
    if proposals is not None:
        for school_id, status, n in proposals.values_list("home_school_id", "status").annotate(n=Count("pk")):
            if status in ("proposed", "approved", "placed"):
                proposed[school_id] = proposed.get(school_id, 0) + n
            if status in ("approved", "placed"):
                approved[school_id] = approved.get(school_id, 0) + n
    schools = (schools if schools is not None else School.objects.all()).filter(stage__in=rules.EXCHANGE_STAGES)
    return [
        SchoolQuota(
            school_id=pk, code=code, name=name, cluster_id=cluster_id, eligible=counts.get(pk, 0),
            minimum=rules.minimum_to_send(counts.get(pk, 0), share=rules_.min_share),
            proposed=proposed.get(pk, 0), approved=approved.get(pk, 0),
        )
        for pk, code, name, cluster_id in schools.order_by("code").values_list("pk", "code", "name", "cluster_id")
    ]


def receiving_suggestions(*, subject: str, home: School) -> list[School]:
    """EX-6: schools in the same cluster first, where the school is short of the subject against its
    quota; then other short schools of the district."""
    headcount = (
        Teacher.objects.filter(school=OuterRef("school_id"), subject=subject, status=Status.ACTIVE)
        .order_by()
        .values("school")
        .annotate(n=Count("pk"))
        .values("n")
    )
    short = (
        SubjectQuota.objects.filter(subject=subject, school__stage__in=rules.EXCHANGE_STAGES)
        .exclude(school_id=home.pk)
        .annotate(have=Subquery(headcount))
        .filter(Q(have__isnull=True) | Q(have__lt=F("quota")))
        .select_related("school")
    )
    same_cluster = [q.school for q in short if home.cluster_id and q.school.cluster_id == home.cluster_id]
    same_district = [q.school for q in short if q.school.district_id == home.district_id and q.school not in same_cluster]
    return same_cluster + same_district


def promotion_stints(teacher: Teacher) -> list[rules.Stint]:
    return [
        rules.Stint(started_on=p.started_on, ended_on=p.ended_on, rural=p.school.location == "乡村", weak=p.school.is_weak)
        for p in teacher.postings.select_related("school")
    ]


def promotion_check(*, teacher: Teacher, target_title: str, on: dt.date) -> list[str]:
    """EX-7 read from the posting history: empty when nothing is missing."""
    return rules.promotion_missing(
        urban=teacher.school.location == "城区",
        birth_date=teacher.birth_date,
        target_title=target_title,
        on=on,
        stints=promotion_stints(teacher),
    )
