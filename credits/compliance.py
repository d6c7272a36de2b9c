"""Annual compliance (CR-3 caps, CR-4 to CR-8) computed in the database, for the city or a district,
school or teacher.

One statement computes every teacher's totals for the year (the ledger is read once, grouped by
teacher; the school and status of the year come from history, CR-7) and streams them through a
server-side cursor; a full stream sums the schools on the way (1,500 rows at city scale), a page that
needs only the schools runs the same statement grouped by school. Districts and the city are summed
from the school rows. The CR-7 flag is decided by credits.rules.school_flagged on the school figures,
so the database and the rule agree.
Annual credits are counted after the CR-3 caps in the same aggregate (credits.rules.annual_credits).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from bureau.choices import Mode, PostingKind, Status, Theme
from bureau.models import District
from bureau.vocabulary import PASSING_GRADES

from . import rules
from .models import ExemptionStatus, Source
from .selectors import policy_for

PASSING = PASSING_GRADES  # 优秀, 合格 (bureau.vocabulary)


@dataclass(frozen=True)
class Scope:
    district_id: int | None = None
    school_id: int | None = None
    teacher_id: int | None = None

    def sql(self, teacher_alias: str = "t", school_alias: str = "s") -> tuple[str, dict]:
        parts, params = [], {}
        if self.district_id is not None:
            parts.append(f"{school_alias}.district_id = %(scope_district)s")
            params["scope_district"] = self.district_id
        if self.school_id is not None:
            parts.append(f"{school_alias}.id = %(scope_school)s")
            params["scope_school"] = self.school_id
        if self.teacher_id is not None:
            parts.append(f"{teacher_alias}.id = %(scope_teacher)s")
            params["scope_teacher"] = self.teacher_id
        return (" AND ".join(parts) or "1 = 1"), params


def per_teacher_sql(year: int, policy: rules.PolicyValues, scope: Scope) -> tuple[str, dict]:
    """Every teacher's figures for the year (CR-4 subject, CR-5 annual, CR-6 cycle, CR-7 school, CR-8
    participation), one row per teacher, in one statement.

    CR-7 (amended) from history: the school is the home posting that covered most days of the year (on
    a tie the later one; `_school_of_year_parts`), the status is that of 31 December of each year
    (`_status_parts`); a scope (district, school) selects teachers by that school of the year."""
    cycle_start = rules.cycle_start_year(year, first_cycle_start=policy.first_cycle_start, cycle_years=policy.cycle_years)
    params = {}
    params.update(
        year=year,
        jan1=dt.date(year, 1, 1),
        dec31=dt.date(year, 12, 31),
        cycle_from=dt.date(cycle_start, 1, 1),
        active=Status.ACTIVE,
        regular=PostingKind.REGULAR,
        ethics=Theme.ETHICS,
        school_based_source=Source.SCHOOL_BASED,
        school_based_mode=Mode.SCHOOL_BASED,
        grade_a=PASSING[0],
        grade_b=PASSING[1],
        granted=ExemptionStatus.GRANTED.value,  # CR-4: a requested or refused exemption exempts nobody
        self_study_source=Source.SELF_STUDY,
        online_mode=Mode.ONLINE,
    )
    where, scope_params = scope.sql()
    params.update(scope_params)
    teacher_scope = _teacher_scope(scope, where)
    ledger_scope, results_scope = teacher_scope.replace("{col}", "teacher_id"), teacher_scope.replace("{col}", "en.teacher_id")
    capped_sums, uncounted = _capped_parts(policy, params)
    school_join = _school_of_year_parts(params, teacher_scope.replace("{col}", "m.teacher_id"))
    history_joins, subject, subject_years = _status_parts(year, policy, params, teacher_scope.replace("{col}", "teacher_id"))
    sql = f"""
        SELECT t.id AS teacher_id, t.staff_no, t.name, s.id AS school_id, s.code AS school_code, s.district_id,
               {subject} AS subject,
               COALESCE(l.annual_credits - {uncounted}, 0) AS annual_credits,
               COALESCE({uncounted}, 0) AS uncounted_credits,
               COALESCE(l.annual_hours, 0) AS annual_hours,
               COALESCE(l.ethics_hours, 0) AS ethics_hours,
               COALESCE(l.school_hours, 0) AS school_hours,
               COALESCE(l.cycle_hours, 0) AS cycle_hours,
               COALESCE(l.positive_rows, 0) AS positive_rows,
               COALESCE(r.results, 0) AS results,
               COALESCE(r.passed, 0) AS passed,
               {subject_years} AS subject_years,
               (2 * %(cycle_hours_100)s * {subject_years} + %(cycle_len_100)s) / %(cycle_len_200)s AS cycle_required
        FROM bureau_teacher t
        {school_join}
        {history_joins}
        LEFT JOIN (
            SELECT teacher_id,
                   ROUND(COALESCE(SUM(credits) FILTER (WHERE entry_date >= %(jan1)s), 0), 2) AS annual_credits,
                   ROUND(COALESCE(SUM(hours) FILTER (WHERE entry_date >= %(jan1)s), 0), 2) AS annual_hours,
                   ROUND(COALESCE(SUM(hours) FILTER (WHERE entry_date >= %(jan1)s AND theme = %(ethics)s), 0), 2) AS ethics_hours,
                   ROUND(COALESCE(SUM(hours) FILTER (WHERE entry_date >= %(jan1)s
                                                     AND (source = %(school_based_source)s OR mode = %(school_based_mode)s)), 0),
                         2) AS school_hours,
                   ROUND(SUM(hours), 2) AS cycle_hours,{capped_sums}
                   COUNT(*) FILTER (WHERE entry_date >= %(jan1)s AND credits > 0) AS positive_rows
            FROM credits_ledgerentry
            WHERE entry_date >= %(cycle_from)s AND entry_date <= %(dec31)s {ledger_scope}
            GROUP BY teacher_id
        ) l ON l.teacher_id = t.id
        LEFT JOIN (
            SELECT en.teacher_id, COUNT(*) AS results,
                   SUM(CASE WHEN r.grade IN (%(grade_a)s, %(grade_b)s) THEN 1 ELSE 0 END) AS passed
            FROM training_result r JOIN training_enrolment en ON en.id = r.enrolment_id
            WHERE r.completed_on >= %(jan1)s AND r.completed_on <= %(dec31)s {results_scope}
            GROUP BY en.teacher_id
        ) r ON r.teacher_id = t.id
        WHERE {where}
    """
    return sql, params


def _teacher_scope(scope: Scope, where: str) -> str:
    """A condition (on the column `{col}`) narrowing the ledger and results reads to the teachers a scope
    can hold: those now at its schools and those with a home post there during the year (CR-7). A
    superset: the outer WHERE decides."""
    if scope.teacher_id is not None:
        return "AND {col} = %(scope_teacher)s"
    if scope.district_id is None and scope.school_id is None:
        return ""
    return (f"AND {{col}} IN (SELECT t.id FROM bureau_teacher t JOIN bureau_school s ON s.id = t.school_id WHERE {where}"
            f" UNION SELECT p.teacher_id FROM bureau_posting p JOIN bureau_school s ON s.id = p.school_id"
            f" WHERE p.kind = %(regular)s AND p.started_on <= %(dec31)s AND p.ended_on >= %(jan1)s AND {where})")


def _school_of_year_parts(params: dict, scoped: str) -> str:
    """CR-7 (amended): the join giving each teacher the school of the year: the home posting (kind
    regular) that covered the most days of the year, on a tie the later one. Only teachers whose home
    post closed during or after the year can have had another school in it (a partial index finds
    them); everyone else is at the school of their record, which is their open home post. `scoped`
    narrows the movers to the teachers a scope can hold (a school page ranks its own few)."""
    if connection.vendor == "postgresql":
        days = "(LEAST(COALESCE(p.ended_on, %(dec31)s), %(dec31)s) - GREATEST(p.started_on, %(jan1)s))"
    else:  # SQLite keeps dates as text
        days = ("(julianday(MIN(COALESCE(p.ended_on, %(dec31)s), %(dec31)s))"
                " - julianday(MAX(p.started_on, %(jan1)s)))")
    return f"""
        LEFT JOIN (
            SELECT teacher_id, school_id FROM (
                SELECT p.teacher_id, p.school_id,
                       ROW_NUMBER() OVER (PARTITION BY p.teacher_id ORDER BY {days} DESC, p.started_on DESC, p.id DESC) AS rn
                FROM bureau_posting p
                WHERE p.kind = %(regular)s AND p.started_on <= %(dec31)s AND (p.ended_on IS NULL OR p.ended_on >= %(jan1)s)
                  AND p.teacher_id IN (SELECT m.teacher_id FROM bureau_posting m
                                       WHERE m.ended_on >= %(jan1)s AND m.kind = %(regular)s AND m.started_on <= %(dec31)s
                                       {scoped})
            ) ranked WHERE rn = 1
        ) hp ON hp.teacher_id = t.id
        JOIN bureau_school s ON s.id = COALESCE(hp.school_id, t.school_id)"""


def _status_parts(year: int, policy: rules.PolicyValues, params: dict, scoped: str) -> tuple[str, str, str]:
    """CR-4 and CR-6 (amended) from history, for every year of the cycle from its start through Y: the
    joins, the expression `subject` (subject to the check in Y) and `subject_years` (the years of the
    cycle in which the teacher was subject: the CR-6 requirement so far).

    Subject in a year = 在职 on 31 December of it, employed on or before 1 January of it, and no granted
    exemption for it. The status of a day is the `from_status` of the teacher's first recorded change
    after that day, else the status now (bureau.models.StatusChange: effective dates never go back, so
    the first change is the one with the smallest id, and `MIN(id * 2 + was_active)` carries both the
    choice and the answer in one integer). Both derived tables read only the few changes after the
    cycle's first year and the (small) exemption table, grouped by teacher (narrowed by `scoped` to the
    teachers a scope can hold): no rescan of the ledger.

    The requirement, policy cycle hours × years ÷ cycle length rounded half up, is done in integer
    arithmetic (⌊(2·H·100·n + 100·L) / (200·L)⌋) so that PostgreSQL and SQLite give
    credits.rules.cycle_requirement's figure exactly."""
    years = rules.cycle_years_through(year, policy=policy)
    firsts, exempts, subjects = [], [], []
    for i, y in enumerate(years):
        params[f"cycle_y{i}"] = y
        params[f"cycle_jan1_{i}"] = dt.date(y, 1, 1)
        params[f"cycle_dec31_{i}"] = dt.date(y, 12, 31)
        firsts.append(f"MIN(CASE WHEN effective_on > %(cycle_dec31_{i})s THEN id * 2 + "
                      f"CASE WHEN from_status = %(active)s THEN 1 ELSE 0 END END) AS k{i}")
        exempts.append(f"MAX(CASE WHEN year = %(cycle_y{i})s THEN 1 ELSE 0 END) AS x{i}")
        active = (f"CASE WHEN sc.k{i} IS NULL THEN CASE WHEN t.status = %(active)s THEN 1 ELSE 0 END "
                  f"ELSE sc.k{i} - 2 * (sc.k{i} / 2) END")
        subjects.append(f"CASE WHEN ({active}) = 1 AND t.employed_on <= %(cycle_jan1_{i})s "
                        f"AND COALESCE(cx.x{i}, 0) = 0 THEN 1 ELSE 0 END")
    params["cycle_hours_100"] = int(policy.cycle_hours * 100)
    params["cycle_len_100"] = 100 * policy.cycle_years
    params["cycle_len_200"] = 200 * policy.cycle_years
    joins = f"""
        LEFT JOIN (
            SELECT teacher_id, {", ".join(firsts)}
            FROM bureau_statuschange WHERE effective_on > %(cycle_dec31_0)s {scoped}
            GROUP BY teacher_id
        ) sc ON sc.teacher_id = t.id
        LEFT JOIN (
            SELECT teacher_id, {", ".join(exempts)}
            FROM credits_exemption WHERE status = %(granted)s AND year >= %(cycle_y0)s AND year <= %(year)s {scoped}
            GROUP BY teacher_id
        ) cx ON cx.teacher_id = t.id"""
    return joins, f"({subjects[-1]})", "(" + " + ".join(subjects) + ")"


