"""Admin for projects, enrolments and results; writes go through training.services."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import path, reverse
from django.utils.html import format_html

from bureau import scoping
from bureau.admin_base import EventInline, GuardedHistoryAdmin
from bureau.admin_imports import import_view
from bureau.choices import Role
from bureau.services import ApplicationError
from credits.amendments import waiting_note

from . import rules
from .imports import ProjectImporter, ResultImporter, ShareImporter
from .models import (
    Attendance,
    Enrolment,
    EnrolmentEvent,
    Project,
    ProjectEvent,
    Provider,
    ProviderCourse,
    Result,
    Session,
    SurveyResponse,
)
from .organisers import may_create_projects, may_organise, organised_projects
from .projects import (
    EDITABLE_STATES,
    project_audience_settle,
    project_create,
    project_fields_check,
    project_owner_set,
    project_update,
)
from .projects import FIELDS as PROJECT_FIELDS
from .selectors import project_statistics
from .services import enrolment_transition, project_transition, result_record


class ReadOnlyForNonWriters:
    def has_add_permission(self, request, *args):
        return scoping.may_write(request.user) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return scoping.may_write(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


class SessionInline(admin.TabularInline):
    """Read-only: organisers add and remove sessions on their pages (training.attendance, audited)."""

    model = Session
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ProjectEventInline(EventInline):
    model = ProjectEvent


@admin.register(Project)
class ProjectAdmin(GuardedHistoryAdmin):
    """Scoped to what the user organises (training.organisers): bureau staff every project, district staff
    their 县培, principals their 校本. New projects get their owner and level from the creator's unit;
    every save goes through training.projects (validation, audit). Auditors read every project."""

    list_display = ["code", "name", "level", "mode", "kind", "theme", "hours", "credits", "start_on", "capacity", "status",
                    "shares_link"]
    list_filter = ["status", "level", "mode", "kind", "theme"]
    search_fields = ["code", "name", "organiser"]
    date_hierarchy = "start_on"
    filter_horizontal = ["target_districts"]
    inlines = [SessionInline, ProjectEventInline]
    readonly_fields = ["statistics", "status"]
    actions = ["publish", "open_enrolment", "start", "finish", "archive"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if scoping.role_of(request.user) == Role.AUDITOR:
            return queryset
        return queryset.filter(pk__in=organised_projects(request.user).values("pk"))

    def has_add_permission(self, request):
        return may_create_projects(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        """Terms change only while a draft or published (training.projects): a project under way opens
        read-only rather than with a save button that could only be refused."""
        if not may_create_projects(request.user) or not super().has_change_permission(request, obj):
            return False
        return obj is None or (may_organise(request.user, obj) and obj.status in EDITABLE_STATES)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        actor = request.user

        class CheckedForm(form):
            """The service's checks run as form validation, so a mistake shows beside the form."""

            def clean(self):
                data = super().clean()
                fields = {name: data.get(name, getattr(self.instance, name, None)) for name in PROJECT_FIELDS}
                try:
                    project_fields_check(fields, actor=actor)
                    if data.get("owner_district") is not None and data.get("owner_school") is not None:
                        raise ApplicationError("主办区县和主办学校只能指定一个。")
                except ApplicationError as exc:
                    raise forms.ValidationError(str(exc)) from exc
                return data

        return CheckedForm

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        # The minimum attendance rate is set on the project's sessions page (audited there).
        fixed = ["statistics", "status", "min_attendance_rate"]
        if scoping.role_of(request.user) != Role.BUREAU:
            fixed += ["level", "owner_district", "owner_school"]
        if obj is not None and obj.status not in EDITABLE_STATES:
            fixed += [f for f in PROJECT_FIELDS if f not in fixed] + ["target_districts", "issues_certificates",
                                                                      "shares_release_on"]
        return fixed

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "target_districts":
            kwargs["queryset"] = scoping.visible_districts(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        """Through training.projects: the owner and level of a new project are the creator's unit's."""
        fields = {name: getattr(obj, name) for name in PROJECT_FIELDS}
        try:
            if change:
                saved = project_update(project=obj, actor=request.user, fields=fields)
            else:
                saved = project_create(actor=request.user, fields=fields)
        except ApplicationError as exc:
            raise PermissionDenied(str(exc)) from exc
        extra = {name: getattr(obj, name) for name in ("issues_certificates", "shares_release_on")}
        Project.objects.filter(pk=saved.pk).update(**extra)
        if scoping.role_of(request.user) == Role.BUREAU:
            try:
                project_owner_set(project=saved, actor=request.user, owner_district=obj.owner_district,
                                  owner_school=obj.owner_school)
            except ApplicationError as exc:
                self.message_user(request, f"主办单位未更改：{exc}", messages.WARNING)
        obj.pk, obj._state.adding = saved.pk, False
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        project_audience_settle(project=form.instance, actor=request.user,
                                district_ids=form.instance.target_districts.values_list("pk", flat=True))

    def _transition(self, request, queryset, action):
        for project in queryset:
            try:
                project_transition(project=project, action=action, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{project.code}：{exc}", messages.WARNING)

    @admin.action(description="发布所选项目", permissions=["change"])
    def publish(self, request, queryset):
        self._transition(request, queryset, "publish")

    @admin.action(description="所选项目开始报名", permissions=["change"])
    def open_enrolment(self, request, queryset):
        self._transition(request, queryset, "open_enrolment")

    @admin.action(description="所选项目开班", permissions=["change"])
    def start(self, request, queryset):
        self._transition(request, queryset, "start")

    @admin.action(description="结束所选项目", permissions=["change"])
    def finish(self, request, queryset):
        self._transition(request, queryset, "finish")

    @admin.action(description="归档所选项目", permissions=["change"])
    def archive(self, request, queryset):
        self._transition(request, queryset, "archive")
    change_list_template = "admin/bureau/change_list_with_import.html"

    @admin.display(description="名额分配")
    def shares_link(self, obj):
        return format_html('<a href="{}">分配</a>', reverse("training:shares", args=[obj.pk]))

    @admin.display(description="项目统计")
    def statistics(self, obj):
        if not obj.pk:
            return "—"
        s = project_statistics(obj.pk)

        def pct(v):
            return "—" if v is None else f"{v:.1%}"

        return (
            f"报名 {s['enrolled']} 人，录取 {s['approved']} 人；出勤率 {pct(s['attendance_rate'])}；"
            f"合格率 {pct(s['pass_rate'])}，优秀率 {pct(s['excellence_rate'])}；"
            f"需求调研均分 {s['survey_needs'] or '—'}，满意度均分 {s['survey_satisfaction'] or '—'}"
        )

    def changelist_view(self, request, extra_context=None):
        extra = {"extra_imports": [("导入考核结果", reverse("admin:training_project_import_results")),
                                   ("导入名额分配", reverse("admin:training_project_import_quotas"))],
                 # The imports are bureau staff's: they do not set a project's owner (organisers use their pages).
                 "imports_hidden": scoping.role_of(request.user) != Role.BUREAU}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_projects), name="training_project_import"),
            path("import-results/", self.admin_site.admin_view(self.import_results), name="training_project_import_results"),
            path("import-quotas/", self.admin_site.admin_view(self.import_quotas), name="training_project_import_quotas"),
        ] + super().get_urls()

    def import_projects(self, request):
        if scoping.role_of(request.user) != Role.BUREAU:  # the project import does not set owners
            raise PermissionDenied
        return import_view(self, request, importer_class=ProjectImporter, title="导入培训项目",
                           permissions=["training.add_project", "training.change_project"])

    def import_quotas(self, request):
        if scoping.role_of(request.user) != Role.BUREAU:
            raise PermissionDenied
        return import_view(self, request, importer_class=ShareImporter, title="导入名额分配",
                           permissions=["training.add_projectshare", "training.change_projectshare"])

    def import_results(self, request):
        return import_view(self, request, importer_class=ResultImporter, title="导入考核结果",
                           permissions=["training.add_result", "training.change_result"])


