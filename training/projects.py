"""Creating and editing a training project (SPEC §1 "who organises what", §3): the one write path for the
organiser pages and the admin alike.

Who: `training.organisers` decides (bureau staff any project; district staff their district's 县培;
principals their school's 校本). A new project's owner and level come from `owner_for_new_project`, never
from the form. Its audience: a district's project is for its own district (the district is set as the
target district, the only one a district may choose); a 校本 project is for its own school's teachers
(enrolment_apply refuses other schools' teachers, see `school_project_miss`). A project is edited only
while it is a draft or published: once enrolment opens, its terms are what teachers applied for.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction

from bureau.choices import Mode, Role, Stage, Theme, Title
from bureau.models import District
from bureau.scoping import role_of, visible_districts
from bureau.services import ApplicationError, audit, event_record
from bureau.text import has_control_characters

from .models import Kind, Level, Project, ProjectEvent, ProjectStatus
from .organisers import may_create_projects, may_organise, owner_for_new_project

# What an organiser types; owner fields, level (for districts and principals) and status are not among them.
FIELDS = ("code", "name", "level", "mode", "kind", "theme", "hours", "credits", "start_on", "end_on", "organiser",
          "capacity", "enrol_opens_on", "enrol_closes_on", "target_stages", "target_subjects", "target_titles")
EDITABLE_STATES = (ProjectStatus.DRAFT, ProjectStatus.PUBLISHED)
BUREAU_LEVELS = tuple(Level.values)


def _text(label: str, value, *, required: bool = True, limit: int = 200) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ApplicationError(f"{label}：请填写。")
    if has_control_characters(value):
        raise ApplicationError(f"{label}：不能包含控制字符（如从 Word 粘贴带来的换行符），请删除后重新输入。")
    if len(value) > limit:
        raise ApplicationError(f"{label}：最多 {limit} 个字。")
    return value


def _choices(label: str, values, allowed) -> list[str]:
    values = [v for v in (values or []) if v]
    wrong = [v for v in values if v not in allowed]
    if wrong:
        raise ApplicationError(f"{label}：不认识“{'、'.join(wrong)}”。")
    return values


def project_fields_check(fields: dict, *, actor) -> dict:
    """Validate what an organiser typed (Chinese errors naming the field); returns the cleaned values."""
    f = {name: fields.get(name) for name in FIELDS}
    f["code"] = _text("项目编号", f["code"], limit=32)
    f["name"] = _text("项目名称", f["name"])
    f["organiser"] = _text("承办单位", f["organiser"])
    forced = owner_for_new_project(actor)
    if forced:
        f["level"] = forced["level"]
    elif f["level"] not in BUREAU_LEVELS:
        raise ApplicationError("项目级别：请选择。")
    for name, label, allowed in (("mode", "培训方式", Mode.values), ("kind", "类别", Kind.values),
                                 ("theme", "主题", Theme.values)):
        if f[name] not in allowed:
            raise ApplicationError(f"{label}：请选择。")
    if f["hours"] is None:
        raise ApplicationError("学时：请填写。")
    f["hours"] = Decimal(f["hours"])
    if f["hours"] < 0:
        raise ApplicationError("学时：不能小于 0。")
    if f["credits"] is not None and Decimal(f["credits"]) < 0:
        raise ApplicationError("学分：不能小于 0（留空则按学分政策折算）。")
    if f["capacity"] is not None and int(f["capacity"]) < 1:
        raise ApplicationError("名额：至少 1 个（留空表示不限）。")
    start, end = f["start_on"], f["end_on"]
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise ApplicationError("开始日期和结束日期：请填写。")
    if end < start:
        raise ApplicationError("结束日期：不能早于开始日期。")
    opens, closes = f["enrol_opens_on"], f["enrol_closes_on"]
    if opens and closes and closes < opens:
        raise ApplicationError("报名截止：不能早于报名开始。")
    if closes and closes > end:
        raise ApplicationError("报名截止：不能晚于项目结束日期。")
    f["target_stages"] = _choices("面向学段", f["target_stages"], Stage.values)
    f["target_titles"] = _choices("面向职称", f["target_titles"], Title.values)
    f["target_subjects"] = [_text("面向学科", s, limit=32) for s in (f["target_subjects"] or []) if (s or "").strip()]
    return f


def _audience_districts(project: Project, *, actor, district_ids) -> list[int]:
    """The districts a project is aimed at: a district's (or a school's) own project is for its own district;
    bureau staff choose any (none = the whole city)."""
    if project.owner_district_id:
        return [project.owner_district_id]
    if project.owner_school_id:
        return [project.owner_school.district_id]
    allowed = set(visible_districts(actor).values_list("pk", flat=True))
    chosen = [int(d) for d in (district_ids or [])]
    if not set(chosen) <= allowed:
        raise ApplicationError("面向区县：只能选择您管辖的区县。")
    return chosen


def project_audience_settle(*, project: Project, actor, district_ids=None) -> None:
    """Set a project's target districts as its organiser may (used by the admin after its form saved them)."""
    wanted = _audience_districts(project, actor=actor, district_ids=district_ids)
    project.target_districts.set(District.objects.filter(pk__in=wanted))