def _capped_parts(policy: rules.PolicyValues, params: dict) -> tuple[str, str]:
    """CR-3/CR-5 in the aggregate: the ledger sums of the capped kinds (credits.rules.cap_kind) and the
    expression of what exceeds the caps, for per_teacher_sql. The sums include reversal rows, so a
    reversal lowers a kind's sum before its cap applies (rules.over_cap); a kind without a cap adds no
    sum at all. Annual credits are the recorded sum less this excess."""
    sums, excess = [], []
    kinds = (
        ("self_study", policy.self_study_cap, "source = %(self_study_source)s"),
        ("online", policy.online_cap, "mode = %(online_mode)s AND source <> %(self_study_source)s"),
    )
    for kind, cap, condition in kinds:
        if cap is None:
            continue
        params[f"{kind}_cap"] = cap
        sums.append(f"""
                   ROUND(COALESCE(SUM(credits) FILTER (WHERE entry_date >= %(jan1)s AND {condition}), 0), 2)
                       AS {kind}_credits,""")
        excess.append(f"CASE WHEN l.{kind}_credits > CAST(%({kind}_cap)s AS NUMERIC) "
                      f"THEN l.{kind}_credits - CAST(%({kind}_cap)s AS NUMERIC) ELSE 0 END")
    return "".join(sums), ("(" + " + ".join(excess) + ")") if excess else "0"


