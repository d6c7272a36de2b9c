"""补报 pages (CR-9 amended): bureau staff approve or refuse the postings that wait in a closed year;
auditors read the same list without the buttons; both download a year's amendment report."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from bureau.choices import Role
from bureau.export_views import offer_export
from bureau.params import year_param
from bureau.permissions import role_required
from bureau.scoping import role_of
from bureau.services import ApplicationError

from .amendments import amendment_counts, amendment_decide, amendments_of_year
from .models import Amendment, ComplianceReport, ReportKind, ReportStatus
from .selectors import closed_report

PER_PAGE = 50


def _closed_years() -> list[int]:
    return list(ComplianceReport.objects.filter(kind=ReportKind.CLOSED, status=ReportStatus.DONE)
                .order_by("-year").values_list("year", flat=True))


@role_required(Role.BUREAU, Role.AUDITOR)
def amendments(request):
    years = _closed_years()
    year = year_param(request) if request.GET.get("year") else (years[0] if years else year_param(request))
    page = Paginator(amendments_of_year(year), PER_PAGE).get_page(request.GET.get("page"))
    counts = amendment_counts()
    return render(request, "credits/amendments.html", {
        "year": year, "closed": year in years, "page": page,
        "years": [{"year": y, "pending": counts.get(y, {}).get("pending", 0),
                   "total": sum(counts.get(y, {}).values())} for y in years],
        "may_decide": role_of(request.user) == Role.BUREAU,
    })


@require_POST
@role_required(Role.BUREAU)
def amendment_decide_view(request, pk: int):
    decision = request.POST.get("decision")
    back = reverse("credits:amendments")
    amendment = Amendment.objects.filter(pk=pk).select_related("teacher").first()
    if amendment is None:
        raise Http404
    back = f"{back}?year={amendment.year}"
    if decision not in ("approve", "refuse"):
        messages.error(request, "请选择通过或拒绝。")
        return redirect(back)
    try:
        amendment_decide(amendment_id=pk, approve=decision == "approve", reason=request.POST.get("reason", ""),
                         actor=request.user)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        done = "已通过，学分已登记" if decision == "approve" else "已拒绝，未登记学分"
        messages.success(request, f"{amendment.teacher.name}（{amendment.teacher.staff_no}）的补报{done}。")
    return redirect(back)


@role_required(Role.BUREAU, Role.AUDITOR)
def amendment_report_xlsx(request, year: int):
    """The whole city's comparison with the close: built in the background (issue 18 item 3)."""
    report = closed_report(year)
    if report is None or not report.workbook:
        raise Http404("该年度尚未关账。")
    return offer_export(request, kind="amendments", params={"year": year}, title=f"{year} 年度补报报告",
                        filename=f"amendments-{year}.xlsx")
