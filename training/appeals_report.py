"""Turnaround of appeals (申诉, CR-12), reported like claims (credits.claims_report): reads only.

Per school and per district, for appeals decided (upheld or rejected) in a period: how many, how many upheld,
the median and 90th percentile of the days from filing to decision, and how many took longer than the
policy's wait limit (claim_max_wait_days, the limit claims are held to); plus the appeals pending now and
those pending past the limit (超期). Database aggregates, one query per level, and the xlsx of the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from bureau.spreadsheets import About, SheetSpec, write_workbook
from credits.claims_report import turnaround_rollup

from .appeals import max_wait_days
from .models import Appeal, AppealState

DECIDED_STATES = (AppealState.UPHELD, AppealState.REJECTED)


@dataclass(frozen=True)
class AppealTurnaround:
    start: dt.date
    end: dt.date
    max_wait_days: int
    total: dict
    districts: list[dict]
    schools: list[dict]
    late: list[Appeal]


def _period(start: dt.date, end: dt.date) -> Q:
    """Decided on a local (Asia/Shanghai) day from `start` through `end`."""
    tz = timezone.get_current_timezone()
    low = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return Q(state__in=DECIDED_STATES, decided_at__gte=low, decided_at__lt=high)


def appeal_turnaround(*, appeals: QuerySet[Appeal], start: dt.date, end: dt.date, now: dt.datetime) -> AppealTurnaround:
    """The turnaround of `appeals` (already scoped: training.appeals.visible_appeals) decided from start through
    end. Late: decided more than the limit (of the period's last year) after filing; exactly the limit is in
    time. `waiting_late` (超期) counts pending appeals past the limit at `now`."""
    max_wait = max_wait_days(end)
    limit = dt.timedelta(days=max_wait)
    decided = _period(start, end)
    waiting = Q(state=AppealState.PENDING)
    total, districts, schools, late = turnaround_rollup(
        appeals, decided=decided, waiting=waiting, limit=limit, now=now,
        extra={"upheld": Q(state=AppealState.UPHELD)}, related=("project",))
    return AppealTurnaround(start=start, end=end, max_wait_days=max_wait, total=total, districts=districts,
                            schools=schools, late=late)


def _days(value) -> float | None:
    return None if value is None else round(value, 1)


FIGURE_HEADERS = ["办结", "支持", "中位天数", "90分位天数", "超时办结", "当前待处理", "当前超期"]


def _figures(row: dict) -> list:
    return [row["decided"], row["upheld"], _days(row["median_days"]), _days(row["p90_days"]), row["late"],
            row["waiting"], row["waiting_late"]]


def write_turnaround_workbook(target, report: AppealTurnaround, *, by=None) -> None:
    """The report as a workbook: 学校, 区县 and 超期 sheets, the same figures as the page."""
    write_workbook(target, [
        SheetSpec("学校", ["区县", "学校代码", "学校", *FIGURE_HEADERS],
                  ([s["district_name"], s["school_code"], s["school_name"], *_figures(s)] for s in report.schools)),
        SheetSpec("区县", ["区县代码", "区县", *FIGURE_HEADERS],
                  ([d["district_code"], d["district_name"], *_figures(d)] for d in report.districts)),
        SheetSpec("超期清单", ["学校", "工号", "教师", "申诉对象", "提交时间", "状态", "天数"],
                  ([a.school.name, a.teacher.staff_no, a.teacher.name, a.get_kind_display(),
                    timezone.localtime(a.submitted_at).strftime("%Y-%m-%d %H:%M"), a.get_state_display(),
                    _days(a.days)] for a in report.late)),
    ], about=About("申诉办理时效", by=by))
