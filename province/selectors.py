"""Reads of the province report (SPEC §7 上报省厅): each a fixed number of queries, whatever the city's size.

The year's verdicts and the CR-7 school of each teacher are not computed here: they come from
credits.compliance.ComplianceRun (province.exports merges them with what is read here).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from backbone.models import EntryStatus, RosterEntry, RosterEvent, Tier, Type
from bureau.choices import Mode
from bureau.models import School
from bureau.vocabulary import PASSING_GRADES
from credits.models import Source
from exchange.models import ExchangePlan
from exchange.selectors import eligible_teachers, school_quotas
from training.models import Level, Result


@dataclass(frozen=True)
class SchoolInfo:
    code: str
    name: str
    district_code: str
    district: str
    stage: str
    location: str
    is_weak: bool


def schools_by_code() -> dict[str, SchoolInfo]:
    """Every school (≤ a few thousand rows), one query."""
    rows = School.objects.values_list("code", "name", "district__code", "district__name", "stage", "location", "is_weak")
    return {row[0]: SchoolInfo(*row) for row in rows}


@dataclass(frozen=True)
class TeacherAttributes:
    staff_no: str
    id_number: str | None
    gender: str
    employment_type: str
    title: str
    national: Decimal
    provincial: Decimal
    municipal: Decimal
    county: Decimal
    school_based: Decimal
    self_study: Decimal
    external: Decimal
    face_to_face: Decimal
    online: Decimal
    participated: bool  # CR-8: a training result or a positive ledger row dated in Y


def teacher_attributes_sql(year: int) -> tuple[str, dict]:
    """Every teacher by 工号: personal attributes, the year's hours by level and by mode, and CR-8
    participation. Reversal rows (negative hours) are summed with the rest.

    A row counts under the level of its project (LedgerEntry.project_code → training Project.code); a row
    of a recognised claim (source external certificate) always counts under 外部认定学时 (the code on a
    claim is the certificate's, not a project run here); other rows without a project count under
    校本学时 (source school-based) or 师本学时 (source self-study); a manual adjustment without a project is
    in no level column. 集中面授学时 and 网络研修学时 go by the row's own mode, whatever its level."""
    params = {
        "jan1": dt.date(year, 1, 1), "dec31": dt.date(year, 12, 31),
        "national": Level.NATIONAL, "provincial": Level.PROVINCIAL, "municipal": Level.MUNICIPAL,
        "county": Level.COUNTY, "school_level": Level.SCHOOL, "self_level": Level.SELF,
        "external": Source.EXTERNAL_CERTIFICATE, "school_source": Source.SCHOOL_BASED,
        "self_source": Source.SELF_STUDY, "face": Mode.FACE_TO_FACE, "online": Mode.ONLINE,
    }
    by_project = "p.id IS NOT NULL AND l.source <> %(external)s AND p.level = "
    no_project = "p.id IS NULL AND l.source = "
    sql = f"""
        SELECT t.staff_no, t.id_number, t.gender, t.employment_type, t.title,
               COALESCE(h.national, 0), COALESCE(h.provincial, 0), COALESCE(h.municipal, 0), COALESCE(h.county, 0),
               COALESCE(h.school_based, 0), COALESCE(h.self_study, 0), COALESCE(h.external, 0),
               COALESCE(h.face_to_face, 0), COALESCE(h.online, 0),
               (COALESCE(h.positive_rows, 0) > 0 OR r.teacher_id IS NOT NULL) AS participated
        FROM bureau_teacher t
        LEFT JOIN (
            SELECT l.teacher_id,
                   SUM(l.hours) FILTER (WHERE {by_project} %(national)s) AS national,
                   SUM(l.hours) FILTER (WHERE {by_project} %(provincial)s) AS provincial,
                   SUM(l.hours) FILTER (WHERE {by_project} %(municipal)s) AS municipal,
                   SUM(l.hours) FILTER (WHERE {by_project} %(county)s) AS county,
                   SUM(l.hours) FILTER (WHERE ({by_project} %(school_level)s) OR ({no_project} %(school_source)s))
                       AS school_based,
                   SUM(l.hours) FILTER (WHERE ({by_project} %(self_level)s) OR ({no_project} %(self_source)s))
                       AS self_study,
                   SUM(l.hours) FILTER (WHERE l.source = %(external)s) AS external,
                   SUM(l.hours) FILTER (WHERE l.mode = %(face)s) AS face_to_face,
                   SUM(l.hours) FILTER (WHERE l.mode = %(online)s) AS online,
                   COUNT(*) FILTER (WHERE l.credits > 0) AS positive_rows
            FROM credits_ledgerentry l
            LEFT JOIN training_project p ON p.code = l.project_code AND l.project_code <> ''
            WHERE l.entry_date >= %(jan1)s AND l.entry_date <= %(dec31)s
            GROUP BY l.teacher_id
        ) h ON h.teacher_id = t.id
        LEFT JOIN (
            SELECT DISTINCT en.teacher_id
            FROM training_result r JOIN training_enrolment en ON en.id = r.enrolment_id
            WHERE r.completed_on >= %(jan1)s AND r.completed_on <= %(dec31)s
        ) r ON r.teacher_id = t.id
        ORDER BY t.staff_no
    """
    return sql, params


def teacher_attributes(year: int, *, chunk: int = 2000) -> Iterator[TeacherAttributes]:
    """Streamed through a server-side cursor, ordered by 工号 as ComplianceRun.teachers() is (the same
    column and collation), so the two merge in one pass. Close the generator when done early."""
    sql, params = teacher_attributes_sql(year)
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(chunk)
            if not rows:
                break
            for r in rows:
                yield TeacherAttributes(*r)
    finally:
        cursor.close()


def project_rows(year: int) -> Iterator[list]:
    """项目: each project with results dated in Y, by 项目编号. 参训人数 = the results dated in Y; 合格人数 =
    those graded 合格 or 优秀 (a passing grade, CR-1/CR-8: 合格人数 ÷ 参训人数 is the pass rate);
    优秀人数 = those graded 优秀."""
    excellent, _ = PASSING_GRADES
    rows = (
        Result.objects.filter(completed_on__year=year)
        .values("enrolment__project__code", "enrolment__project__name", "enrolment__project__level",
                "enrolment__project__mode", "enrolment__project__hours")
        .annotate(results=Count("pk"), passed=Count("pk", filter=Q(grade__in=PASSING_GRADES)),
                  excellent=Count("pk", filter=Q(grade=excellent)))
        .order_by("enrolment__project__code")
    )
    for r in rows.iterator(2000):
        yield [r["enrolment__project__code"], r["enrolment__project__name"], r["enrolment__project__level"],
               r["enrolment__project__mode"], float(r["enrolment__project__hours"]), r["results"], r["passed"],
               r["excellent"]]


def exchange_rows(year: int, schools: dict[str, SchoolInfo]) -> Iterator[list]:
    """交流: per 区县 (by code), from the exchange plan of Y: 应交流人数 (EX-1/EX-2 eligible), 最低交流人数
    (EX-3, summed over the district's schools), 已批准交流人数 (proposals approved or placed). No plan: no rows."""
    plan = ExchangePlan.objects.filter(year=year).first()
    if plan is None:
        return
    rules_ = plan.rules()
    quotas = school_quotas(year, rules_, eligible_teachers(year, rules_), proposals=plan.proposals.all())
    totals: dict[str, list] = {}
    for quota in quotas:
        school = schools.get(quota.code)
        if school is None:
            continue
        row = totals.setdefault(school.district_code, [school.district, 0, 0, 0])
        row[1] += quota.eligible
        row[2] += quota.minimum
        row[3] += quota.approved
    for code in sorted(totals):
        yield totals[code]


def active_on(day: dt.date):
    """Roster entries in force on `day`: awarded on or before it, not yet expired (an entry expires on
    its expiry date), not ended by a re-award on or before it, and not revoked on or before it (the
    revocation's date is its roster event's; a revoked entry without one counts as revoked)."""
    end_of_day = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    revoked_later = RosterEvent.objects.filter(entry=OuterRef("pk"), to_state=EntryStatus.REVOKED,
                                               created_at__gte=end_of_day)
    return (
        RosterEntry.objects.filter(awarded_on__lte=day, expires_on__gt=day)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=day))
        .exclude(Q(status=EntryStatus.REVOKED) & ~Exists(revoked_later))
    )


# SPEC BB-1 order: 省级, 市级, 县级; 教学名师, 学科带头人, 骨干教师.
TIER_ORDER = (Tier.PROVINCE, Tier.CITY, Tier.COUNTY)
TYPE_ORDER = (Type.MASTER, Type.LEADER, Type.BACKBONE)


def backbone_rows(year: int) -> list[list]:
    """骨干: 层级 × 类别 (all nine, zeros included) with the entries in force on 31 December of Y."""
    held = {
        (r["tier"], r["type"]): r["n"]
        for r in active_on(dt.date(year, 12, 31)).values("tier", "type").annotate(n=Count("pk")).order_by()
    }
    return [[tier.value, type_.value, held.get((tier.value, type_.value), 0)] for tier in TIER_ORDER for type_ in TYPE_ORDER]
