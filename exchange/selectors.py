"""Reads of the exchange part: the eligible list (EX-1, EX-2, EX-4) and school minimums (EX-3),
computed in the database: age and tenure become date cut-offs, surplus a window over the roster."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce

from bureau.choices import Gender, PostingKind, Role, Status
from bureau.models import Posting, School, SubjectQuota, Teacher
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
    """EX-1 as a filter: age and 入校日期 become date cut-offs. 'Aged 55 or under on the reference date' is
    'born after the date 56 years before' (amended, inclusive); the first reading, 'under 55', is 'born after
    the date 55 years before'. Rotation (the end of the latest exchange) is applied by `rotation_history`."""
    on = rules.reference_date(year)
    joined_by = years_before(on, rules_.tenure_years)
    extra = 1 if rules_.amended else 0
    male = Q(gender=Gender.MALE, birth_date__gt=years_before(on, rules_.male_age_limit + extra))
    female = Q(gender=Gender.FEMALE, birth_date__gt=years_before(on, rules_.female_age_limit + extra))
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


# EX-1 (amended): the exchange postings behind rotation in turn; all forms of EX-5 that second a teacher
# (交流轮岗, 支教, 协作) count, so no form sends the same teacher every year (docs/decisions.md).
ROTATION_KINDS = [kind for kind in PostingKind.values if kind != PostingKind.REGULAR]


def rotation_history(teachers: QuerySet[Teacher], on: dt.date) -> dict[int, list[rules.Secondment]]:
    """EX-1 (amended): per teacher, the exchange postings started on or before the reference date. A loop
    over exchange postings (a few per cent of teachers a year), not over teachers."""
    history: dict[int, list[rules.Secondment]] = {}
    rows = Posting.objects.filter(teacher__in=teachers.values("pk"), kind__in=ROTATION_KINDS, started_on__lte=on)
    for teacher_id, started_on, ended_on in rows.values_list("teacher_id", "started_on", "ended_on"):
        history.setdefault(teacher_id, []).append(rules.Secondment(started_on=started_on, ended_on=ended_on))
    return history


@dataclass(frozen=True)
class EligibleTeacher:
    teacher_id: int
    staff_no: str
    name: str
    school_id: int
    school_code: str
    gender: str
    age: int
    years_at_school: int  # EX-1 (amended): counted from the later of 入校日期 and the latest exchange's end
    reason: str
    subject: str


def overstaffed_school_ids(schools: QuerySet[School]) -> set[int]:
    """EX-2 (amended): schools with more active teachers than their total 编制数."""
    active = (
        Teacher.objects.filter(school=OuterRef("pk"), status=Status.ACTIVE)
        .order_by().values("school").annotate(n=Count("pk")).values("n")
    )
    rows = schools.filter(staffing_quota__isnull=False).annotate(active=Coalesce(Subquery(active), 0))
    return {
        pk for pk, active_, quota in rows.values_list("pk", "active", "staffing_quota")
        if rules.overstaffed(active_teachers=active_, staffing_quota=quota)
    }


def surplus_ids(pool: QuerySet[Teacher], *, on: dt.date, rules_: rules.ExchangeRules,
                history: dict[int, list[rules.Secondment]]) -> set[int]:
    """EX-2: per school and subject with a quota, the teachers beyond it, longest at the school first;
    (amended) only at overstaffed schools, and never a teacher barred by rotation (EX-1)."""
    quota = SubjectQuota.objects.filter(school=OuterRef("school_id"), subject=OuterRef("subject")).values("quota")[:1]
    rows = (
        pool
        .annotate(
            quota=Subquery(quota),
            headcount=Window(Count("pk"), partition_by=[F("school_id"), F("subject")]),
        )
        .filter(quota__isnull=False, headcount__gt=F("quota"))
        .values_list("pk", "school_id", "subject", "joined_school_on", "staff_no", "headcount", "quota")
    )
    groups: dict[tuple[int, str], list] = {}
    for row in rows:
        groups.setdefault((row[1], row[2]), []).append(row)
    if not groups:
        return set()
    over = overstaffed_school_ids(School.objects.filter(pk__in={school_id for school_id, _ in groups}))
    picked: set[int] = set()
    for (school_id, _), members in groups.items():
        candidates = [
            (rules.tenure_start(joined, history.get(pk, ()), on), staff_no, pk)
            for pk, _, _, joined, staff_no, _, _ in members
            if not rules.rotation_barred(history.get(pk, ()), on, rules_)
        ]
        _, _, _, _, _, headcount, quota_ = members[0]
        picked.update(rules.surplus_picks(candidates, headcount=headcount, quota=quota_,
                                          school_overstaffed=school_id in over or not rules_.amended))
    return picked


