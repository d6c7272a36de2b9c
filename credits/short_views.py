"""Who is short on what (CR-5, CR-6 amended): the principal's list of the school's teachers short of
credits, ethics, school-based or cycle hours, and the same list for district and bureau staff (one
district at a time on the page, the whole scope in the xlsx), every query started from bureau.scoping.

The school list is one query (credits.compliance.school_figures); a district's is one compliance run
(a temporary table, as the district dashboard). The page shows at most PAGE_ROWS rows; the xlsx has all.
"""

from __future__ import annotations

import io
from collections import Counter

from django.http import Http404
from django.shortcuts import get_object_or_404, render

from bureau.choices import Role
from bureau.params import id_param, year_param
from bureau.permissions import role_required
from bureau.scoping import profile_of, role_of, visible_districts
from bureau.spreadsheets import About, xlsx_response

from .compliance import ComplianceRun, Scope, school_figures
from .dashboards import STAFF
from .exports import write_short_workbook
from .rules import is_cycle_last_year

PAGE_ROWS = 300
KINDS = ("学分", "师德", "校本", "周期")


def _tally(rows) -> tuple[list, dict, int]:
    """The first PAGE_ROWS rows, how many are short of each thing, and how many in all."""
    shown, counts, total = [], Counter(), 0
    for row in rows:
        total += 1
        counts.update(row.short_of)
        if len(shown) < PAGE_ROWS:
            shown.append(row)
    return shown, [{"kind": k, "count": counts[k]} for k in KINDS], total


def _own_school(request):
    school = profile_of(request.user).school
    if school is None:
        raise Http404
    return school


@role_required(Role.PRINCIPAL)
def school_short(request):
    school = _own_school(request)
    year = year_param(request)
    _, summary, teachers = school_figures(year, school)
    shown, counts, total = _tally(t for t in teachers if t.short_of)
    return render(request, "credits/short_list.html", {
        "year": year, "school": school, "policy": summary.policy, "rows": shown, "counts": counts, "total": total,
        "last_year": is_cycle_last_year(year, policy=summary.policy), "page_rows": PAGE_ROWS,
    })


@role_required(Role.PRINCIPAL)
def school_short_xlsx(request):
    school = _own_school(request)
    year = year_param(request)
    _, summary, teachers = school_figures(year, school)
    buffer = io.BytesIO()
    write_short_workbook(buffer, (t for t in teachers if t.short_of), summary.policy,
                         about=About("欠缺名单（谁还差什么）", year=year, scope=f"{school.code} {school.name}", by=request.user))
    return xlsx_response(buffer, f"short-{year}.xlsx")


def _district(request):
    """The district asked for (?district=), within the user's scope (404 outside); a district's staff
    get their own when they name none; None for bureau staff and auditors who name none (the city)."""
    pk = id_param(request, "district")
    if pk is None and role_of(request.user) == Role.DISTRICT:
        pk = profile_of(request.user).district_id
    if pk is None:
        return None
    return get_object_or_404(visible_districts(request.user), pk=pk)


@role_required(*STAFF)
def short_list(request):
    year = year_param(request)
    district = _district(request)
    context = {"year": year, "district": district, "page_rows": PAGE_ROWS}
    if district is None:  # the city: pick a district on the page (a live city-wide list is the xlsx)
        context["districts"] = visible_districts(request.user).order_by("code")
        return render(request, "credits/short_list.html", context)
    with ComplianceRun(year, scope=Scope(district_id=district.pk)) as run:
        shown, counts, total = _tally(run.teachers(short_of_anything=True))
        policy = run.policy
    context.update(rows=shown, counts=counts, total=total, policy=policy,
                   last_year=is_cycle_last_year(year, policy=policy))
    return render(request, "credits/short_list.html", context)


@role_required(*STAFF)
def short_xlsx(request):
    year = year_param(request)
    district = _district(request)
    scope = Scope(district_id=district.pk) if district is not None else Scope()
    buffer = io.BytesIO()
    with ComplianceRun(year, scope=scope) as run:
        write_short_workbook(buffer, run.teachers(short_of_anything=True), run.policy,
                             about=About("欠缺名单（谁还差什么）", year=year, scope=district.name if district else "全市",
                                         by=request.user))
    return xlsx_response(buffer, f"short-{year}{'-' + district.code if district else ''}.xlsx")