class EnrolmentEventInline(EventInline):
    model = EnrolmentEvent


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyForNonWriters, admin.ModelAdmin):
    list_display = ["project", "teacher", "state", "nominated", "imported", "created_at"]
    list_filter = ["state", "nominated", "imported", "project__level"]
    search_fields = ["teacher__staff_no", "teacher__name", "project__code", "project__name"]
    list_select_related = ["project", "teacher"]
    readonly_fields = ["project", "teacher", "state", "nominated", "imported", "applied_by", "reminded_at", "created_at"]
    inlines = [EnrolmentEventInline]
    actions = ["approve_selected", "start_selected", "complete_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(teacher__in=scoping.visible_teachers(request.user))

    def has_add_permission(self, request):
        return False

    def _run(self, request, queryset, action):
        done, failed = 0, []
        for enrolment in queryset:
            try:
                enrolment_transition(enrolment=enrolment, action=action, actor=request.user)
                done += 1
            except ApplicationError as exc:
                failed.append(f"{enrolment.teacher.name}：{exc}")
        if done:
            self.message_user(request, f"已处理 {done} 条。", messages.SUCCESS)
        for line in failed[:20]:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description="录取所选报名（主办单位审核）", permissions=["change"])
    def approve_selected(self, request, queryset):
        self._run(request, queryset, "approve")

    @admin.action(description="所选学员开始参训", permissions=["change"])
    def start_selected(self, request, queryset):
        self._run(request, queryset, "start")

    @admin.action(description="所选学员结业", permissions=["change"])
    def complete_selected(self, request, queryset):
        self._run(request, queryset, "complete")


class ResultForm(forms.ModelForm):
    """The result's fields, with CR-10 shown on the field (training.services.result_record refuses it too)."""

    class Meta:
        model = Result
        fields = ["enrolment", "grade", "completed_on", "certified_hours"]

    def clean(self):
        cleaned = super().clean()
        enrolment = cleaned.get("enrolment")
        if enrolment is not None and (refusal := rules.certified_hours_refusal(
                certified=cleaned.get("certified_hours"), project_hours=enrolment.project.hours)):
            self.add_error("certified_hours", refusal)
        return cleaned


