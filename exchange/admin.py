from django.contrib import admin

from bureau import scoping
from bureau.admin import TeacherAdmin
from bureau.admin_base import EventInline, RecordAdmin
from bureau.imports import today_local

from .models import ExchangePlan, Proposal, ProposalEvent
from .selectors import promotion_check


def _check_promotion(modeladmin, request, queryset, title):
    for teacher in queryset.select_related("school")[:50]:
        missing = promotion_check(teacher=teacher, target_title=title, on=today_local())
        text = "已满足" if not missing else "；".join(missing)
        modeladmin.message_user(request, f"{teacher.name}（{teacher.staff_no}）申报{title}：{text}")


@admin.action(description="晋升前置条件检查：申报高级教师")
def check_promotion_senior(modeladmin, request, queryset):
    _check_promotion(modeladmin, request, queryset, "高级教师")


@admin.action(description="晋升前置条件检查：申报一级教师")
def check_promotion_first(modeladmin, request, queryset):
    _check_promotion(modeladmin, request, queryset, "一级教师")


# The EX-7 check belongs to exchange, which sits above bureau: it adds its actions to bureau's teacher list.
TeacherAdmin.actions = [*(TeacherAdmin.actions or []), check_promotion_senior, check_promotion_first]


@admin.register(ExchangePlan)
class ExchangePlanAdmin(admin.ModelAdmin):
    list_display = ["year", "status", "male_age_limit", "female_age_limit", "tenure_years", "min_share", "amended_rules",
                    "opened_by", "opened_at"]
    # The reading a plan was opened under is part of its record: switching it would recompute a stored plan.
    readonly_fields = ["amended_rules", "opened_by", "opened_at"]

    def has_add_permission(self, request):
        return False  # opened from the exchange page, through the service

    def has_change_permission(self, request, obj=None):
        return scoping.role_of(request.user) == "bureau"

    def has_delete_permission(self, request, obj=None):
        return False


class ProposalEventInline(EventInline):
    model = ProposalEvent


@admin.register(Proposal)
class ProposalAdmin(RecordAdmin):
    list_display = ["plan", "teacher", "home_school", "receiving_school", "form", "status", "starts_on", "ends_on"]
    list_filter = ["plan", "status", "form", "home_school__district"]
    search_fields = ["teacher__staff_no", "teacher__name", "home_school__code", "receiving_school__code"]
    list_select_related = ["plan", "teacher", "home_school", "receiving_school"]
    inlines = [ProposalEventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(home_school__in=scoping.visible_schools(request.user))
