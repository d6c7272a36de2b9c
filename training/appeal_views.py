"""Pages of appeals (申诉, CR-12): the teacher's 我的申诉 (list, new appeal, withdraw), the deciders' queue
申诉处理 with the decision page, and the turnaround report (page and xlsx). Every page reads through
training.appeals.visible_appeals; every write is a service in training/appeals.py."""

from __future__ import annotations

import datetime as dt
import io

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bureau.choices import Grade, Role
from bureau.params import date_param, id_param
from bureau.permissions import role_required
from bureau.scoping import own_teacher, role_of, visible_schools
from bureau.services import ApplicationError
from bureau.spreadsheets import xlsx_response
from credits.rules import APPEAL_WINDOW_DAYS

from .appeals import (
    DECIDERS,
    Correction,
    appeal_decide,
    appeal_file,
    appeal_withdraw,
    appealable,
    days_taken,
    is_overdue,
    max_wait_days,
    may_decide,
    result_of,
    visible_appeals,
)
from .appeals_report import DECIDED_STATES, appeal_turnaround, write_turnaround_workbook
from .models import AppealEvent, AppealKind, AppealState

REPORT_READERS = (Role.BUREAU, Role.DISTRICT, Role.AUDITOR)
QUEUE_LENGTH = 200  # oldest first; the rest follow as these are decided


class AppealForm(forms.Form):
    kind = forms.ChoiceField(choices=AppealKind.choices, widget=forms.HiddenInput)
    target = forms.IntegerField(required=False, widget=forms.HiddenInput)
    year = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(label="申诉理由", max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
                             help_text="请写明哪里有误、应当是什么，以及可以核对的依据（如考勤、证书编号）。")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label="处理结果", choices=[("uphold", "支持申诉（登记更正）"), ("reject", "驳回申诉")],
                                 widget=forms.RadioSelect)
    reason = forms.CharField(label="处理意见（理由）", max_length=200, required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))
    grade = forms.ChoiceField(label="更正后的考核结果", choices=[("", "—"), *Grade.choices], required=False)
    certified_hours = forms.DecimalField(label="更正后的认定学时", max_digits=7, decimal_places=2, required=False,
                                         min_value=0, help_text="留空表示按项目学时计")
    completed_on = forms.DateField(label="完成日期", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                   help_text="留空表示不变")
    reverse_entry = forms.BooleanField(label="冲销该学分记录", required=False)
    hours = forms.DecimalField(label="调整学时", max_digits=8, decimal_places=2, required=False)
    credits = forms.DecimalField(label="调整学分", max_digits=8, decimal_places=2, required=False)
    entry_date = forms.DateField(label="调整记录日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def correction(self) -> Correction:
        d = self.cleaned_data
        return Correction(grade=d["grade"] or "", certified_hours=d["certified_hours"], completed_on=d["completed_on"],
                          reverse_entry=d["reverse_entry"], hours=d["hours"], credits=d["credits"],
                          entry_date=d["entry_date"])


def _appeals(user):
    """The appeals a page lists, with what its rows show loaded in a fixed number of queries."""
    return visible_appeals(user).select_related(
        "teacher", "school__district", "project", "result__enrolment__project", "ledger_entry", "decided_by",
    ).prefetch_related(Prefetch("events", queryset=AppealEvent.objects.select_related("actor")))


def _mark(appeals, *, user=None, now, max_wait: int):
    appeals = list(appeals)
    for appeal in appeals:
        appeal.overdue = is_overdue(appeal, now=now, max_wait=max_wait)
        appeal.days = days_taken(appeal, now=now)
        if user is not None:
            appeal.decidable = appeal.state == AppealState.PENDING and may_decide(user, appeal)
    return appeals


def _own_teacher(request):
    teacher = own_teacher(request.user)
    if teacher is None:
        raise PermissionDenied
    return teacher


@role_required(Role.TEACHER)
def my_appeals(request):
    teacher = _own_teacher(request)
    now = timezone.now()
    today = timezone.localdate(now)
    initial = {"kind": request.GET.get("kind", ""), "target": id_param(request, "target"),
               "year": id_param(request, "year")}
    form = AppealForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appeal_file(teacher=teacher, kind=data["kind"], target_id=data["target"], year=data["year"],
                        reason=data["reason"], actor=request.user, now=now)
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "申诉已提交，处理结果会通知您。")
            return redirect("training:appeals-mine")
    choosing = request.method == "POST" or initial["kind"] in AppealKind.values
    return render(request, "training/appeals_teacher.html", {
        "form": form, "choosing": choosing, "appealable": appealable(teacher, today=today),
        "appeals": _mark(_appeals(request.user), now=now, max_wait=max_wait_days(today)),
        "window_days": APPEAL_WINDOW_DAYS,
    })


