"""Admin for projects, enrolments and results; writes go through training.services."""

from django.contrib import admin, messages
from django.urls import path, reverse
from django.utils.html import format_html

from bureau import scoping
from bureau.admin_base import EventInline, GuardedHistoryAdmin
from bureau.admin_imports import import_view
from bureau.services import ApplicationError

from .imports import ProjectImporter, ResultImporter, ShareImporter
from .models import Attendance, Enrolment, EnrolmentEvent, Project, ProjectEvent, Result, Session, SurveyResponse
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
class ProjectAdmin(ReadOnlyForNonWriters, GuardedHistoryAdmin):
    list_display = ["code", "name", "level", "mode", "kind", "theme", "hours", "credits", "start_on", "capacity", "status",
                    "shares_link"]
    list_filter = ["status", "level", "mode", "kind", "theme"]
    search_fields = ["code", "name", "organiser"]
    date_hierarchy = "start_on"
    filter_horizontal = ["target_districts"]
    inlines = [SessionInline, ProjectEventInline]
    readonly_fields = ["statistics", "status"]
    actions = ["publish", "open_enrolment", "start", "finish", "archive"]

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
                                   ("导入名额分配", reverse("admin:training_project_import_quotas"))]}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_projects), name="training_project_import"),
            path("import-results/", self.admin_site.admin_view(self.import_results), name="training_project_import_results"),
            path("import-quotas/", self.admin_site.admin_view(self.import_quotas), name="training_project_import_quotas"),
        ] + super().get_urls()

    def import_projects(self, request):
        return import_view(self, request, importer_class=ProjectImporter, title="导入培训项目",
                           permissions=["training.add_project", "training.change_project"])

    def import_quotas(self, request):
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


@admin.register(Result)
class ResultAdmin(ReadOnlyForNonWriters, GuardedHistoryAdmin):
    list_display = ["enrolment", "grade", "completed_on", "certified_hours", "recorded_by", "updated_at"]
    list_filter = ["grade", "enrolment__project__level"]
    search_fields = ["enrolment__teacher__staff_no", "enrolment__teacher__name", "enrolment__project__code"]
    list_select_related = ["enrolment__project", "enrolment__teacher", "recorded_by"]
    raw_id_fields = ["enrolment"]
    fields = ["enrolment", "grade", "completed_on", "certified_hours"]

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