@dataclass(slots=True)
class TeacherRow:
    staff_no: str
    name: str
    school_code: str
    annual_credits: Decimal
    annual_hours: Decimal
    ethics_hours: Decimal
    school_hours: Decimal
    cycle_hours: Decimal
    subject: bool
    compliant: bool
    uncounted: Decimal = Decimal("0")  # 超出上限未计 (CR-3): recorded, left out of annual_credits
    # CR-5/CR-6 (amended): the sub-verdicts (None: blank, for 免考核; 周期达标 outside the cycle's last year)
    # and the cycle's requirement so far with the count of subject years it comes from.
    ethics_ok: bool | None = None
    school_ok: bool | None = None
    subject_years: int = 0
    cycle_required: int = 0
    cycle_ok: bool | None = None

    @property
    def short_of(self) -> list[str]:
        """What the teacher is short of, in words for lists: 学分, 师德, 校本, 周期."""
        if not self.subject:
            return []
        out = [] if self.compliant else ["学分"]
        if self.ethics_ok is False:
            out.append("师德")
        if self.school_ok is False:
            out.append("校本")
        if self.cycle_hours < self.cycle_required:
            out.append("周期")
        return out

    @property
    def verdict(self) -> str:
        """是 / 否 / 免考核, as the workbook writes it."""
        if not self.subject:
            return "免考核"
        return "是" if self.compliant else "否"


