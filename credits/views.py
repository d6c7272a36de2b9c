"""Teacher portal (own credits, transcript, hours) and the principal's hours approvals."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bureau.choices import Role
from bureau.pages import cached_page, render_cached
from bureau.params import year_key, year_param
from bureau.permissions import role_required
from bureau.scoping import own_teacher, visible_teachers
from bureau.services import ApplicationError
from bureau.spreadsheets import xlsx_response

from . import rules
from .amendments import waiting_note
from .exports import write_transcript
from .forms import DecisionForm, HoursSubmissionForm
from .models import HoursSubmission, LedgerEntry, SubmissionState
from .selectors import (
    pending_amendments,
    pending_submissions,
    policy_for,
    submissions_version_key,
    teacher_version_keys,
    teacher_year,
)
from .services import hours_decide, hours_submit


def _percent(part, whole) -> int:
    return 0 if not whole else max(0, min(100, int(part * 100 / whole)))


def _teacher_or_403(request):
    teacher = own_teacher(request.user)
    if teacher is None:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    return teacher


@cached_page(key=lambda request: f"portal.{year_key(request)}")
@role_required(Role.TEACHER)
def portal_home(request):
    teacher = _teacher_or_403(request)
    year = year_param(request)

    def context():
        figures = teacher_year(teacher.pk, year)
        policy = figures.policy
        return {
            "teacher": teacher,
            "year": year,
            "figures": figures,
            "credits_percent": _percent(figures.annual_credits, policy.annual_credits),
            "cycle_percent": _percent(figures.cycle_hours, policy.cycle_hours),
            "cycle_end": figures.cycle_start + policy.cycle_years - 1,
            "ethics_percent": _percent(figures.ethics_hours, policy.min_ethics_hours),
            "school_based_percent": _percent(figures.school_based_hours, policy.min_school_based_hours),
            "pending": pending_submissions(teacher.pk),
            "amendments": pending_amendments(teacher.pk),
        }

    # Cached per user until the ledger, the policy, the submissions, the notices or the user change.
    return render_cached(
        request, "credits/portal_home.html", context=context, timeout=300,
        version_keys=[*teacher_version_keys(teacher.pk), submissions_version_key(teacher.pk)],
    )


@role_required(Role.TEACHER)
def transcript(request):
    teacher = _teacher_or_403(request)
    rows = (
        LedgerEntry.objects.filter(teacher=teacher)
        .select_related("entered_by", "approved_by")
        .order_by("-entry_date", "-id")
    )
    by_year = defaultdict(list)
    for row in rows:
        by_year[row.entry_date.year].append(row)
    years = []
    for y, items in sorted(by_year.items(), reverse=True):
        # CR-5: the year's credits as counted after the CR-3 caps; the capped rows stay listed.
        credits = rules.annual_credits_of_rows(((r.source, r.mode, r.credits) for r in items), policy_for(y))
        years.append({"year": y, "rows": items, "credits": credits.counted, "recorded": credits.recorded,
                      "uncounted": credits.uncounted, "hours": sum(r.hours for r in items)})
    # CR-12: rows entered on or after this moment may still be appealed (申诉, within 30 days of entry).
    appeal_from = timezone.localdate() - dt.timedelta(days=rules.APPEAL_WINDOW_DAYS)
    return render(request, "credits/transcript.html", {"teacher": teacher, "years": years, "appeal_from": appeal_from})


@role_required(Role.TEACHER)
def transcript_xlsx(request):
    teacher = _teacher_or_403(request)
    buffer = io.BytesIO()
    write_transcript(buffer, teacher=teacher)
    return xlsx_response(buffer, f"transcript-{teacher.staff_no}.xlsx")


@role_required(Role.TEACHER)
def hours(request):
    teacher = _teacher_or_403(request)
    form = HoursSubmissionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            hours_submit(teacher=teacher, actor=request.user, today=timezone.localdate(), **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "已提交，等待校长审核。")
            return redirect("credits:hours")
    submissions = HoursSubmission.objects.filter(teacher=teacher).select_related("decided_by")
    return render(request, "credits/hours.html", {"form": form, "submissions": submissions,
                                                  "policy": policy_for(timezone.localdate().year)})


@role_required(Role.PRINCIPAL)
def school_hours(request):
    pending = (
        HoursSubmission.objects.filter(teacher__in=visible_teachers(request.user), state=SubmissionState.SUBMITTED)
        .select_related("teacher")
        .order_by("created_at")
    )
    recent = (
        HoursSubmission.objects.filter(teacher__in=visible_teachers(request.user))
        .exclude(state=SubmissionState.SUBMITTED)
        .select_related("teacher", "decided_by")
        .order_by("-decided_at")[:30]
    )
    return render(request, "credits/school_hours.html", {"pending": pending, "recent": recent})


@require_POST
@role_required(Role.PRINCIPAL)
def school_hours_decide(request, pk: int):
    submission = get_object_or_404(HoursSubmission, pk=pk, teacher__in=visible_teachers(request.user))
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择通过或退回。")
        return redirect("credits:school-hours")
    try:
        hours_decide(
            submission=submission,
            approve=form.cleaned_data["decision"] == "approve",
            note=form.cleaned_data["note"],
            actor=request.user,
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已处理 {submission.teacher.name} 的申报。" + waiting_note(f"submission:{submission.pk}"))
    return redirect("credits:school-hours")
