"""The top menu, built once per process and menu kind (the same links for every user of a kind), and
`{% link %}`, a `{% url %}` for routes without arguments that reverses each name once per process.

`reverse()` was a third of a page's template time (PERF-4, profiled); a route without arguments gives
the same path for as long as the process runs (one URLconf, no per-request urlconf).
"""

from functools import lru_cache

from django import template
from django.urls import reverse
from django.utils.html import format_html_join

from bureau.choices import Role
from bureau.scoping import profile_of

register = template.Library()

MENUS = {
    "teacher": [
        ("我的学分", "credits:portal"), ("学分档案", "credits:transcript"), ("证书", "my-certificates"),
        ("培训报名", "training:projects"), ("学时申报", "credits:hours"), ("学时认定", "claims:mine"),
        ("我的申诉", "training:appeals-mine"),
        ("交流轮岗", "exchange:me"), ("骨干评选", "backbone:rounds"),
    ],
    "principal": [
        ("本校达标", "credits:school-dashboard"), ("欠缺名单", "credits:school-short"), ("报名审核", "training:school-enrolments"),
        ("学时审核", "credits:school-hours"), ("学时认定", "claims:school"), ("交流轮岗", "exchange:school"),
        ("骨干推荐", "backbone:school"), ("骨干名册", "backbone:roster"), ("校本项目", "training:organise-projects"),
        ("免考核", "credits:school-exemptions"), ("申诉处理", "training:appeals-queue"), ("导出文件", "exports"), ("本校教师", "admin:index"),
    ],
    "district": [
        ("达标看板", "credits:city-dashboard"), ("欠缺名单", "credits:short-list"), ("培训项目", "training:organise-projects"),
        ("报名录取", "training:organise-enrolments"), ("学时审核", "credits:district-hours"),
        ("学时认定", "claims:review"), ("申诉处理", "training:appeals-queue"), ("免考核", "credits:exemptions"),
        ("交流轮岗", "exchange:overview"),
        ("骨干规划", "backbone:plan"), ("骨干评选", "backbone:manage"), ("骨干名册", "backbone:roster"),
        ("导出文件", "exports"), ("管理后台", "admin:index"),
    ],
    "bureau": [
        ("达标看板", "credits:city-dashboard"), ("欠缺名单", "credits:short-list"), ("培训项目", "training:organise-projects"),
        ("报名录取", "training:organise-enrolments"), ("免考核", "credits:exemptions"),
        ("交流轮岗", "exchange:overview"), ("骨干规划", "backbone:plan"), ("骨干评选", "backbone:manage"),
        ("骨干名册", "backbone:roster"), ("学时认定", "claims:review"), ("申诉处理", "training:appeals-queue"), ("年度报告", "credits:reports"),
        ("补报审核", "credits:amendments"), ("上报省厅", "province:reports"),
        ("导出文件", "exports"), ("管理后台", "admin:index"),
    ],
    "staff": [
        ("达标看板", "credits:city-dashboard"), ("交流轮岗", "exchange:overview"), ("骨干规划", "backbone:plan"),
        ("学时认定", "claims:review"), ("管理后台", "admin:index"),
    ],
    "staff_reports": [  # auditors: read-only, so the claims' time report rather than the review queue
        ("达标看板", "credits:city-dashboard"), ("欠缺名单", "credits:short-list"), ("交流轮岗", "exchange:overview"),
        ("骨干规划", "backbone:plan"), ("骨干名册", "backbone:roster"), ("骨干评选", "backbone:manage"), ("认定时效", "claims:turnaround"),
        ("申诉时效", "training:appeals-report"), ("年度报告", "credits:reports"), ("补报", "credits:amendments"),
        ("上报省厅", "province:reports"), ("导出文件", "exports"), ("管理后台", "admin:index"),
    ],
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
def _menu_html(kind: str) -> str:
    return format_html_join("\n        ", '<a href="{}">{}</a>', ((_reverse(name), label) for label, name in MENUS[kind]))


@register.simple_tag
def link(name: str) -> str:
    """`{% link "credits:transcript" %}`: the path of a route that takes no arguments."""
    return _reverse(name)


@register.simple_tag
def menu_links(user) -> str:
    kind = menu_kind(user)
    return _menu_html(kind) if kind else ""
