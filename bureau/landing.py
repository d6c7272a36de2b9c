"""The public face of the platform (issue 17 item 6): a landing page for anonymous visitors at `/` and a
short user guide per role at `/guide/<role>/`. Signed-in users keep going where `/` sent them before
(bureau.views.home). Plain pages rendered from templates/guide/, no login, no database reads."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from . import views

# slug -> (role, Chinese name, one line on what the role does here). The order is the landing page's.
GUIDES: dict[str, tuple[str, str]] = {
    "teacher": ("教师", "查看本人学分与周期进度，报名培训，申报学时，申请学时认定，下载证书，申请交流或骨干评选。"),
    "principal": ("校长", "掌握本校达标与预警，审核校本学时和学时认定，推荐交流与骨干人选，组织校本培训。"),
    "district": ("区县教育局", "管理本区县学校与教师，组织县培项目与县级骨干评选，审核报名、学时与认定。"),
    "bureau": ("市教育局", "维护全市学校、教师、项目与学分政策，发布年度报告，审批交流计划与骨干评选。"),
    "auditor": ("审计/督导", "只读查看全市情况，下载达标、台账、交流、名册等 Excel 工作簿。"),
}


def home(request):
    """`/`: the landing page for anonymous visitors; everyone signed in goes where they went before."""
    if request.user.is_authenticated:
        return views.home(request)
    return render(request, "guide/landing.html", {"guides": [(slug, name, text) for slug, (name, text) in GUIDES.items()]})


def guide(request, role: str):
    """`/guide/<role>/`: one role's user guide, readable without logging in."""
    if role not in GUIDES:
        raise Http404("没有这个角色的使用指南")
    name, summary = GUIDES[role]
    return render(request, f"guide/{role}.html", {
        "role": role, "role_name": name, "summary": summary,
        "others": [(slug, other) for slug, (other, _) in GUIDES.items() if slug != role],
    })
