from django.contrib import admin

from bureau import scoping
from bureau.admin_base import EventInline, RecordAdmin

from .models import ExchangePlan, Proposal, ProposalEvent


@admin.register(ExchangePlan)
class ExchangePlanAdmin(admin.ModelAdmin):
    list_display = ["year", "status", "male_age_limit", "female_age_limit", "tenure_years", "min_share", "opened_by", "opened_at"]
    readonly_fields = ["opened_by", "opened_at"]

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
