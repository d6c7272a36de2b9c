"""Roles (SPEC §1) as auth Groups with the Django permissions each role holds in the admin and API.

Scope (which rows) is scoping.py's job; this file only says which kinds of action each role may take.
The permission to see full ID-card numbers is deliberately in no group: it is granted per user (SEC-3).
"""

from __future__ import annotations

from .choices import Role

DOMAIN_APPS = ("bureau", "training", "credits", "exchange", "backbone")

# (app_label, codename) patterns: "*" means every permission of the app.
ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    Role.BUREAU: [(app, "*") for app in DOMAIN_APPS] + [("django_celery_beat", "*")],
    Role.DISTRICT: [
        ("bureau", "view_district"),
        ("bureau", "view_cluster"),
        ("bureau", "view_school"),
        ("bureau", "change_school"),
        ("bureau", "view_subjectquota"),
        ("bureau", "add_subjectquota"),
        ("bureau", "change_subjectquota"),
        ("bureau", "view_teacher"),
        ("bureau", "add_teacher"),
        ("bureau", "change_teacher"),
        ("bureau", "view_posting"),
        # Their 县培 projects in the admin (rows scoped by training.organisers): the project with its
        # sessions, and the organiser's step on their teachers' enrolments (录取).
        ("training", "view_project"),
        ("training", "add_project"),
        ("training", "change_project"),
        ("training", "view_session"),
        ("training", "add_session"),
        ("training", "change_session"),
        ("training", "view_enrolment"),
        ("training", "change_enrolment"),
    ],
    Role.PRINCIPAL: [
        ("bureau", "view_school"),
        ("bureau", "view_subjectquota"),
        ("bureau", "view_teacher"),
        ("bureau", "view_posting"),
        # Their school's 校本 projects in the admin, with sessions.
        ("training", "view_project"),
        ("training", "add_project"),
        ("training", "change_project"),
        ("training", "view_session"),
        ("training", "add_session"),
        ("training", "change_session"),
    ],
    Role.AUDITOR: [(app, "view_*") for app in DOMAIN_APPS],
    Role.TEACHER: [],
}

EXCLUDED_FROM_GROUPS = {("bureau", "view_full_id_number")}

# The account commands and jobs write under when no person is named (bureau.services.system_user).
SYSTEM_USERNAME = "system"

# Roles that work in the admin (is_staff). Teachers use the portal only.
STAFF_ROLES = {Role.BUREAU, Role.DISTRICT, Role.PRINCIPAL, Role.AUDITOR}


def group_name(role: str) -> str:
    return Role(role).label


def sync_role_groups() -> None:
    from django.contrib.auth.models import Group, Permission

    all_perms = list(Permission.objects.select_related("content_type"))
    for role, patterns in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name(role))
        wanted = []
        for perm in all_perms:
            key = (perm.content_type.app_label, perm.codename)
            if key in EXCLUDED_FROM_GROUPS:
                continue
            for app, pattern in patterns:
                if key[0] != app:
                    continue
                if pattern == "*" or pattern == key[1] or (pattern.endswith("*") and key[1].startswith(pattern[:-1])):
                    wanted.append(perm)
                    break
        group.permissions.set(wanted)


def sync_role_groups_after_migrate(app_config, **kwargs) -> None:
    """post_migrate fires once per app that has models; permissions of every app exist after the last one."""
    from django.apps import apps

    if app_config is [c for c in apps.get_app_configs() if c.models_module is not None][-1]:
        sync_role_groups()
