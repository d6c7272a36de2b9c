"""免考核 pages (CR-4): the principal requests exemptions for the school's teachers; district and bureau
staff decide the requests one row at a time, or grant one directly."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bureau.choices import Role
from bureau.permissions import role_required
from bureau.scoping import visible_teachers
from bureau.services import ApplicationError

from .exemptions import DECIDERS, exemption_decide, exemption_grant, exemption_request, visible_exemptions
from .models import ExemptionKind, ExemptionStatus

QUEUE_LENGTH = 200
RECENT = 50


class ExemptionForm(forms.Form):
    teacher = forms.ModelChoiceField(label="教师", queryset=None, required=False)
    staff_no = forms.CharField(label="教师工号", max_length=32, required=False)
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    kind = forms.ChoiceField(label="类型", choices=ExemptionKind.choices)
    reason = forms.CharField(label="原因", max_length=200)

    def __init__(self, *args, user, by_staff_no: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if by_staff_no:  # a district has thousands of teachers: typed, not picked from a list
            del self.fields["teacher"]
            self.fields["staff_no"].required = True
        else:
            del self.fields["staff_no"]
            self.fields["teacher"].required = True
            self.fields["teacher"].queryset = visible_teachers(user).order_by("staff_no")
            self.fields["teacher"].label_from_instance = lambda t: f"{t.staff_no} {t.name}"

    def clean_staff_no(self):
        staff_no = self.cleaned_data["staff_no"].strip()
        teacher = visible_teachers(self.user).select_related("school").filter(staff_no=staff_no).first()
        if teacher is None:
            raise forms.ValidationError("没有找到该工号的本辖区教师。")
        self.cleaned_data["teacher"] = teacher
        return staff_no


def _rows(user):
    return visible_exemptions(user).select_related("teacher__school", "requested_by", "approved_by")


@role_required(Role.PRINCIPAL)
def school_exemptions(request):
    today = timezone.localdate()
    form = ExemptionForm(request.POST or None, user=request.user, by_staff_no=False, initial={"year": today.year})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            exemption = exemption_request(teacher=data["teacher"], year=data["year"], kind=data["kind"],
                                          reason=data["reason"], actor=request.user, today=today)
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已提交 {exemption.teacher.name} {exemption.year} 年度免考核申请，等待区县审批。")
            return redirect("credits:school-exemptions")
    return render(request, "credits/exemptions_school.html", {"form": form, "rows": _rows(request.user)[:RECENT]})


@role_required(*DECIDERS)
def exemptions(request):
    today = timezone.localdate()
    form = ExemptionForm(request.POST or None, user=request.user, by_staff_no=True, initial={"year": today.year})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            exemption = exemption_grant(teacher=data["teacher"], year=data["year"], kind=data["kind"],
                                        reason=data["reason"], actor=request.user, today=today)
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已批准 {exemption.teacher.name} {exemption.year} 年度免考核。")
            return redirect("credits:exemptions")
    rows = _rows(request.user)
    return render(request, "credits/exemptions_queue.html", {
        "form": form,
        "pending": rows.filter(status=ExemptionStatus.REQUESTED).order_by("created_at", "pk")[:QUEUE_LENGTH],
        "recent": rows.exclude(status=ExemptionStatus.REQUESTED).order_by("-decided_at", "-pk")[:RECENT],
    })


@require_POST
@role_required(*DECIDERS)
def exemption_decide_view(request, pk: int):
    exemption = get_object_or_404(visible_exemptions(request.user), pk=pk)
    decision = request.POST.get("decision")
    if decision not in ("grant", "refuse"):
        messages.error(request, "请选择批准或不予批准。")
        return redirect("credits:exemptions")
    try:
        exemption_decide(exemption=exemption, grant=decision == "grant", reason=request.POST.get("reason", ""),
                         actor=request.user)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        done = "已批准" if decision == "grant" else "已不予批准"
        messages.success(request, f"{done}：{exemption.teacher.name} {exemption.year} 年度免考核。")
    return redirect("credits:exemptions")
