"""The admin as bureau clerks use it all day, scoped per role through scoping.py (habit 1)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from . import scoping
from .admin_base import GuardedHistoryAdmin, RecordAdmin
from .admin_imports import import_view
from .choices import Role
from .imports import SchoolImporter, TeacherImporter, today_local
from .logfilters import ID_NUMBER
from .models import (
    AuditEntry,
    Cluster,
    District,
    ExportJob,
    Posting,
    Profile,
    School,
    StatusChange,
    SubjectQuota,
    Teacher,
)
from .rules import IdNumberError, check_id_number, mask_id_number, status_change_problem
from .services import (
    ApplicationError,
    id_number_confirm,
    latest_status_changes,
    teacher_save,
    user_assign_role,
    user_link_identity,
)


class ScopedAdmin(admin.ModelAdmin):
    """Rows come from the scoping functions; auditors and principals never write."""

    scope = None  # a function user -> queryset

    def get_queryset(self, request):
        qs = type(self).scope(request.user)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def has_add_permission(self, request):
        return scoping.may_write(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return scoping.may_write(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return scoping.role_of(request.user) == "bureau" and super().has_delete_permission(request, obj)


class ScopedHistoryAdmin(ScopedAdmin, GuardedHistoryAdmin):
    """Schools and teachers: bureau and district staff may revert a row of their scope from its history."""

    revert_allowed = True


@admin.register(District)
class DistrictAdmin(ScopedAdmin):
    scope = staticmethod(scoping.visible_districts)
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Cluster)
class ClusterAdmin(ScopedAdmin):
    list_display = ["name", "district", "lead_school"]
    list_filter = ["district"]
    search_fields = ["name"]
    autocomplete_fields = ["lead_school"]

    @staticmethod
    def scope(user):
        return Cluster.objects.filter(
            Q(district__in=scoping.visible_districts(user)) | Q(schools__in=scoping.visible_schools(user))
        ).distinct()


class SubjectQuotaInline(admin.TabularInline):
    model = SubjectQuota
    extra = 0


@admin.register(School)
class SchoolAdmin(ScopedHistoryAdmin):
    scope = staticmethod(scoping.visible_schools)
    list_display = ["code", "name", "district", "stage", "location", "is_weak", "cluster", "staffing_quota"]
    list_filter = ["district", "stage", "location", "is_weak", "cluster"]
    search_fields = ["code", "name"]
    list_select_related = ["district", "cluster"]
    inlines = [SubjectQuotaInline]
    change_list_template = "admin/bureau/change_list_with_import.html"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A district user edits its own schools but may not move one into another district or cluster.
        if db_field.name == "district":
            kwargs["queryset"] = scoping.visible_districts(request.user)
        elif db_field.name == "cluster":
            kwargs["queryset"] = ClusterAdmin.scope(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_schools),
                name="bureau_school_import",
            )
        ] + super().get_urls()

    def import_schools(self, request):
        return import_view(
            self, request, importer_class=SchoolImporter, title="导入学校名册", permissions=["bureau.add_school"]
        )


class PostingInline(admin.TabularInline):
    """History is read-only here: it changes only through services (a school change, an exchange)."""

    model = Posting
    fk_name = "teacher"
    extra = 0
    fields = ["school", "kind", "started_on", "ended_on", "note"]
    readonly_fields = fields
    can_delete = False
    ordering = ["started_on"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StatusChangeInline(admin.TabularInline):
    """CR-7: the recorded changes of 在职状态, read-only (they are made by changing the status above)."""

    model = StatusChange
    fk_name = "teacher"
    extra = 0
    fields = ["effective_on", "from_status", "to_status", "note", "created_by", "created_at"]
    readonly_fields = fields
    can_delete = False
    ordering = ["effective_on", "id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _gb11643_validator(form):
    """The admin checks a typed 身份证号 like the import does (GB 11643 check digit)."""
    from django.core.exceptions import ValidationError

    def validate(value):
        if value:
            try:
                check_id_number(value, birth_date=None, male=None)
            except IdNumberError as exc:
                raise ValidationError(f"身份证号{exc}") from None

    return validate


class TeacherAdminForm(forms.ModelForm):
    """CR-7 (amended): a change of 在职状态 takes effect on the 状态生效日期 given with it (else today), which
    may not lie in the future nor before the teacher's last recorded change."""

    def clean(self):
        data = super().clean()
        since = data.get("status_since")
        if not self.instance.pk and since and since > today_local():
            self.add_error("status_since", f"状态生效日期不能晚于今天（{today_local():%Y-%m-%d}）")
        if self.instance.pk and "status" in self.changed_data:
            given = "status_since" in self.changed_data and data.get("status_since")
            today = today_local()
            latest = latest_status_changes([self.instance.pk]).get(self.instance.pk)
            problem = status_change_problem(effective_on=given or today, latest=latest, today=today)
            if problem:
                self.add_error("status_since" if given else "status", f"状态生效日期{problem}")
        return data


