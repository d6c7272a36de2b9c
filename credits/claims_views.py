"""Pages of external recognition (学时认定): the teacher's claims, the school's and the district's review
queues, the turnaround report and the evidence download. Every page reads through visible_claims
(built on bureau.scoping); every write is a service in credits/claims.py."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import DateTimeField, Prefetch, Value
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bureau.choices import Role, Theme
from bureau.params import date_param, id_param
from bureau.permissions import role_required
from bureau.scoping import own_teacher, role_of, visible_schools
from bureau.services import ApplicationError
from bureau.text import clean_single_line

from .amendments import waiting_note
from .claims import (
    CLAIM_MODES,
    TRANSITIONS,
    ClaimFields,
    claim_resubmit,
    claim_submit,
    claim_transition,
    duplicate_matches,
    match_text,
    visible_claims,
)
from .claims_report import ElapsedDays, claim_turnaround, claims_decided
from .models import ClaimEvent, ClaimEvidence, ClaimState
from .selectors import policy_for

REVIEWERS = (Role.DISTRICT, Role.BUREAU)
REPORT_READERS = (Role.BUREAU, Role.DISTRICT, Role.AUDITOR)
QUEUE_LENGTH = 200  # oldest first; the rest follow as these are decided


class EvidenceInput(forms.FileInput):
    allow_multiple_selected = True


class EvidenceField(forms.Field):
    """The uploaded files as they are: the service checks count, size and type (from the content)."""

    widget = EvidenceInput

    def to_python(self, data):
        if not data:
            return []
        return list(data) if isinstance(data, (list, tuple)) else [data]


class ClaimForm(forms.Form):
    title = forms.CharField(label="培训名称", max_length=200)
    organiser = forms.CharField(label="主办单位", max_length=200)
    project_code = forms.CharField(label="项目编号", max_length=32, required=False, help_text="证书上有项目编号的请填写")
    certificate_no = forms.CharField(label="证书编号", max_length=64, required=False, help_text="证书上有编号的请填写")
    started_on = forms.DateField(label="开始日期", widget=forms.DateInput(attrs={"type": "date"}))
    ended_on = forms.DateField(label="结束日期", widget=forms.DateInput(attrs={"type": "date"}))
    hours = forms.DecimalField(label="学时", max_digits=6, decimal_places=2)
    mode = forms.ChoiceField(label="培训方式", choices=CLAIM_MODES)
    theme = forms.ChoiceField(label="主题", choices=Theme.choices, initial=Theme.SUBJECT)
    evidence = EvidenceField(
        label="佐证材料", required=False,
        widget=EvidenceInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
        help_text="证书或结业证明的扫描件、照片：PDF、JPG 或 PNG，1–5 个文件，每个不超过 10 MB",
    )

    def claim_fields(self) -> ClaimFields:
        data = self.cleaned_data
        return ClaimFields(**{name: data[name] for name in ClaimFields.__dataclass_fields__})


class ResubmitForm(ClaimForm):
    remove = forms.MultipleChoiceField(label="删除已上传的材料", required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, claim, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["remove"].choices = [(str(e.pk), e.original_name) for e in claim.evidence.all()]
        self.fields["evidence"].label = "补充材料"


def _claims(user):
    """The claims a page lists, with what the rows show loaded in a fixed number of queries."""
    return visible_claims(user).select_related("teacher", "school__district", "decided_by").prefetch_related(
        "evidence", Prefetch("events", queryset=ClaimEvent.objects.select_related("actor"))
    )


def _queue(claims, state):
    """The claims waiting at one step, oldest first, with the days they have waited so far."""
    waited = ElapsedDays("submitted_at", Value(timezone.now(), output_field=DateTimeField()))
    return claims.filter(state=state).annotate(days=waited).order_by("submitted_at", "pk")[:QUEUE_LENGTH]


def _own_teacher(request):
    teacher = own_teacher(request.user)
    if teacher is None:
        raise PermissionDenied
    return teacher


@role_required(Role.TEACHER)
def my_claims(request):
    teacher = _own_teacher(request)
    form = ClaimForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            claim = claim_submit(teacher=teacher, fields=form.claim_fields(), files=form.cleaned_data["evidence"],
                                 actor=request.user, now=timezone.now())
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已提交“{claim.title}”，等待{teacher.school.name}审核。")
            return redirect("claims:mine")
    return render(request, "credits/claims_teacher.html", {"form": form, "claims": _claims(request.user)})


@role_required(Role.TEACHER)
def resubmit(request, pk: int):
    _own_teacher(request)
    claim = get_object_or_404(_claims(request.user), pk=pk)
    if claim.state != ClaimState.RETURNED:
        messages.error(request, f"该申请当前为“{claim.get_state_display()}”，不能修改。")
        return redirect("claims:mine")
    initial = {name: getattr(claim, name) for name in ClaimFields.__dataclass_fields__}
    form = ResubmitForm(request.POST or None, request.FILES or None, claim=claim, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            claim_resubmit(claim=claim, fields=form.claim_fields(), files=form.cleaned_data["evidence"],
                           remove_ids=[int(pk) for pk in form.cleaned_data["remove"]], actor=request.user,
                           now=timezone.now())
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已重新提交“{claim.title}”。")
            return redirect("claims:mine")
    events = list(claim.events.all())
    return render(request, "credits/claims_resubmit.html", {
        "form": form, "claim": claim, "returned_because": events[-1].reason if events else "",
    })


@role_required(Role.PRINCIPAL)
def school_claims(request):
    claims = _claims(request.user)
    return render(request, "credits/claims_school.html", {
        "pending": _queue(claims, ClaimState.SCHOOL_REVIEW),
        "recent": claims.exclude(state=ClaimState.SCHOOL_REVIEW).order_by("-state_since", "-pk")[:30],
        "max_wait": policy_for(timezone.localdate().year).claim_max_wait_days,
    })


@role_required(*REVIEWERS)
def review(request):
    claims = _claims(request.user)
    pending = list(_queue(claims, ClaimState.DISTRICT_REVIEW))
    matches = duplicate_matches(pending)  # CR-11: two queries for the whole queue
    for claim in pending:
        claim.duplicates = [match_text(m) for m in matches.get(claim.pk, [])]
    return render(request, "credits/claims_review.html", {
        "pending": pending,
        "recent": claims.filter(state__in=[ClaimState.APPROVED, ClaimState.REJECTED, ClaimState.WITHDRAWN])
        .order_by("-state_since", "-pk")[:30],
        "is_bureau": role_of(request.user) == Role.BUREAU,
        "max_wait": policy_for(timezone.localdate().year).claim_max_wait_days,
    })


@require_POST
@role_required(Role.PRINCIPAL, *REVIEWERS)
def act(request, pk: int):
    claim = get_object_or_404(visible_claims(request.user).select_related("teacher"), pk=pk)
    action = request.POST.get("action", "")
    try:
        claim_transition(claim=claim, action=action, actor=request.user, reason=request.POST.get("reason", ""),
                         duplicate_checked=request.POST.get("duplicate_checked") == "1", now=timezone.now())
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{TRANSITIONS[action].label}：{claim.teacher.name}“{claim.title}”"
                                  + waiting_note(f"claim:{claim.pk}"))
    return redirect("claims:school" if role_of(request.user) == Role.PRINCIPAL else "claims:review")


@role_required(Role.TEACHER, Role.PRINCIPAL, *REPORT_READERS)
def evidence_download(request, pk: int):
    """Streams one evidence file from storage, to the claim's teacher, its reviewers, bureau and auditors."""
    evidence = get_object_or_404(ClaimEvidence.objects.filter(claim__in=visible_claims(request.user)), pk=pk)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    # SEC-6: names stored before SingleLineTextField cleaned them may hold what no HTTP header may.
    return FileResponse(handle, as_attachment=True, filename=clean_single_line(evidence.original_name),
                        content_type=evidence.content_type)


@role_required(*REPORT_READERS)
def turnaround(request):
    today = timezone.localdate()
    start = date_param(request, "from", dt.date(today.year, 1, 1))
    end = date_param(request, "to", today)
    if end < start:
        start, end = end, start
    claims = visible_claims(request.user)
    report = claim_turnaround(claims=claims, start=start, end=end, now=timezone.now())
    school = decided = None
    school_id = id_param(request, "school")
    if school_id is not None:
        school = get_object_or_404(visible_schools(request.user), pk=school_id)
        decided = claims_decided(claims=claims.filter(school=school), start=start, end=end)[:500]
    return render(request, "credits/claims_turnaround.html", {
        "report": report, "school": school, "decided": decided,
    })
