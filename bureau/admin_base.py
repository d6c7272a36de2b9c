"""Admin building blocks shared by every app: records written only by services, and their event trails."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

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


class GuardedHistoryAdmin(SimpleHistoryAdmin):
    """simple_history's pages held to the change page's rules; every admin with history uses this.

    Left alone, simple_history's history page falls back to stored versions of a row outside
    get_queryset, and its version ("revert") page saves a POST after checking only the *view*
    permission: a read-only auditor reverted the policy, a project and a result. Here both pages show
    only rows the user may see, and a revert needs the change permission on that row and an admin that
    allows reverting at all (`revert_allowed`): rows whose writes go through a service (results post
    the ledger, projects move through their life cycle) are never reverted from the history.
    """

    revert_allowed = False

    def _visible(self, request, object_id):
        return self.get_object(request, unquote(object_id))

    def history_view(self, request, object_id, extra_context=None):
        if self._visible(request, object_id) is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        obj = self._visible(request, object_id)
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method == "POST" and (not self.revert_allowed or not self.has_change_permission(request, obj)):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return not self.revert_allowed or super().revert_disabled(request, obj)