@dataclass
class SchoolRow:
    school_id: int
    code: str
    name: str
    district_id: int
    district: str
    subject: int
    compliant: int
    participated: int
    results: int
    passed: int
    flagged: bool = False

    @property
    def short(self) -> int:
        return self.subject - self.compliant

    @property
    def short_ratio(self) -> float | None:
        return self.short / self.subject if self.subject else None


@dataclass
class DistrictRow:
    district_id: int
    code: str
    name: str
    schools: int = 0
    subject: int = 0
    compliant: int = 0
    flagged: int = 0

    @property
    def compliance_rate(self) -> float | None:
        return self.compliant / self.subject if self.subject else None


@dataclass
class Summary:
    year: int
    subject: int
    compliant: int
    participated: int
    results: int
    passed: int
    flagged: int
    policy: rules.PolicyValues = field(repr=False)

    @property
    def participation_rate(self) -> float | None:
        return self.participated / self.subject if self.subject else None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.results if self.results else None

    @property
    def compliance_rate(self) -> float | None:
        return self.compliant / self.subject if self.subject else None

    def as_dict(self) -> dict:
        return {
            "year": self.year,
            "subject": self.subject,
            "compliant": self.compliant,
            "participated": self.participated,
            "results": self.results,
            "passed": self.passed,
            "flagged": self.flagged,
            "participation_rate": self.participation_rate,
            "pass_rate": self.pass_rate,
            "compliance_rate": self.compliance_rate,
        }