@dataclass(frozen=True)
class Staffing:
    active: int
    quota: int | None

    @property
    def overstaffed(self) -> bool:
        return rules.overstaffed(active_teachers=self.active, staffing_quota=self.quota)

    @property
    def excess(self) -> int:
        return self.active - self.quota if self.quota is not None and self.overstaffed else 0


def school_staffing(school: School) -> Staffing:
    """EX-2 (amended): a school's active teachers against its total 编制数, for its page."""
    return Staffing(active=Teacher.objects.filter(school=school, status=Status.ACTIVE).count(), quota=school.staffing_quota)


def eligible_teachers(year: int, rules_: rules.ExchangeRules, scope: QuerySet[Teacher] | None = None) -> list[EligibleTeacher]:
    """Every eligible teacher of the scope with the reason and the figures behind it, by 学校代码 then 工号.

    Surplus (EX-2) is a matter of the whole school: headcounts are taken over every teacher of the schools
    the scope touches, and only the scope's teachers are listed."""
    on = rules.reference_date(year)
    schools_pool = exchange_pool(
        Teacher.objects.filter(school__in=scope.values("school_id")) if scope is not None else None
    )
    pool = exchange_pool(scope)
    history = rotation_history(schools_pool, on) if rules_.amended else {}
    by_tenure = {
        pk for pk in pool.filter(eligible_by_tenure(year, rules_)).values_list("pk", flat=True)
        if not rules.rotation_barred(history.get(pk, ()), on, rules_)
    }
    by_surplus = surplus_ids(schools_pool, on=on, rules_=rules_, history=history) - by_tenure
    if scope is not None and by_surplus:
        by_surplus = set(pool.filter(pk__in=by_surplus).values_list("pk", flat=True))
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
            age=full_years(birth, on), years_at_school=full_years(rules.tenure_start(joined, history.get(pk, ()), on), on),
            reason=rules.REASON_TENURE if pk in by_tenure else rules.REASON_SURPLUS, subject=subject,
        )
        for pk, staff_no, name, school_id, code, gender, birth, joined, subject in rows
    ]


def exchange_standing(plan_year: int, rules_: rules.ExchangeRules, teacher: Teacher) -> tuple[EligibleTeacher | None, str]:
    """EX-1/EX-2 for one teacher (EX-5 individual applications, the teacher's page): the eligible row, or
    None and the Chinese reason why not."""
    on = rules.reference_date(plan_year)
    (row,) = eligible_teachers(plan_year, rules_, Teacher.objects.filter(pk=teacher.pk)) or [None]
    if row is not None:
        return row, ""
    history = rotation_history(Teacher.objects.filter(pk=teacher.pk), on) if rules_.amended else {}
    reason = rules.ineligibility(
        active=teacher.status == Status.ACTIVE, stage=teacher.school.stage, male=teacher.gender == Gender.MALE,
        birth_date=teacher.birth_date, joined_school_on=teacher.joined_school_on, on=on,
        non_teaching=teacher.is_non_teaching, cannot_teach=teacher.cannot_teach,
        exchanges=history.get(teacher.pk, ()), rules=rules_,
    )
    in_pool = (teacher.status == Status.ACTIVE and teacher.school.stage in rules.EXCHANGE_STAGES
               and not teacher.is_non_teaching and not teacher.cannot_teach)
    # Only someone who could be proposed at all might have been a surplus teacher (EX-2): say so then.
    return None, f"{reason or '不符合条件'}，也不属于超编学校学科富余教师" if in_pool else (reason or "不符合条件")


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
    """EX-7 read from the posting history and the teacher's current school: empty when nothing is missing."""
    return rules.promotion_missing(
        urban=rules.is_urban(teacher.school.location),
        compulsory=teacher.school.stage in rules.COMPULSORY_STAGES,
        birth_date=teacher.birth_date,
        target_title=target_title,
        on=on,
        stints=promotion_stints(teacher),
    )