@require_POST
@role_required(Role.TEACHER)
def withdraw(request, pk: int):
    appeal = get_object_or_404(visible_appeals(request.user), pk=pk)
    try:
        appeal_withdraw(appeal=appeal, actor=request.user, now=timezone.now())
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已撤回申诉。")
    return redirect("training:appeals-mine")


@role_required(*DECIDERS, Role.AUDITOR)
def queue(request):
    now = timezone.now()
    max_wait = max_wait_days(timezone.localdate(now))
    appeals = _appeals(request.user)
    pending = appeals.filter(state=AppealState.PENDING).order_by("submitted_at", "pk")[:QUEUE_LENGTH]
    recent = appeals.filter(state__in=DECIDED_STATES).order_by("-decided_at", "-pk")[:30]
    return render(request, "training/appeals_queue.html", {
        "pending": _mark(pending, user=request.user, now=now, max_wait=max_wait),
        "recent": _mark(recent, now=now, max_wait=max_wait),
        "max_wait": max_wait, "reads_report": role_of(request.user) in REPORT_READERS,
    })


@role_required(*DECIDERS)
def decide(request, pk: int):
    appeal = get_object_or_404(_appeals(request.user), pk=pk)
    if not may_decide(request.user, appeal):
        raise PermissionDenied  # read-only for district staff and principals who do not organise the project
    result = result_of(appeal)
    initial = {"grade": result.grade, "certified_hours": result.certified_hours} if result is not None else {}
    form = DecisionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        uphold = form.cleaned_data["decision"] == "uphold"
        try:
            decided = appeal_decide(appeal=appeal, uphold=uphold, reason=form.cleaned_data["reason"],
                                    actor=request.user, now=timezone.now(),
                                    correction=form.correction() if uphold else None)
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            waits = "更正的日期属于已关账年度，已作为补报提交，待市教育局补报审核后计入。" if "amendment" in (
                decided.correction or {}) else ""
            messages.success(request, f"{'已支持' if uphold else '已驳回'} {appeal.teacher.name} 的申诉。{waits}")
            return redirect("training:appeals-queue")
    now = timezone.now()
    (appeal,) = _mark([appeal], user=request.user, now=now, max_wait=max_wait_days(timezone.localdate(now)))
    return render(request, "training/appeal_decide.html", {
        "appeal": appeal, "form": form, "result": result, "is_bureau": role_of(request.user) == Role.BUREAU,
    })


def _report(request):
    today = timezone.localdate()
    start = date_param(request, "from", dt.date(today.year, 1, 1))
    end = date_param(request, "to", today)
    if end < start:
        start, end = end, start
    return appeal_turnaround(appeals=visible_appeals(request.user), start=start, end=end, now=timezone.now())


@role_required(*REPORT_READERS)
def report(request):
    report = _report(request)
    school = decided = None
    school_id = id_param(request, "school")
    if school_id is not None:
        school = get_object_or_404(visible_schools(request.user), pk=school_id)
        decided = _mark(_appeals(request.user).filter(school=school, state__in=DECIDED_STATES,
                                                      decided_at__date__gte=report.start,
                                                      decided_at__date__lte=report.end)
                        .order_by("-decided_at", "-pk")[:500], now=timezone.now(), max_wait=report.max_wait_days)
    return render(request, "training/appeals_report.html", {"report": report, "school": school, "decided": decided})


@role_required(*REPORT_READERS)
def report_xlsx(request):
    report = _report(request)
    buffer = io.BytesIO()
    write_turnaround_workbook(buffer, report, by=request.user)
    return xlsx_response(buffer, f"appeals-{report.start:%Y%m%d}-{report.end:%Y%m%d}.xlsx")