class PendingIdNumberFilter(admin.SimpleListFilter):
    title = "身份证号核验"
    parameter_name = "pending_id"

    def lookups(self, request, model_admin):
        return [("1", "有待核验号码")]

    def queryset(self, request, queryset):
        return queryset.exclude(pending_id_number="") if self.value() == "1" else queryset


@admin.register(Teacher)
class TeacherAdmin(ScopedHistoryAdmin):
    scope = staticmethod(scoping.visible_teachers)
    list_display = ["staff_no", "name", "gender", "school", "subject", "title", "status", "masked_id_number"]
    # Related-only: the district filter offers only districts that hold rows the user can see.
    list_filter = [PendingIdNumberFilter, ("school__district", admin.RelatedOnlyFieldListFilter), "school__stage",
                   "title", "status",
                   "employment_type", "is_class_teacher"]
    search_fields = ["staff_no", "name", "school__name", "school__code"]
    list_select_related = ["school"]
    list_per_page = 50
    show_full_result_count = False  # a COUNT(*) over 100,000 rows on every page is not needed
    inlines = [PostingInline, StatusChangeInline]
    form = TeacherAdminForm
    raw_id_fields = ["user"]
    change_list_template = "admin/bureau/change_list_with_import.html"
    actions = ["confirm_id_numbers"]

    @admin.display(description="身份证号")
    def masked_id_number(self, obj):
        held = "（有待核验号码）" if obj.pending_id_number else ""
        return mask_id_number(obj.id_number) + held

    def has_confirm_id_permission(self, request):
        return scoping.role_of(request.user) == "bureau"

    @admin.action(description="核验并登记所选教师的待核验身份证号", permissions=["confirm_id"])
    def confirm_id_numbers(self, request, queryset):
        for teacher in queryset.exclude(pending_id_number=""):
            try:
                owner = id_number_confirm(teacher=teacher, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return
            if owner:
                self.message_user(request, f"{teacher.name}（{teacher.staff_no}）：该身份证号已登记在工号 {owner} 名下，"
                                  "请核实后修正其中一条。", messages.WARNING)
            else:
                self.message_user(request, f"{teacher.name}（{teacher.staff_no}）：身份证号已登记。")

    def changelist_view(self, request, extra_context=None):
        # SEC-3: the search form is a GET, so a number searched for would sit in the URL (history, proxy
        # logs); it is not a search field, and a search that holds one is dropped with a notice.
        if ID_NUMBER.search(request.GET.get(SEARCH_VAR, "")):
            params = request.GET.copy()
            del params[SEARCH_VAR]
            self.message_user(request, "身份证号不能作为网址中的搜索条件：请用“按身份证号查找”，或按工号、姓名搜索。",
                              messages.WARNING)
            return HttpResponseRedirect(f"{request.path}?{params.urlencode()}" if params else request.path)
        return super().changelist_view(request, extra_context)

    def get_fields(self, request, obj=None):
        fields = [f.name for f in Teacher._meta.fields if f.editable and f.name not in ("id", "pending_id_number")]
        if not scoping.may_see_full_id_number(request.user):
            fields[fields.index("id_number")] = "masked_id_number"
        return fields

    def get_readonly_fields(self, request, obj=None):
        # The login account is tied through the role service (bureau staff); others only see it.
        readonly = ["masked_id_number"]
        if scoping.role_of(request.user) != "bureau":
            readonly.append("user")
        return readonly

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "id_number" in form.base_fields:
            form.base_fields["id_number"].validators.append(_gb11643_validator(form))
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "school":
            kwargs["queryset"] = scoping.visible_schools(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        teacher_save(teacher=obj, actor=request.user, today=today_local(), created=not change)

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_teachers),
                name="bureau_teacher_import",
            ),
            path("find-by-id/", self.admin_site.admin_view(self.find_by_id_number), name="bureau_teacher_find_by_id"),
        ] + super().get_urls()

    def find_by_id_number(self, request):
        """SEC-3: a search by ID-card number is POSTed (never in a URL or a log) and looks only within the
        user's scope: a number of a teacher outside it answers exactly like an unknown number."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": "按身份证号查找教师"}
        if request.method == "POST":
            number = request.POST.get("id_number", "").strip().upper()
            teacher = scoping.visible_teachers(request.user).filter(id_number=number).first() if number else None
            if teacher is not None:
                return HttpResponseRedirect(reverse("admin:bureau_teacher_change", args=[teacher.pk]))
            context["not_found"] = True
        return TemplateResponse(request, "admin/bureau/find_by_id.html", context)

    def import_teachers(self, request):
        return import_view(
            self,
            request,
            importer_class=TeacherImporter,
            title="导入教师名册",
            permissions=["bureau.add_teacher", "bureau.change_teacher"],
        )


@admin.register(Posting)
class PostingAdmin(ScopedAdmin):
    scope = staticmethod(scoping.visible_postings)
    list_display = ["teacher", "school", "kind", "started_on", "ended_on", "note"]
    list_filter = ["kind", "school__district"]
    search_fields = ["teacher__staff_no", "teacher__name", "school__code", "school__name"]
    list_select_related = ["teacher", "school"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ProfileForm(forms.ModelForm):
    teacher = forms.ModelChoiceField(
        label="对应教师（教师角色）", queryset=Teacher.objects.all(), required=False, widget=forms.TextInput
    )

    sso_issuer = forms.ChoiceField(label="统一身份认证签发方", required=False)

    class Meta:
        model = Profile
        fields = ["user", "role", "district", "school", "sso_issuer", "sso_subject"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The providers switched on (bureau.sso), and the value already stored so saving unchanged works.
        choices = [("", "（不关联）")]
        if settings.OIDC_ENABLED and settings.OIDC_OP_ISSUER:
            choices.append((settings.OIDC_OP_ISSUER, f"OIDC：{settings.OIDC_OP_ISSUER}"))
        if settings.CAS_ENABLED and settings.CAS_SERVER_URL:
            choices.append((settings.CAS_SERVER_URL, f"CAS：{settings.CAS_SERVER_URL}"))
        current = self.instance.sso_issuer if self.instance.pk else ""
        if current and current not in dict(choices):
            choices.append((current, current))
        self.fields["sso_issuer"].choices = choices
        # Editing a teacher's profile starts from the teacher already linked, so saving it unchanged works.
        if self.instance.pk and "teacher" not in self.initial:
            linked = Teacher.objects.filter(user_id=self.instance.user_id).values_list("pk", flat=True).first()
            if linked is not None:
                self.initial["teacher"] = linked

    def clean(self):
        cleaned = super().clean()
        # user_assign_role refuses this too; caught here it is a form error instead of a server error.
        if cleaned.get("role") == Role.TEACHER and not cleaned.get("teacher"):
            self.add_error("teacher", "教师账号必须对应一名教师，请填写该教师的编号。")
        user = cleaned.get("user")
        if cleaned.get("sso_subject") and user is not None and user.is_superuser:
            self.add_error("sso_subject", "超级管理员不能通过统一身份认证登录，不能关联身份。")
        return cleaned


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    form = ProfileForm
    list_display = ["user", "role", "district", "school"]
    list_filter = ["role", "district"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    raw_id_fields = ["user", "school"]

    def has_module_permission(self, request):
        return scoping.role_of(request.user) == "bureau"

    has_view_permission = has_change_permission = has_add_permission = (
        lambda self, request, obj=None: scoping.role_of(request.user) == "bureau"
    )

    def save_model(self, request, obj, form, change):
        user_assign_role(
            user=obj.user,
            role=obj.role,
            actor=request.user,
            district=obj.district,
            school=obj.school,
            teacher=form.cleaned_data.get("teacher"),
        )
        user_link_identity(user=obj.user, issuer=obj.sso_issuer, subject=obj.sso_subject, actor=request.user)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "actor", "object_type", "object_id"]
    list_filter = ["action"]
    search_fields = ["action", "object_id", "actor__username"]
    date_hierarchy = "created_at"

    def has_module_permission(self, request):
        return scoping.role_of(request.user) in ("bureau", "auditor")

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExportJob)
class ExportJobAdmin(RecordAdmin):
    """Every background export of the city, for bureau staff to see what runs, what failed and why (the
    user's own jobs and their files are on 报表 → 导出文件). Read-only, and no file link: a workbook with
    full 身份证号 is downloaded only through the export page's own check (SEC-3, bureau.exports)."""

    list_display = ["created_at", "title", "kind", "created_by", "status", "progress", "rows", "attempts", "finished_at"]
    list_filter = ["status", "kind"]
    search_fields = ["title", "created_by__username"]
    date_hierarchy = "created_at"
    fields = ["kind", "title", "params", "created_by", "status", "progress", "rows", "error", "filename",
              "created_at", "heartbeat_at", "finished_at", "attempts"]
    readonly_fields = fields
    list_select_related = ["created_by"]

    def has_module_permission(self, request):
        return scoping.role_of(request.user) == "bureau"

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)
