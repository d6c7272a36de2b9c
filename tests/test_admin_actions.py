"""SEC-5: bulk actions of the admin are offered only to roles that may write, and run through services.

An action without `allowed_permissions` is offered to everyone who can open the changelist, auditors
included; every state-changing action declares a permission (change, or its own such as reverse), and the services check the role
and the scope on top.
"""

import pytest
from django.contrib import admin
from django.test import RequestFactory

# Actions that only read (they report, they change nothing): offered to every role that sees the list.
READ_ONLY_ACTIONS = {"check_promotion_senior", "check_promotion_first"}


def _offered(model_admin, user) -> set[str]:
    request = RequestFactory().get("/admin/")
    request.user = user
    if not model_admin.has_view_or_change_permission(request):
        return set()
    return set(model_admin.get_actions(request)) - {"delete_selected"}


# Principals organise their school's 校本 projects (SPEC §1): the project life cycle is theirs, scoped to
# those projects by the admin's queryset and by training.services.project_transition.
PROJECT_STEPS = {("training.Project", a) for a in ("publish", "open_enrolment", "start", "finish", "archive")}


@pytest.mark.parametrize("role, expected", [("auditor", set()), ("principal", PROJECT_STEPS)])
def test_read_only_roles_are_offered_no_action_that_writes(users, role, expected):
    offered = {
        (model._meta.label, action)
        for model, model_admin in admin.site._registry.items()
        for action in _offered(model_admin, users[role])
        if action not in READ_ONLY_ACTIONS
    }
    assert offered == expected


OUR_APPS = {"bureau", "credits", "training", "exchange", "backbone"}


def test_every_writing_action_declares_a_permission():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in OUR_APPS:
            continue
        for name in model_admin.actions or []:
            func = name if callable(name) else getattr(model_admin, name)
            action = getattr(func, "__name__", name)
            if action in READ_ONLY_ACTIONS:
                continue
            assert getattr(func, "allowed_permissions", None), (model._meta.label, action)


@pytest.mark.parametrize("role", ["auditor", "principal"])
def test_posting_an_action_as_a_read_only_role_changes_nothing(client, users, city, role):
    from bureau.models import AuditEntry
    from training.models import Project

    project = Project.objects.create(code="P1", name="项目", level="市培", mode="网络研修", kind="必修", theme="信息技术",
                                     hours=30, start_on="2026-03-01", end_on="2026-06-30", organiser="市教师发展中心")
    client.force_login(users[role])
    before = AuditEntry.objects.count()
    response = client.post("/admin/training/project/", {"action": "publish", "_selected_action": [project.pk]})
    assert response.status_code in (200, 302, 403)
    project.refresh_from_db()
    assert project.status == "draft" and AuditEntry.objects.count() == before


def test_bureau_is_offered_the_writing_actions(users):
    from backbone.models import RosterEntry, SelectionRound
    from bureau.models import Teacher
    from credits.models import LedgerEntry
    from training.models import Enrolment, Project

    expected = {
        Teacher: {"confirm_id_numbers"},
        LedgerEntry: {"reverse_selected"},
        RosterEntry: {"assessment_passed", "assessment_failed"},
        SelectionRound: {"start_notice", "start_review", "award_today"},
        Project: {"publish", "open_enrolment", "start", "finish", "archive"},
        Enrolment: {"approve_selected", "start_selected", "complete_selected"},
    }
    for model, actions in expected.items():
        assert actions <= _offered(admin.site._registry[model], users["bureau"]), model
