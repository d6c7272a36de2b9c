"""Turnaround of external recognition claims (SPEC §4, CR-3 claim_max_wait_days): reads only.

Per school and per district, for claims decided in a period: how many, the median and 90th percentile of
the days from submission to the final decision, and how many waited longer than the policy allows; plus
the claims waiting now for longer than that. All figures are database aggregates (one query per level).
PostgreSQL computes the percentiles with percentile_cont; on SQLite (the quick start) the same aggregate
is registered on the connection, computed by `percentile_cont` below (the same function the tests use).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Aggregate, Count, DateTimeField, F, FloatField, Func, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import CLAIM_OPEN_STATES, Claim
from .selectors import policy_for


def percentile_cont(values: Iterable[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: interpolate linearly between the two nearest ranks; None when empty."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class _SqlitePercentile:
    """percentile_cont as an SQLite aggregate: step(value, fraction) per row, finalize() per group."""

    def __init__(self):
        self.values, self.fraction = [], 0.5

    def step(self, value, fraction):
        if value is not None:
            self.values.append(value)
        self.fraction = fraction

    def finalize(self):
        return percentile_cont(self.values, self.fraction)


class PercentileCont(Aggregate):
    """percentile_cont(fraction) WITHIN GROUP (ORDER BY expression): the continuous percentile of a group."""

    function = "percentile_cont"
    name = "PercentileCont"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        connection.ensure_connection()
        connection.connection.create_aggregate("claims_percentile_cont", 2, _SqlitePercentile)
        clone = self.copy()
        clone.function, clone.template = "claims_percentile_cont", "%(function)s(%(expressions)s, %(fraction)s)"
        return clone.as_sql(compiler, connection, **extra_context)


class ElapsedDays(Func):
    """Days (with fractions) from one timestamp to a later one, as a float."""

    output_field = FloatField()
    arity = 2

    def _parts(self, compiler, connection):
        (start_sql, start_params), (end_sql, end_params) = (compiler.compile(e) for e in self.get_source_expressions())
        return start_sql, tuple(start_params), end_sql, tuple(end_params)

    def as_postgresql(self, compiler, connection, **extra_context):
        start_sql, start_params, end_sql, end_params = self._parts(compiler, connection)
        return (f"(EXTRACT(EPOCH FROM ({end_sql} - {start_sql}))::double precision / 86400.0)",
                (*end_params, *start_params))

    def as_sqlite(self, compiler, connection, **extra_context):
        start_sql, start_params, end_sql, end_params = self._parts(compiler, connection)
        return f"(julianday({end_sql}) - julianday({start_sql}))", (*end_params, *start_params)


@dataclass(frozen=True)
class Turnaround:
    start: dt.date
    end: dt.date
    max_wait_days: int
    total: dict
    districts: list[dict]
    schools: list[dict]
    late: list[Claim]


def _period(start: dt.date, end: dt.date) -> Q:
    """Decided on a local (Asia/Shanghai) day from `start` through `end`."""
    tz = timezone.get_current_timezone()
    low = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return Q(decided_at__gte=low, decided_at__lt=high)


def turnaround_rollup(rows: QuerySet, *, decided: Q, waiting: Q, limit: dt.timedelta, now: dt.datetime,
                      extra: dict | None = None, related: tuple[str, ...] = ()) -> tuple[dict, list, list, list]:
    """The turnaround figures of requests that are submitted and decided (recognition claims, appeals):
    (total, per district, per school, the 200 latest late ones). `rows` have submitted_at, decided_at and a
    school; `decided` and `waiting` say which count; late = decided after more than `limit`, or still
    waiting past it at `now` (exactly the limit is in time). `extra` adds counts (e.g. upheld appeals)."""
    decided_late = decided & Q(decided_at__gt=F("submitted_at") + limit)
    waiting_late = waiting & Q(submitted_at__lt=now - limit)
    days = ElapsedDays("submitted_at", "decided_at")
    figures = {
        "decided": Count("pk", filter=decided),
        **{name: Count("pk", filter=decided & condition) for name, condition in (extra or {}).items()},
        "median_days": PercentileCont(days, 0.5, filter=decided),
        "p90_days": PercentileCont(days, 0.9, filter=decided),
        "late": Count("pk", filter=decided_late),
        "waiting": Count("pk", filter=waiting),
        "waiting_late": Count("pk", filter=waiting_late),
    }
    base = rows.filter(decided | waiting)
    schools = list(
        base.values("school_id", school_code=F("school__code"), school_name=F("school__name"),
                    district_name=F("school__district__name"))
        .annotate(**figures)
        .order_by("school__district__code", "school__code")
    )
    districts = list(
        base.values(district_code=F("school__district__code"), district_name=F("school__district__name"))
        .annotate(**figures)
        .order_by("school__district__code")
    )
    total = base.aggregate(**figures)
    late = list(
        base.filter(decided_late | waiting_late)
        .annotate(days=ElapsedDays("submitted_at", Coalesce("decided_at", Value(now, output_field=DateTimeField()))))
        .select_related("teacher", "school__district", *related)
        .order_by("-days", "pk")[:200]
    )
    return total, districts, schools, late


def claim_turnaround(*, claims: QuerySet[Claim], start: dt.date, end: dt.date, now: dt.datetime) -> Turnaround:
    """The turnaround of `claims` (already scoped: credits.claims.visible_claims) decided from start through end.

    Late (CR-3): more than the policy's claim_max_wait_days (of the period's last year) between submission and
    decision; exactly the limit is in time. `waiting_late` counts open claims past the limit at `now`."""
    max_wait = policy_for(end.year).claim_max_wait_days
    limit = dt.timedelta(days=max_wait)
    decided = _period(start, end)
    waiting = Q(state__in=CLAIM_OPEN_STATES)
    total, districts, schools, late = turnaround_rollup(claims, decided=decided, waiting=waiting, limit=limit, now=now)
    return Turnaround(start=start, end=end, max_wait_days=max_wait, total=total, districts=districts,
                      schools=schools, late=late)


def claims_decided(*, claims: QuerySet[Claim], start: dt.date, end: dt.date) -> QuerySet[Claim]:
    """The claims behind a row of the report: decided in the period, with their days from submission."""
    return (
        claims.filter(_period(start, end))
        .annotate(days=ElapsedDays("submitted_at", "decided_at"))
        .select_related("teacher", "school__district", "decided_by")
        .order_by("-decided_at", "-pk")
    )
