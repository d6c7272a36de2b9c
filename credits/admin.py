"""Admin for the policy and the ledger. The ledger is read-only here except for manual adjustments
and reversals, which go through credits.services with a required reason."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from bureau import scoping
from bureau.admin_base import EventInline, GuardedHistoryAdmin, RecordAdmin
from bureau.services import ApplicationError

from .exemptions import exemption_grant
from .models import (
    EXEMPTION_OPEN_STATES,
    Amendment,
    AmendmentEvent,
    Claim,
    ClaimEvent,
    ComplianceReport,
    Exemption,
    ExemptionEvent,
    HoursSubmission,
    LedgerEntry,
    Policy,
    SubmissionEvent,
)
from .services import ledger_adjust, ledger_reverse


@admin.register(Policy)
class PolicyAdmin(GuardedHistoryAdmin):
    list_display = ["year", "annual_credits", "cycle_hours", "cycle_years", "first_cycle_start", "flag_threshold",
                    "credits_per_hour", "self_study_cap", "online_cap", "daily_hours_limit"]

    def has_change_permission(self, request, obj=None):
        return scoping.role_of(request.user) == "bureau" and super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return scoping.role_of(request.user) == "bureau" and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


class AdjustmentForm(forms.ModelForm):
    reason = forms.CharField(label="调整原因", max_length=200)

    class Meta:
        model = LedgerEntry
        fields = ["teacher", "entry_date", "hours", "credits"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ["teacher", "entry_date", "hours", "credits", "source", "theme", "project_code", "reverses", "entered_by",
                    "approved_by", "created_at"]
    list_filter = ["source", "theme", "mode"]
    search_fields = ["teacher__staff_no", "teacher__name", "project_code", "description"]
    list_select_related = ["teacher", "entered_by", "approved_by", "reverses"]
    date_hierarchy = "entry_date"
    raw_id_fields = ["teacher"]
    show_full_result_count = False
    actions = ["reverse_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(teacher__in=scoping.visible_teachers(request.user))

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = AdjustmentForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["teacher", "entry_date", "hours", "credits", "reason"]
        return [f.name for f in LedgerEntry._meta.fields if f.name != "id"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj is not None else []

    def has_add_permission(self, request):
        return scoping.role_of(request.user) == "bureau"

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        entry = ledger_adjust(
            teacher_id=obj.teacher_id,
            entry_date=obj.entry_date,
            hours=obj.hours,
            credits=obj.credits,
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
        if isinstance(entry, Amendment):  # CR-9: dated in a closed year, it waits as 补报
            request._amendment = entry
            return
        obj.pk = entry.pk
        obj._state.adding = False

    def response_add(self, request, obj, post_url_continue=None):
        amendment = getattr(request, "_amendment", None)
        if amendment is None:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, f"{amendment.year} 年度已关账：该调整未直接登记，已作为补报等待市教育局审核。",
                          messages.WARNING)
        return redirect(f"{reverse('credits:amendments')}?year={amendment.year}")

    def log_addition(self, request, obj, message):
        if getattr(request, "_amendment", None) is not None:
            return None  # nothing was added to the ledger; the 补报 has its own events and audit entry
        return super().log_addition(request, obj, message)

    def has_reverse_permission(self, request):
        """Reversals are bureau staff's (ledger_reverse checks it too); the ledger is never changed."""
        return scoping.role_of(request.user) == "bureau"

    @admin.action(description="冲销所选记录（原因：后台冲销）", permissions=["reverse"])
    def reverse_selected(self, request, queryset):
        if scoping.role_of(request.user) != "bureau":
            self.message_user(request, "只有市教育局可以冲销学分记录。", messages.ERROR)
            return
        for entry in queryset:
            try:
                done = ledger_reverse(entry=entry, reason="后台冲销", actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{entry}：{exc}", messages.WARNING)
            else:
                if isinstance(done, Amendment):
                    self.message_user(request, f"{entry}：{done.year} 年度已关账，冲销已作为补报等待审核。",
                                      messages.WARNING)


class AmendmentEventInline(EventInline):
    model = AmendmentEvent


@admin.register(Amendment)
class AmendmentAdmin(RecordAdmin):
    """补报 (CR-9): shown here; decided on the 补报审核 page (credits.amendments.amendment_decide)."""

    list_display = ["year", "teacher", "entry_date", "hours", "credits", "source", "state", "decided_by", "created_at"]
    list_filter = ["year", "state", "source"]
    search_fields = ["teacher__staff_no", "teacher__name", "source_key"]
    list_select_related = ["teacher", "decided_by"]
    raw_id_fields = ["teacher", "reverses"]
    inlines = [AmendmentEventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(teacher__in=scoping.visible_teachers(request.user))


class SubmissionEventInline(EventInline):
    model = SubmissionEvent


@admin.register(HoursSubmission)
class HoursSubmissionAdmin(RecordAdmin):
    list_display = ["teacher", "kind", "title", "studied_on", "hours", "state", "decided_by", "created_at"]
    list_filter = ["state", "kind"]
    search_fields = ["teacher__staff_no", "teacher__name", "title"]
    list_select_related = ["teacher", "decided_by"]
    inlines = [SubmissionEventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(teacher__in=scoping.visible_teachers(request.user))


class ExemptionGrantForm(forms.ModelForm):
    """The admin's direct grant: the service's checks shown on the form rather than as an error page."""

    class Meta:
        model = Exemption
        fields = ["teacher", "year", "kind", "reason"]

    def clean(self):
        data = super().clean()
        year, teacher = data.get("year"), data.get("teacher")
        if year is not None and not (2000 <= year <= timezone.localdate().year + 1):
            self.add_error("year", f"年度应在 2000 至 {timezone.localdate().year + 1} 之间。")
        elif teacher and year and Exemption.objects.filter(teacher=teacher, year=year,
                                                           status__in=EXEMPTION_OPEN_STATES).exists():
            self.add_error(None, f"{teacher.name} {year} 年度已有免考核申请或已免考核。")
        return data


class ExemptionEventInline(EventInline):
    model = ExemptionEvent


@admin.register(Exemption)
class ExemptionAdmin(admin.ModelAdmin):
    """免考核 (CR-4): requested and decided on the pages (credits.exemption_views); here bureau staff may
    still grant one directly, through the same service. Decisions are never edited or deleted."""

    list_display = ["teacher", "year", "kind", "reason", "status", "requested_by", "approved_by", "decided_at"]
    list_filter = ["status", "year", "kind"]
    search_fields = ["teacher__staff_no", "teacher__name", "reason"]
    list_select_related = ["teacher", "requested_by", "approved_by"]
    raw_id_fields = ["teacher"]
    inlines = [ExemptionEventInline]
    form = ExemptionGrantForm

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["teacher", "year", "kind", "reason"]
        return ["teacher", "year", "kind", "reason", "status", "requested_by", "approved_by", "decided_at",
                "decision_reason"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj is not None else []

    def get_queryset(self, request):
        return super().get_queryset(request).filter(teacher__in=scoping.visible_teachers(request.user))

    def has_add_permission(self, request):
        return scoping.role_of(request.user) == "bureau"

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            saved = exemption_grant(teacher=obj.teacher, year=obj.year, kind=obj.kind, reason=obj.reason,
                                    actor=request.user)
        except ApplicationError as exc:
            raise ValidationError(str(exc)) from exc
        obj.pk = saved.pk
        obj._state.adding = False


@admin.register(ComplianceReport)
class ComplianceReportAdmin(RecordAdmin):
    list_display = ["year", "kind", "status", "progress", "created_by", "created_at", "finished_at"]
    list_filter = ["kind", "status", "year"]
    readonly_fields = ["year", "kind", "status", "progress", "workbook", "error", "created_by", "created_at", "finished_at"]
    exclude = ["summary", "districts", "schools"]


class ClaimEventInline(EventInline):
    model = ClaimEvent


@admin.register(Claim)
class ClaimAdmin(RecordAdmin):
    """学时认定 claims: decided on the review pages (through credits.claims); the admin shows them."""

    list_display = ["teacher", "title", "hours", "state", "submitted_at", "decided_at"]
    list_filter = ["state"]
    search_fields = ["teacher__staff_no", "teacher__name", "title", "organiser"]
    list_select_related = ["teacher"]
    inlines = [ClaimEventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(teacher__in=scoping.visible_teachers(request.user))