class ComplianceRun:
    """Compute a year's compliance, then read it in several shapes. Use as a context manager.

    No temporary table (issue 18): `teachers()` streams the per-teacher rows in one statement, and a
    full stream sums the schools on the way, so the workbook (teacher sheet first, then the roll-ups)
    reads the ledger once. `schools()` asked for before any stream is one grouped statement of its own."""

    def __init__(self, year: int, *, scope: Scope | None = None):
        self.year = year
        self.scope = scope or Scope()
        self.policy = policy_for(year)
        self._schools: list[SchoolRow] | None = None
        self._streamed: int | None = None  # rows of the last full stream read to its end

    def __enter__(self) -> ComplianceRun:
        return self

    def __exit__(self, *exc):
        return False

    def _school_list(self) -> dict[int, SchoolRow]:
        """Every school in scope with zero figures, by id (a teacher scope: the teacher's school of Y)."""
        if self.scope.teacher_id is not None:
            sql, params = per_teacher_sql(self.year, self.policy, self.scope)
            where, params = f"s.id IN (SELECT school_id FROM ({sql}) pt)", params
        else:
            where, params = self.scope.sql(teacher_alias="s", school_alias="s")
        with connection.cursor() as cursor:
            cursor.execute(f"""
                SELECT s.id, s.code, s.name, d.id, d.name FROM bureau_school s
                JOIN bureau_district d ON d.id = s.district_id WHERE {where}""", params)
            return {r[0]: SchoolRow(*r, 0, 0, 0, 0, 0) for r in cursor.fetchall()}

    def school_names(self) -> dict[str, str]:
        """学校代码 → 学校名称 of the schools in scope (for names beside codes)."""
        return {row.code: row.name for row in self._school_list().values()}

    def _set_schools(self, rows: dict[int, SchoolRow]) -> list[SchoolRow]:
        out = sorted(rows.values(), key=lambda r: r.code)
        for row in out:
            row.flagged = rules.school_flagged(short=row.short, subject=row.subject, threshold=self.policy.flag_threshold)
        self._schools = out
        return out

    def schools(self) -> list[SchoolRow]:
        """Every school in scope, with or without teachers, ordered by 学校代码; CR-7 flag decided here."""
        if self._schools is not None:
            return self._schools
        sql, params = per_teacher_sql(self.year, self.policy, self.scope)
        return self._schools_rollup(sql, params)

    def _schools_rollup(self, sql: str, params: dict) -> list[SchoolRow]:
        params = {**params, "req": self.policy.annual_credits}
        rows = self._school_list()
        with connection.cursor() as cursor:
            cursor.execute(f"""
                SELECT pt.school_id, SUM(pt.subject),
                       SUM(CASE WHEN pt.subject = 1 AND pt.annual_credits >= CAST(%(req)s AS NUMERIC) THEN 1 ELSE 0 END),
                       SUM(CASE WHEN pt.subject = 1 AND (pt.positive_rows > 0 OR pt.results > 0) THEN 1 ELSE 0 END),
                       SUM(pt.results), SUM(pt.passed)
                FROM ({sql}) pt GROUP BY pt.school_id""", params)
            for school_id, subject, compliant, participated, results, passed in cursor.fetchall():
                row = rows.get(school_id)
                if row is not None:
                    row.subject, row.compliant, row.participated = int(subject), int(compliant), int(participated)
                    row.results, row.passed = int(results), int(passed)
        return self._set_schools(rows)

    def districts(self) -> list[DistrictRow]:
        names = {d.pk: d for d in District.objects.filter(pk__in={s.district_id for s in self.schools()})}
        out: dict[int, DistrictRow] = {}
        for school in self.schools():
            district = names[school.district_id]
            row = out.setdefault(school.district_id, DistrictRow(district.pk, district.code, district.name))
            row.schools += 1
            row.subject += school.subject
            row.compliant += school.compliant
            row.flagged += school.flagged
        return sorted(out.values(), key=lambda d: d.code)

    def summary(self) -> Summary:
        schools = self.schools()
        return Summary(
            year=self.year,
            subject=sum(s.subject for s in schools),
            compliant=sum(s.compliant for s in schools),
            participated=sum(s.participated for s in schools),
            results=sum(s.results for s in schools),
            passed=sum(s.passed for s in schools),
            flagged=sum(s.flagged for s in schools),
            policy=self.policy,
        )

    def expected_teachers(self) -> int:
        """About how many rows a full `teachers()` stream gives (for progress bars): the teachers now at
        the scope's schools. Exact for the city."""
        where, params = self.scope.sql()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM bureau_teacher t JOIN bureau_school s ON s.id = t.school_id WHERE {where}",
                           params)
            return cursor.fetchone()[0]

    def teacher_count(self) -> int:
        """The rows of a full stream: counted by it once read to the end, else expected_teachers()."""
        return self._streamed if self._streamed is not None else self.expected_teachers()

    def teachers(self, *, only_short: bool = False, only_capped: bool = False, short_of_anything: bool = False,
                 school_id: int | None = None, chunk: int = 2000) -> Iterator[TeacherRow]:
        """Teacher rows ordered by 工号, streamed (server-side cursor on PostgreSQL): constant memory.
        `only_short`: subject and short of credits; `only_capped`: a CR-3 cap left some credits out;
        `short_of_anything`: subject and short of credits, ethics, school-based or cycle hours (the
        "who is short on what" lists; TeacherRow.short_of says of what); `school_id`: one school's (of Y).
        An unfiltered stream read to its end also sums the schools (then `schools()` costs nothing)."""
        sql, params = per_teacher_sql(self.year, self.policy, self.scope)
        params.update(req=self.policy.annual_credits, min_ethics=self.policy.min_ethics_hours,
                      min_school=self.policy.min_school_based_hours)
        conditions = []
        if only_short:
            conditions.append("subject = 1 AND annual_credits < CAST(%(req)s AS NUMERIC)")
        if short_of_anything:
            conditions.append("subject = 1 AND (annual_credits < CAST(%(req)s AS NUMERIC)"
                              " OR ethics_hours < CAST(%(min_ethics)s AS NUMERIC)"
                              " OR school_hours < CAST(%(min_school)s AS NUMERIC) OR cycle_hours < cycle_required)")
        if school_id is not None:
            conditions.append("school_id = %(school_id)s")
            params["school_id"] = school_id
        if only_capped:
            conditions.append("uncounted_credits > 0")
        condition = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        tally = None if conditions or self._schools is not None else {}
        # The sub-verdicts are decided in this SELECT, as credits.rules decides them (ethics_met,
        # school_based_met, cycle_met: ≥, blank when not subject or outside the cycle's last year): one
        # Python call per row less, which PERF-1 measured. tests/credits/test_verdicts.py holds the two equal.
        cycle_ok = ("CASE WHEN subject = 1 THEN cycle_hours >= cycle_required END"
                    if rules.is_cycle_last_year(self.year, policy=self.policy) else "NULL")
        # A full stream on PostgreSQL first computes the rows with CREATE TABLE AS, which may run in
        # parallel workers; a server-side cursor never gets a parallel plan, and the ledger aggregate in
        # parallel is most of the time (PERF-1: 1.9 s through a cursor against 1.2 s this way at 100,000
        # teachers, docs/decisions.md). The schools are then summed from that table in one statement.
        table = None
        source, order = f"({sql})", "ORDER BY staff_no"
        fast = connection.vendor == "postgresql"  # NUMERIC as Decimal and booleans as bool: nothing to convert
        if fast and not conditions:
            table = f"compliance_{uuid.uuid4().hex[:12]}"
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE TEMPORARY TABLE {table} AS {sql} ORDER BY t.staff_no", params)
            if self._schools is None:
                self._schools_from(table)
            # No second sort: the table was written in 工号 order by the statement's own sort, and a
            # sequential scan of a temporary table returns its rows in the order they were written
            # (temporary tables use local buffers: no synchronized or parallel scans start mid-table).
            source, order = table, ""
        tally = None if conditions or self._schools is not None else {}
        # The school columns only for a stream that sums the schools itself: a full stream on PostgreSQL
        # has them summed from its table already, and fetching four unused columns of 100,000 rows was
        # about 0.07 s of PERF-1 (bench/RESULTS.md, session 7).
        school_columns = ("" if tally is None else
                          ", school_id, CASE WHEN subject = 1 AND (positive_rows > 0 OR results > 0) THEN 1 ELSE 0 END,"
                          " results, passed")
        sql = f"""
            SELECT staff_no, name, school_code, annual_credits, annual_hours, ethics_hours, school_hours, cycle_hours,
                   subject = 1, subject = 1 AND annual_credits >= CAST(%(req)s AS NUMERIC),
                   uncounted_credits,
                   CASE WHEN subject = 1 THEN ethics_hours >= CAST(%(min_ethics)s AS NUMERIC) END,
                   CASE WHEN subject = 1 THEN school_hours >= CAST(%(min_school)s AS NUMERIC) END,
                   subject_years, cycle_required, {cycle_ok}{school_columns}
            FROM {source} pt {condition} {order}
        """
        cursor = connection.chunked_cursor()
        streamed = 0
        try:
            cursor.execute(sql, params)
            while True:
                rows = cursor.fetchmany(chunk)
                if not rows:
                    break
                streamed += len(rows)
                if fast and tally is None:  # PostgreSQL's types are the row's: one call a row
                    for r in rows:
                        yield TeacherRow(*r)
                    continue
                for r in rows:
                    subject, compliant = r[8] == 1, r[9] == 1
                    if tally is not None:
                        sums = tally.get(r[16])
                        if sums is None:
                            sums = tally[r[16]] = [0, 0, 0, 0, 0]
                        sums[0] += subject
                        sums[1] += compliant
                        sums[2] += r[17]
                        sums[3] += r[18]
                        sums[4] += r[19]
                    if fast:
                        yield TeacherRow(*r[:16])
                        continue
                    yield TeacherRow(r[0], r[1], r[2], *map(_dec, r[3:8]), subject, compliant, _dec(r[10]),
                                     None if r[11] is None else r[11] == 1, None if r[12] is None else r[12] == 1,
                                     int(r[13]), int(r[14]), None if r[15] is None else r[15] == 1)
        finally:
            cursor.close()
            if table is not None:
                with connection.cursor() as drop:
                    drop.execute(f"DROP TABLE IF EXISTS {table}")
        if not conditions:
            self._streamed = streamed
        if tally is not None and self._schools is None:  # read to the end: the schools are summed
            schools = self._school_list()
            for school_id_, (subject, compliant, participated, results, passed) in tally.items():
                row = schools.get(school_id_)
                if row is not None:
                    row.subject, row.compliant, row.participated = int(subject), int(compliant), int(participated)
                    row.results, row.passed = int(results), int(passed)
            self._set_schools(schools)

    def _schools_from(self, table: str) -> None:
        """The school roll-up from a table of this run's per-teacher rows (one grouped statement)."""
        self._schools_rollup(f"SELECT * FROM {table}", {})