@admin.register(Result)
class ResultAdmin(ReadOnlyForNonWriters, GuardedHistoryAdmin):
    list_display = ["enrolment", "grade", "completed_on", "certified_hours", "recorded_by", "updated_at"]
    list_filter = ["grade", "enrolment__project__level"]
    search_fields = ["enrolment__teacher__staff_no", "enrolment__teacher__name", "enrolment__project__code"]
    list_select_related = ["enrolment__project", "enrolment__teacher", "recorded_by"]
    raw_id_fields = ["enrolment"]
    fields = ["enrolment", "grade", "completed_on", "certified_hours"]
    form = ResultForm

    def get_queryset(self, request):
        return super().get_queryset(request).filter(enrolment__teacher__in=scoping.visible_teachers(request.user))

    def save_model(self, request, obj, form, change):
        """Through the service, so the ledger follows the result exactly once (CR-1, CR-2)."""
        result, _ = result_record(
            project=obj.enrolment.project,
            teacher=obj.enrolment.teacher,
            grade=obj.grade,
            completed_on=obj.completed_on,
            certified_hours=obj.certified_hours,
            actor=request.user,
        )
        obj.pk = result.pk
        if note := waiting_note(f"result:{result.enrolment_id}"):  # CR-9: dated in a closed year
            self.message_user(request, f"考核结果已保存{note}。", messages.WARNING)


@admin.register(Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    """Read-only: attendance is taken on the organiser's pages or imported (training.attendance), where the
    session and the enrolment are checked to be of the same project and every change is audited."""

    list_display = ["session", "enrolment", "present", "recorded_by", "updated_at"]
    list_filter = ["present"]
    list_select_related = ["session__project", "enrolment__project", "enrolment__teacher", "recorded_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(enrolment__teacher__in=scoping.visible_teachers(request.user))


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyForNonWriters, admin.ModelAdmin):
    list_display = ["project", "kind", "score", "created_at"]
    list_filter = ["kind", "score"]
    raw_id_fields = ["project", "teacher"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(teacher__in=scoping.visible_teachers(request.user))




# --- Issue 19 item 1: training providers (the provider API) ---------------------------------------------

class ProviderCourseInline(admin.TabularInline):
    model = ProviderCourse
    extra = 0
    autocomplete_fields = ["project"]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    """Providers and their course mappings; the API key is issued by the action (shown once, kept hashed)."""

    list_display = ["name", "active", "organiser", "key_prefix", "key_issued_at", "oauth_client_id"]
    fields = ["name", "active", "organiser", "projects", "key_prefix", "key_issued_at", "oauth_client_id", "created_by"]
    readonly_fields = ["key_prefix", "key_issued_at", "oauth_client_id", "created_by"]
    filter_horizontal = ["projects"]
    inlines = [ProviderCourseInline]
    actions = ["issue_key", "issue_oauth_client", "revoke_oauth_client"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("oauth_application")

    @admin.display(description="OAuth2 client_id")
    def oauth_client_id(self, obj):
        return obj.oauth_application.client_id if obj.oauth_application_id else "—"

    def save_model(self, request, obj, form, change):
        from .providers import provider_scope

        if not change:
            obj.created_by = request.user
        request.provider_scope_before = provider_scope(obj.pk) if change else None  # the stored scope, for the audit
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        from .providers import provider_scope_audit

        super().save_related(request, form, formsets, change)  # projects and course mappings
        provider_scope_audit(provider=form.instance, before=getattr(request, "provider_scope_before", None),
                             actor=request.user)

    @admin.action(description="签发（或重新签发）API 密钥", permissions=["change"])
    def issue_key(self, request, queryset):
        from .providers import provider_key_issue

        for provider in queryset:
            key = provider_key_issue(provider=provider, actor=request.user)
            self.message_user(request, f"{provider.name} 的新 API 密钥（只显示这一次）：{key}", messages.WARNING)

    @admin.action(description="签发（或重新签发）OAuth2 客户端凭据", permissions=["change"])
    def issue_oauth_client(self, request, queryset):
        from .providers import provider_oauth_client_issue

        for provider in queryset:
            client_id, secret = provider_oauth_client_issue(provider=provider, actor=request.user)
            self.message_user(request, f"{provider.name} 的 OAuth2 客户端凭据（client_secret 只显示这一次）："
                                       f"client_id={client_id} client_secret={secret}", messages.WARNING)

    @admin.action(description="吊销 OAuth2 客户端（其访问令牌随即失效）", permissions=["change"])
    def revoke_oauth_client(self, request, queryset):
        from .providers import provider_oauth_client_revoke

        gone = sum(provider_oauth_client_revoke(provider=provider, actor=request.user) for provider in queryset)
        self.message_user(request, f"已吊销 {gone} 个 OAuth2 客户端。")
