"""District staff's hours page (SPEC §1: a district approves its teachers' hours): the pending school-based
and self-study submissions of its schools that have no principal account, decided here; the principal
decides them everywhere else (credits.services.may_decide_hours)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from bureau.choices import Role
from bureau.permissions import role_required
from bureau.scoping import visible_schools, visible_teachers
from bureau.services import ApplicationError

from .amendments import waiting_note
from .forms import DecisionForm
from .models import HoursSubmission, SubmissionState
from .services import hours_decide, schools_without_principal

QUEUE_LENGTH = 200


def _decidable(user):
    return HoursSubmission.objects.filter(
        teacher__in=visible_teachers(user), teacher__school__in=schools_without_principal()
    )


@role_required(Role.DISTRICT)
def district_hours(request):
    pending = (_decidable(request.user).filter(state=SubmissionState.SUBMITTED).select_related("teacher__school")
               .order_by("created_at", "pk")[:QUEUE_LENGTH])
    recent = (_decidable(request.user).exclude(state=SubmissionState.SUBMITTED)
              .select_related("teacher__school", "decided_by").order_by("-decided_at", "-pk")[:30])
    headless = schools_without_principal().filter(pk__in=visible_schools(request.user)).order_by("code")
    return render(request, "credits/district_hours.html", {"pending": pending, "recent": recent, "headless": headless})


@require_POST
@role_required(Role.DISTRICT)
def district_hours_decide(request, pk: int):
    submission = get_object_or_404(_decidable(request.user), pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择通过或退回。")
        return redirect("credits:district-hours")
    try:
        hours_decide(submission=submission, approve=form.cleaned_data["decision"] == "approve",
                     note=form.cleaned_data["note"], actor=request.user)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已处理 {submission.teacher.name} 的申报。" + waiting_note(f"submission:{submission.pk}"))
    return redirect("credits:district-hours")
