"""Admin building blocks shared by every app: records written only by services, and their event trails."""

from django.contrib import admin

from . import scoping


class EventInline(admin.TabularInline):
    """The recorded steps of a workflow (who, when, what): shown, never edited."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RecordAdmin(admin.ModelAdmin):
    """Rows that only services write (reports, submissions, assessments): the admin shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class BureauEditsAdmin(admin.ModelAdmin):
    """Reference data that bureau staff keep (criteria, targets, vetoes); nothing is deleted."""

    def has_add_permission(self, request):
        return scoping.role_of(request.user) == "bureau"

    def has_change_permission(self, request, obj=None):
        return scoping.role_of(request.user) == "bureau"

    def has_delete_permission(self, request, obj=None):
        return False
