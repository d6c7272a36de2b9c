"""Organiser pages (SPEC §1 "who organises what"): the projects a unit runs, a form to create one, and each
project's hub (terms, edit form while a draft or published, life-cycle steps, links to its management
pages). Bureau staff see every project; district staff their 县培; principals their 校本
(training.organisers); a project of another unit answers 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from bureau.choices import Mode, Role, Stage, Theme, Title
from bureau.permissions import role_required
from bureau.scoping import role_of, visible_districts
from bureau.services import ApplicationError

from . import rules
from .models import SEAT_STATES, Kind, Level, Project, ProjectShare
from .organisers import OWN_LEVEL, organised_projects
from .projects import EDITABLE_STATES, project_create, project_update
from .services import project_transition

ORGANISERS = (Role.BUREAU, Role.DISTRICT, Role.PRINCIPAL)
PER_PAGE = 50
EVENT_LABELS = {"create": "新建", "update": "修改", "import": "导入", **rules.PROJECT_ACTION_LABELS}
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProjectForm(forms.Form):
    code = forms.CharField(label="项目编号", max_length=32)
    name = forms.CharField(label="项目名称", max_length=200)
    level = forms.ChoiceField(label="项目级别", choices=Level.choices)
    mode = forms.ChoiceField(label="培训方式", choices=Mode.choices)
    kind = forms.ChoiceField(label="类别", choices=Kind.choices)
    theme = forms.ChoiceField(label="主题", choices=Theme.choices)
    hours = forms.DecimalField(label="学时", min_value=0, max_digits=7, decimal_places=2)
    credits = forms.DecimalField(label="学分", min_value=0, max_digits=7, decimal_places=2, required=False,
                                 help_text="留空则按学分政策的每学时折算学分计算")
    start_on = forms.DateField(label="开始日期", widget=DATE)
    end_on = forms.DateField(label="结束日期", widget=DATE)
    organiser = forms.CharField(label="承办单位", max_length=200)
    capacity = forms.IntegerField(label="名额", min_value=1, required=False, help_text="留空表示不限")
    enrol_opens_on = forms.DateField(label="报名开始", required=False, widget=DATE)
    enrol_closes_on = forms.DateField(label="报名截止", required=False, widget=DATE)
    target_stages = forms.MultipleChoiceField(label="面向学段", choices=Stage.choices, required=False,
                                              widget=forms.CheckboxSelectMultiple, help_text="不选表示全部学段")
    target_titles = forms.MultipleChoiceField(label="面向职称", choices=Title.choices, required=False,
                                              widget=forms.CheckboxSelectMultiple, help_text="不选表示全部职称")
    target_subjects = forms.CharField(label="面向学科", required=False, max_length=400,
                                      help_text="多个学科用顿号或逗号分隔；留空表示全部学科")
    target_districts = forms.ModelMultipleChoiceField(label="面向区县", queryset=None, required=False,
                                                      widget=forms.CheckboxSelectMultiple, help_text="不选表示全市")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        own_level = OWN_LEVEL.get(role_of(user))
        if own_level:  # a district's projects are 县培 and for its district; a school's are 校本
            del self.fields["level"]
            del self.fields["target_districts"]
            self.own_level = own_level
        else:
            self.own_level = None
            self.fields["target_districts"].queryset = visible_districts(user).order_by("code")

    def clean_target_subjects(self):
        text = self.cleaned_data["target_subjects"]
        for sep in "，,、;；":
            text = text.replace(sep, " ")
        return [s for s in text.split() if s]

    def service_fields(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "target_districts"}

    def district_ids(self) -> list[int]:
        chosen = self.cleaned_data.get("target_districts")
        return [d.pk for d in chosen] if chosen is not None else []


def _initial(project: Project) -> dict:
    initial = {name: getattr(project, name) for name in (
        "code", "name", "level", "mode", "kind", "theme", "hours", "credits", "start_on", "end_on", "organiser",
        "capacity", "enrol_opens_on", "enrol_closes_on", "target_stages", "target_titles")}
    initial["target_subjects"] = "、".join(project.target_subjects)
    initial["target_districts"] = list(project.target_districts.all())
    return initial


@role_required(*ORGANISERS)
def projects(request):
    form = ProjectForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(actor=request.user, fields=form.service_fields(), district_ids=form.district_ids())
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已新建项目“{project.name}”（草稿），请核对后发布。")
            return redirect("training:organise-project", pk=project.pk)
    rows = (
        organised_projects(request.user)
        .select_related("owner_district", "owner_school")
        .annotate(
            enrolled=Count("enrolments", filter=Q(enrolments__state__in=SEAT_STATES)),
            approved=Count("enrolments", filter=Q(enrolments__state__in=rules.APPROVED_STATES)),
        )
        .order_by("-start_on", "code")
    )
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "training/organise_projects.html", {
        "form": form, "page": page, "shared": _shared_projects(request.user)})


def _shared_projects(user):
    """District staff split their district's 名额 of other units' projects among their schools
    (training.share_views): the projects that gave the district a share, newest first."""
    if role_of(user) != Role.DISTRICT:
        return []
    district_id = user.profile.district_id
    return list(Project.objects.filter(pk__in=ProjectShare.objects.filter(district_id=district_id).values("project_id"))
                .exclude(owner_district_id=district_id).order_by("-start_on", "code")[:PER_PAGE])


@role_required(*ORGANISERS)
def project(request, pk: int):
    project = get_object_or_404(organised_projects(request.user).select_related("owner_district", "owner_school"), pk=pk)
    editable = project.status in EDITABLE_STATES
    form = None
    if editable:
        form = ProjectForm(request.POST or None, user=request.user, initial=_initial(project))
        if request.method == "POST" and form.is_valid():
            try:
                project_update(project=project, actor=request.user, fields=form.service_fields(),
                               district_ids=form.district_ids())
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "项目已保存。")
                return redirect("training:organise-project", pk=project.pk)
    elif request.method == "POST":
        messages.error(request, f"项目当前为“{project.get_status_display()}”，不能再修改。")
        return redirect("training:organise-project", pk=project.pk)
    counts = project.enrolments.aggregate(
        enrolled=Count("pk", filter=Q(state__in=SEAT_STATES)),
        approved=Count("pk", filter=Q(state__in=rules.APPROVED_STATES)),
    )
    steps = [(action, step.label) for action, step in rules.PROJECT_TRANSITIONS.items()
             if project.status in step.from_states]
    return render(request, "training/organise_project.html", {
        "project": project, "form": form, "counts": counts, "steps": steps,
        "districts": project.target_districts.order_by("code"),
        "events": [(e, EVENT_LABELS.get(e.action, e.action))
                   for e in project.events.select_related("actor").order_by("-created_at", "-id")[:30]],
        "role": role_of(request.user),
    })


@require_POST
@role_required(*ORGANISERS)
def project_step(request, pk: int):
    project = get_object_or_404(organised_projects(request.user), pk=pk)
    action = request.POST.get("action", "")
    if action not in rules.PROJECT_TRANSITIONS:
        messages.error(request, "未知操作，请刷新页面后重试。")
        return redirect("training:organise-project", pk=project.pk)
    try:
        project = project_transition(project=project, action=action, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已{rules.PROJECT_ACTION_LABELS[action]}：项目当前为“{project.get_status_display()}”。")
    return redirect("training:organise-project", pk=project.pk)
