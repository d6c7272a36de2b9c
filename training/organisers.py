"""Who organises which project (SPEC §1, the sources' "3+1" duties): the one place this is decided.

- bureau staff organise every project (they run 国培/省培 selection and 市培, and may step in anywhere);
- district staff organise their district's 县培 projects (`Project.owner_district`);
- a principal organises the school's 校本 projects (`Project.owner_school`).

"Organise" means: edit the project, move it along its life cycle, decide enrolments as 主办单位, take
attendance, record and import results. Views, admin and imports ask `organised_projects` (rows) and
`may_organise` (one project); services ask `may_organise` again inside their transaction.
"""

from __future__ import annotations

from django.db.models import QuerySet

from bureau.choices import Role
from bureau.scoping import role_of

from .models import Level, Project

# The level a unit's own projects have, per organising role (bureau: any level).
OWN_LEVEL = {Role.DISTRICT: Level.COUNTY, Role.PRINCIPAL: Level.SCHOOL}


def organised_projects(user) -> QuerySet[Project]:
    role = role_of(user)
    if role == Role.BUREAU:
        return Project.objects.all()
    if role == Role.DISTRICT:
        return Project.objects.filter(owner_district_id=user.profile.district_id)
    if role == Role.PRINCIPAL:
        return Project.objects.filter(owner_school_id=user.profile.school_id)
    return Project.objects.none()


def may_organise(user, project: Project) -> bool:
    role = role_of(user)
    if role == Role.BUREAU:
        return True
    if role == Role.DISTRICT:
        return project.owner_district_id is not None and project.owner_district_id == user.profile.district_id
    if role == Role.PRINCIPAL:
        return project.owner_school_id is not None and project.owner_school_id == user.profile.school_id
    return False


def owner_for_new_project(user) -> dict:
    """The owner fields and level a project created by this user must carry (empty dict for bureau staff,
    who choose freely). Raises nothing: callers refuse roles that may not create projects."""
    role = role_of(user)
    if role == Role.DISTRICT:
        return {"owner_district_id": user.profile.district_id, "owner_school_id": None, "level": Level.COUNTY}
    if role == Role.PRINCIPAL:
        return {"owner_school_id": user.profile.school_id, "owner_district_id": None, "level": Level.SCHOOL}
    return {}


def may_create_projects(user) -> bool:
    return role_of(user) in (Role.BUREAU, Role.DISTRICT, Role.PRINCIPAL)
