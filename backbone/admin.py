"""Admin for the backbone part: criteria and targets are data; round steps run through services."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone

from bureau import scoping
from bureau.admin_base import BureauEditsAdmin, EventInline, RecordAdmin
from bureau.services import ApplicationError

from . import roster, rules, services
from .models import (
    Application,
    ApplicationEvent,
    Assessment,
    Criterion,
    EthicsVeto,
    MentoringPair,
    MentoringRecord,
    Objection,
    PlanTarget,
    RosterEntry,
    RosterEvent,
    RoundEvent,
    RoundQuota,
    SelectionRound,
)


@admin.register(Criterion)
class CriterionAdmin(BureauEditsAdmin):
    list_display = ["tier", "type", "min_title", "min_education", "max_age", "min_teaching_years", "require_lower_tier"]
    list_filter = ["tier", "type"]


@admin.register(PlanTarget)
class PlanTargetAdmin(BureauEditsAdmin):
    list_display = ["tier", "type", "start_year", "end_year", "target"]


@admin.register(EthicsVeto)
class EthicsVetoAdmin(BureauEditsAdmin):
    list_display = ["teacher", "year", "reason", "recorded_by", "created_at"]
    raw_id_fields = ["teacher"]
    fields = ["teacher", "year", "reason"]

    def save_model(self, request, obj, form, change):
        obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


class RosterEventInline(EventInline):
    model = RosterEvent


@admin.register(RosterEntry)
class RosterEntryAdmin(admin.ModelAdmin):
    list_display = ["teacher", "tier", "type", "certificate_no", "awarded_on", "expires_on", "status", "ended_on", "allowance"]
    list_filter = ["tier", "type", "status", "allowance"]
    search_fields = ["teacher__staff_no", "teacher__name", "certificate_no"]
    list_select_related = ["teacher"]
    inlines = [RosterEventInline]
    actions = ["assessment_passed", "assessment_failed"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(teacher__in=scoping.visible_teachers(request.user))

    def has_add_permission(self, request):
        return False  # entries come from an awarded round

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # nothing is deleted: the roster keeps its history

    def _assess(self, request, queryset, passed):
        year = timezone.localdate().year
        for entry in queryset:
            try:
                roster.assessment_record(entry=entry, year=year, passed=passed, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{entry}：{exc}", messages.WARNING)

    def has_assess_permission(self, request):
        """The annual assessment (BB-4) is recorded by bureau staff only (the service checks it too)."""
        return scoping.role_of(request.user) == "bureau"

    @admin.action(description="登记本年度考核：合格", permissions=["assess"])
    def assessment_passed(self, request, queryset):
        self._assess(request, queryset, True)

    @admin.action(description="登记本年度考核：不合格（撤销称号与津贴）", permissions=["assess"])
    def assessment_failed(self, request, queryset):
        self._assess(request, queryset, False)


class RoundQuotaInline(admin.TabularInline):
    model = RoundQuota
    extra = 0


class RoundEventInline(EventInline):
    model = RoundEvent


class SelectionRoundForm(forms.ModelForm):
    class Meta:
        model = SelectionRound
        fields = ["year", "tier", "type", "district", "places", "school_limit", "notice_working_days"]

    def clean(self):
        data = super().clean()
        if not self.instance.pk and data.get("tier"):
            problem = rules.round_owner_problem(tier=data["tier"], has_district=data.get("district") is not None)
            if problem:
                raise forms.ValidationError(problem)
        return data


@admin.register(SelectionRound)
class SelectionRoundAdmin(admin.ModelAdmin):
    """Rounds are run on the round pages (评选组织); the admin keeps the record and the bureau's actions."""

    form = SelectionRoundForm
    list_display = ["year", "tier", "type", "district", "places", "school_limit", "status", "notice_starts_on",
                    "notice_ends_on"]
    list_filter = ["year", "tier", "type", "status", "district"]
    readonly_fields = ["status", "notice_starts_on", "notice_ends_on", "opened_by"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields + (["district", "tier"] if obj is not None else [])
    inlines = [RoundQuotaInline, RoundEventInline]
    actions = ["start_notice", "start_review", "award_today"]

    def has_add_permission(self, request):
        return scoping.role_of(request.user) == "bureau"

    def has_change_permission(self, request, obj=None):
        return scoping.role_of(request.user) == "bureau"

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = services.round_open(year=obj.year, tier=obj.tier, type_=obj.type, places=obj.places,
                                      school_limit=obj.school_limit, district=obj.district,
                                      notice_working_days=obj.notice_working_days, actor=request.user)
        obj.pk = created.pk
        obj._state.adding = False

    def _run(self, request, queryset, step):
        for round_ in queryset:
            try:
                step(round_)
                self.message_user(request, f"{round_}：已完成。")
            except ApplicationError as exc:
                self.message_user(request, f"{round_}：{exc}", messages.ERROR)

    @admin.action(description="发布公示（从今天起）", permissions=["change"])
    def start_notice(self, request, queryset):
        self._run(request, queryset, lambda r: services.round_start_notice(round_=r, starts_on=timezone.localdate(),
                                                                             actor=request.user))

    @admin.action(description="公示期满，开始差额评审", permissions=["change"])
    def start_review(self, request, queryset):
        self._run(request, queryset, lambda r: services.round_start_review(round_=r, today=timezone.localdate(),
                                                                             actor=request.user))

    @admin.action(description="认定并发放证书（今天）", permissions=["change"])
    def award_today(self, request, queryset):
        self._run(request, queryset, lambda r: services.round_award(round_=r, awarded_on=timezone.localdate(),
                                                                      actor=request.user))


class ApplicationEventInline(EventInline):
    model = ApplicationEvent


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["round", "teacher", "school", "status", "score", "created_at"]
    list_filter = ["round", "status"]
    search_fields = ["teacher__staff_no", "teacher__name"]
    readonly_fields = ["round", "teacher", "school", "status", "score", "outcome_note"]
    inlines = [ApplicationEventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(teacher__in=scoping.visible_teachers(request.user))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Objection)
class ObjectionAdmin(RecordAdmin):
    """Objections are recorded and resolved on the round page (the services keep the hold and the record)."""

    list_display = ["application", "text", "finding", "resolution", "recorded_by", "created_at", "resolved_by"]
    list_filter = ["finding"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(application__teacher__in=scoping.visible_teachers(request.user))


@admin.register(Assessment)
class AssessmentAdmin(RecordAdmin):
    list_display = ["entry", "year", "passed", "recorded_by", "created_at"]
    list_filter = ["year", "passed"]


class MentoringRecordInline(admin.TabularInline):
    model = MentoringRecord
    extra = 0


class MentoringPairForm(forms.ModelForm):
    class Meta:
        model = MentoringPair
        fields = ["mentor", "mentee", "started_on", "ended_on"]

    def clean(self):
        data = super().clean()
        if not self.instance.pk and data.get("mentor") and data.get("mentee") and data.get("started_on"):
            try:
                roster.mentoring_check(mentor=data["mentor"], mentee=data["mentee"], on=data["started_on"])
            except ApplicationError as exc:
                raise forms.ValidationError(str(exc)) from None
        return data


@admin.register(MentoringPair)
class MentoringPairAdmin(admin.ModelAdmin):
    form = MentoringPairForm
    list_display = ["mentor", "mentee", "started_on", "ended_on"]

    def get_queryset(self, request):
        visible = scoping.visible_teachers(request.user)
        return super().get_queryset(request).filter(Q(mentor__in=visible) | Q(mentee__in=visible)).distinct()
    raw_id_fields = ["mentor", "mentee"]
    inlines = [MentoringRecordInline]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        pair = roster.mentoring_pair(mentor=obj.mentor, mentee=obj.mentee, started_on=obj.started_on,
                                       actor=request.user)
        obj.pk = pair.pk
        obj._state.adding = False
