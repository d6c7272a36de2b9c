"""The top menu, and `{% link %}`, a `{% url %}` for routes without arguments that reverses each name once
per process.

A menu kind lists links and groups of links; a group's top item opens its first page (the hub) and, on any
page of the group, the group's other pages follow it in the menu. Each link is shown only when the view it
opens lets the user's role in: the very `role_required` check the view makes (bureau.permissions), so a menu
never shows a link that answers 403. The menu is built once per process and (kind, role, group shown).

`reverse()` was a third of a page's template time (PERF-4, profiled); a route without arguments gives
the same path for as long as the process runs (one URLconf, no per-request urlconf).
"""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.urls import resolve, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from bureau.choices import Role
from bureau.permissions import view_allows
from bureau.scoping import profile_of, role_of

register = template.Library()

# A group: (label, [(label, url name), ...]); its first page is its hub.
REPORTS = ("年度报告", [("年度报告", "credits:reports"), ("上报省厅", "province:reports"), ("补报审核", "credits:amendments"),
                    ("认定时效", "claims:turnaround"), ("申诉时效", "training:appeals-report"), ("导出文件", "exports")])
BACKBONE = ("骨干教师", [("骨干评选", "backbone:manage"), ("骨干规划", "backbone:plan"), ("骨干名册", "backbone:roster")])
DASHBOARD = ("达标看板", [("达标看板", "credits:city-dashboard"), ("欠缺名单", "credits:short-list")])
# Checking a certificate someone shows: by its number, or its signed credential file (Open Badges, .jwt).
VERIFY = ("证书查验", [("证书查验", "verify-lookup"), ("验证凭证文件", "credential-verify")])

MENUS = {
    "teacher": [
        ("我的学分", [("我的学分", "credits:portal"), ("学分档案", "credits:transcript"), ("证书", "my-certificates")]),
        ("培训报名", "training:projects"),
        ("学时", [("学时申报", "credits:hours"), ("学时认定", "claims:mine"), ("我的申诉", "training:appeals-mine")]),
        ("交流轮岗", "exchange:me"), ("骨干评选", "backbone:rounds"),
    ],
    "principal": [
        ("本校达标", [("本校达标", "credits:school-dashboard"), ("欠缺名单", "credits:school-short")]),
        ("审核", [("报名审核", "training:school-enrolments"), ("学时审核", "credits:school-hours"),
                ("学时认定", "claims:school"), ("免考核", "credits:school-exemptions"), ("申诉处理", "training:appeals-queue")]),
        ("校本项目", "training:organise-projects"),
        ("交流轮岗", "exchange:school"),
        ("骨干教师", [("骨干推荐", "backbone:school"), ("骨干名册", "backbone:roster")]),
        ("导出文件", "exports"),
        ("本校教师", "admin:index"),
    ],
    "district": [
        DASHBOARD,
        ("培训项目", [("培训项目", "training:organise-projects"), ("报名录取", "training:organise-enrolments")]),
        ("审核", [("学时审核", "credits:district-hours"), ("学时认定", "claims:review"), ("申诉处理", "training:appeals-queue"),
                ("免考核", "credits:exemptions"), ("认定时效", "claims:turnaround"), ("申诉时效", "training:appeals-report")]),
        ("交流轮岗", "exchange:overview"),
        BACKBONE,
        ("导出文件", "exports"),
        ("管理后台", "admin:index"),
    ],
    "bureau": [
        DASHBOARD,
        ("培训项目", [("培训项目", "training:organise-projects"), ("报名录取", "training:organise-enrolments")]),
        ("审核", [("学时认定", "claims:review"), ("申诉处理", "training:appeals-queue"), ("免考核", "credits:exemptions"),
                ("机构推送待核查", "training:provider-held")]),
        ("交流轮岗", "exchange:overview"),
        BACKBONE,
        REPORTS,
        VERIFY,
        ("管理后台", "admin:index"),
    ],
    "staff": [
        ("达标看板", "credits:city-dashboard"), ("交流轮岗", "exchange:overview"), ("骨干规划", "backbone:plan"),
        ("管理后台", "admin:index"),
    ],
    # auditors read: the dashboards, the reports and the rosters, never a review queue
    "staff_reports": [DASHBOARD, ("交流轮岗", "exchange:overview"), BACKBONE, REPORTS, VERIFY,
                      ("管理后台", "admin:index")],
}


def menu_kind(user) -> str | None:
    """Which menu a signed-in user sees (None: no links)."""
    profile = profile_of(user)
    role = profile.role if profile else None
    if getattr(user, "teacher", None) is not None and not user.is_staff:
        return "teacher"
    if role == Role.PRINCIPAL:
        return "principal"
    if role == Role.DISTRICT:
        return "district"
    if user.is_superuser or role == Role.BUREAU:
        return "bureau"
    if user.is_staff:
        return "staff_reports" if role == Role.AUDITOR else "staff"
    return None


@lru_cache(maxsize=None)
def _reverse(name: str) -> str:
    return reverse(name)


@lru_cache(maxsize=None)
def _opens(name: str, role: str | None) -> bool:
    """The view behind `name` lets `role` in (its own role_required check)."""
    return view_allows(resolve(_reverse(name)).func, role)


@lru_cache(maxsize=None)
def menu_for(kind: str, role: str | None) -> tuple:
    """((label, [(label, url name), ...]), ...): the kind's entries, each group cut to the pages the
    role may open (a group left with one page is a plain link; an empty one goes)."""
    entries = []
    for label, target in MENUS[kind]:
        pages = [target] if isinstance(target, str) else [name for _, name in target]
        labels = [label] if isinstance(target, str) else [lbl for lbl, _ in target]
        kept = tuple((lbl, name) for lbl, name in zip(labels, pages, strict=True) if _opens(name, role))
        if kept:
            entries.append((label if len(kept) > 1 else kept[0][0], kept))
    return tuple(entries)


def menu_link_names(user) -> list[tuple[str, str]]:
    """Every (label, url name) the user's menu can show, groups' pages included (the menu-walk test)."""
    kind = menu_kind(user)
    if not kind:
        return []
    return [page for _, pages in menu_for(kind, role_of(user)) for page in pages]


@lru_cache(maxsize=None)
def _menu_html(kind: str, role: str | None, path: str | None) -> str:
    """The menu; `path` is the current page when it belongs to a group (its pages are then listed)."""
    parts = []
    for label, pages in menu_for(kind, role):
        parts.append(format_html('<a href="{}">{}</a>', _reverse(pages[0][1]), label))
        if len(pages) > 1 and path in {_reverse(name) for _, name in pages}:
            parts.append(format_html_join("", '<a class="sub" href="{}"{}>{}</a>', (
                (_reverse(name), mark_safe(' aria-current="page"') if _reverse(name) == path else "", lbl)
                for lbl, name in pages)))
    return mark_safe("\n        ".join(parts))


@lru_cache(maxsize=None)
def _group_paths(kind: str, role: str | None) -> frozenset:
    return frozenset(_reverse(name) for _, pages in menu_for(kind, role) if len(pages) > 1 for _, name in pages)


@register.simple_tag
def link(name: str) -> str:
    """`{% link "credits:transcript" %}`: the path of a route that takes no arguments."""
    return _reverse(name)


@register.simple_tag(takes_context=True)
def menu_links(context, user) -> str:
    kind = menu_kind(user)
    if not kind:
        return ""
    role = role_of(user)
    request = context.get("request")
    path = getattr(request, "path", None)
    return _menu_html(kind, role, path if path in _group_paths(kind, role) else None)