@transaction.atomic
def project_create(*, actor, fields: dict, district_ids=None) -> Project:
    """A new project as a draft, owned by the creator's unit (district: 县培, principal: 校本)."""
    if not may_create_projects(actor):
        raise ApplicationError("您无权新建培训项目。")
    values = project_fields_check(fields, actor=actor)
    owner = owner_for_new_project(actor)
    if Project.objects.filter(code=values["code"]).exists():
        raise ApplicationError(f"项目编号：{values['code']} 已被使用，请换一个。")
    try:
        with transaction.atomic():
            project = Project.objects.create(**{**values, **owner}, status=ProjectStatus.DRAFT)
    except IntegrityError as exc:  # a project with the same code was created at the same moment
        raise ApplicationError(f"项目编号：{values['code']} 已被使用，请换一个。") from exc
    project_audience_settle(project=project, actor=actor, district_ids=district_ids)
    event_record(ProjectEvent, obj=project, action="create", from_state="", to_state=project.status, actor=actor)
    audit(action="training.project.created", actor=actor, obj=project, level=project.level,
          owner_district=project.owner_district_id, owner_school=project.owner_school_id)
    return project


@transaction.atomic
def project_update(*, project: Project, actor, fields: dict, district_ids=None) -> Project:
    """Change a project's terms: its organiser only, and only while it is a draft or published."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    if not may_organise(actor, project):
        raise ApplicationError("只有该项目的主办单位可以修改项目。")
    if project.status not in EDITABLE_STATES:
        raise ApplicationError(f"项目当前为“{project.get_status_display()}”，不能再修改；草稿和已发布的项目可以修改。")
    values = project_fields_check(fields, actor=actor)
    if role_of(actor) != Role.BUREAU:
        values["level"] = project.level
    if Project.objects.filter(code=values["code"]).exclude(pk=project.pk).exists():
        raise ApplicationError(f"项目编号：{values['code']} 已被使用，请换一个。")
    changed = [name for name, value in values.items() if getattr(project, name) != value]
    for name, value in values.items():
        setattr(project, name, value)
    project._change_reason = "主办单位修改"
    project.save()
    project_audience_settle(project=project, actor=actor, district_ids=district_ids)
    event_record(ProjectEvent, obj=project, action="update", from_state=project.status, to_state=project.status,
                 actor=actor, reason="修改：" + "、".join(str(Project._meta.get_field(n).verbose_name) for n in changed))
    audit(action="training.project.changed", actor=actor, obj=project, fields=changed)
    return project


def school_project_miss(project: Project, teacher) -> str | None:
    """A 校本 project run by a school is for that school's teachers only (why not, in Chinese, or None)."""
    if project.owner_school_id and project.owner_school_id != teacher.school_id:
        return "本项目为校本研修，仅面向主办学校的教师。"
    return None


@transaction.atomic
def project_owner_set(*, project: Project, actor, owner_district=None, owner_school=None) -> Project:
    """Bureau staff hand a project to the unit that runs it (a 县培 to its district, a 校本 to its school),
    or take it back (neither). Recorded like every change of a project."""
    if role_of(actor) != Role.BUREAU:
        raise ApplicationError("只有市教育局可以指定项目的主办单位。")
    project = Project.objects.select_for_update().get(pk=project.pk)
    if owner_district is not None and owner_school is not None:
        raise ApplicationError("主办区县和主办学校只能指定一个。")
    if owner_district is not None and project.level != Level.COUNTY:
        raise ApplicationError("只有县培项目可以交由区县主办。")
    if owner_school is not None and project.level != Level.SCHOOL:
        raise ApplicationError("只有校本项目可以交由学校主办。")
    wanted = (getattr(owner_district, "pk", None), getattr(owner_school, "pk", None))
    if wanted == (project.owner_district_id, project.owner_school_id):
        return project
    project.owner_district_id, project.owner_school_id = wanted
    project.save(update_fields=["owner_district", "owner_school", "updated_at"])
    unit = owner_district.name if owner_district else owner_school.name if owner_school else "市教育局"
    event_record(ProjectEvent, obj=project, action="update", from_state=project.status, to_state=project.status,
                 actor=actor, reason=f"主办单位改为{unit}")
    audit(action="training.project.owner_set", actor=actor, obj=project, owner_district=wanted[0],
          owner_school=wanted[1])
    if owner_district is not None or owner_school is not None:
        project_audience_settle(project=project, actor=actor)
    return project
