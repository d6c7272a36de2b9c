"""The backbone roster page and its workbook (SPEC §7 名册): every entry ever made, in the user's scope."""

from __future__ import annotations

import io

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from bureau.choices import Role
from bureau.export_views import offer_export
from bureau.permissions import role_required
from bureau.scoping import role_of, visible_teachers
from bureau.spreadsheets import xlsx_response

from .exports import ROSTER_STATUS_WORDS, roster_entries, roster_status_word, write_roster
from .models import Tier, Type

PAGE_SIZE = 50


def _filtered(request):
    entries = roster_entries(None if role_of(request.user) in (Role.BUREAU, Role.AUDITOR)
                             else visible_teachers(request.user))
    tier, type_, status = request.GET.get("tier", ""), request.GET.get("type", ""), request.GET.get("status", "")
    if tier in Tier.values:
        entries = entries.filter(tier=tier)
    if type_ in Type.values:
        entries = entries.filter(type=type_)
    if status in ROSTER_STATUS_WORDS:
        entries = entries.filter(status=status)
    return entries, {"tier": tier, "type": type_, "status": status}


@role_required(Role.BUREAU, Role.DISTRICT, Role.AUDITOR, Role.PRINCIPAL)
def roster(request):
    entries, chosen = _filtered(request)
    today = timezone.localdate()
    if request.GET.get("format") == "xlsx":
        if role_of(request.user) != Role.PRINCIPAL:  # larger than a school: in the background (issue 18)
            return offer_export(request, kind="roster", params={**chosen, "today": today.isoformat()},
                                title="骨干名册", filename=f"backbone-roster-{today:%Y%m%d}.xlsx")
        buffer = io.BytesIO()
        write_roster(buffer, entries, today, by=request.user, scope="本校")
        return xlsx_response(buffer, f"backbone-roster-{today:%Y%m%d}.xlsx")
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.status_word = roster_status_word(entry.status, entry.expires_on, today)
    query = "&".join(f"{k}={v}" for k, v in chosen.items() if v)
    return render(request, "backbone/roster.html", {
        "page": page, "chosen": chosen, "tiers": Tier.values, "types": Type.values,
        "statuses": list(ROSTER_STATUS_WORDS.items()), "query": query,
    })