def _with_verdicts(row: TeacherRow, year: int, policy: rules.PolicyValues, subject_years: int,
                   cycle_required: int) -> TeacherRow:
    """CR-5/CR-6 (amended): the sub-verdicts of a row, decided by credits.rules on the database's figures.
    周期达标 is blank for a teacher not subject in Y, like 师德达标 and 校本达标 (docs/decisions.md)."""
    row.ethics_ok = rules.ethics_met(ethics_hours=row.ethics_hours, policy=policy, subject=row.subject)
    row.school_ok = rules.school_based_met(school_hours=row.school_hours, policy=policy, subject=row.subject)
    row.subject_years = subject_years
    row.cycle_required = cycle_required
    row.cycle_ok = (rules.cycle_met(year=year, cycle_hours=row.cycle_hours, requirement=cycle_required, policy=policy)
                    if row.subject else None)
    return row


def _dec(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(Decimal("0.01"))


def school_figures(year: int, school) -> tuple[SchoolRow, Summary, list[TeacherRow]]:
    """One school's year in a single query and no temporary table: for the school pages, where the
    rows are one school's teachers. The decisions are credits.rules', as in the city-wide run."""
    policy = policy_for(year)
    sql, params = per_teacher_sql(year, policy, Scope(school_id=school.pk))
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY t.staff_no", params)
        fetched = cursor.fetchall()
    teachers, subject, compliant, participated, results, passed = [], 0, 0, 0, 0, 0
    for (_id, staff_no, name, _school, code, _district, is_subject, annual_credits, uncounted, annual_hours, ethics,
         school_hours, cycle_hours, positive_rows, result_count, passed_count, subject_years, cycle_required) in fetched:
        credits_ = _dec(annual_credits)
        ok = bool(is_subject) and rules.is_compliant(annual_credits=credits_, requirement=policy.annual_credits)
        teachers.append(_with_verdicts(
            TeacherRow(staff_no, name, code, credits_, _dec(annual_hours), _dec(ethics), _dec(school_hours),
                       _dec(cycle_hours), bool(is_subject), ok, _dec(uncounted)),
            year, policy, int(subject_years), int(cycle_required),
        ))
        subject += bool(is_subject)
        compliant += ok
        participated += bool(is_subject) and (positive_rows > 0 or result_count > 0)
        results += result_count
        passed += passed_count
    row = SchoolRow(school.pk, school.code, school.name, school.district_id, school.district.name, subject, compliant,
                    participated, results, passed)
    row.flagged = rules.school_flagged(short=row.short, subject=row.subject, threshold=policy.flag_threshold)
    summary = Summary(year=year, subject=subject, compliant=compliant, participated=participated, results=results,
                      passed=passed, flagged=int(row.flagged), policy=policy)
    return row, summary, teachers
