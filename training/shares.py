"""名额分配: splitting a project's seats among districts and schools, and the guard on approvals (SPEC §3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum

from bureau.choices import Role
from bureau.models import District, School
from bureau.scoping import profile_of, role_of
from bureau.services import ApplicationError, audit

from . import rules
from .models import Enrolment, Project, ProjectShare


def _approved(project: Project, **unit) -> int:
    return Enrolment.objects.filter(project=project, state__in=rules.APPROVED_STATES, **unit).count()


@transaction.atomic
def share_set(*, project: Project, seats: int, actor, district: District | None = None,
              school: School | None = None) -> ProjectShare:
    """Set one unit's share. The project row is locked, so two editors cannot overshoot together."""
    if (district is None) == (school is None):
        raise ApplicationError("请指定一个区县或一所学校。")
    project = Project.objects.select_for_update().get(pk=project.pk)
    role = role_of(actor)
    if seats < 0:
        raise ApplicationError("名额不能为负数。")
    if district is not None:
        if actor is not None and role != Role.BUREAU:
            raise ApplicationError("区县名额由市教育局（主办单位）分配。")
        others = ProjectShare.objects.filter(project=project, district__isnull=False).exclude(district=district)
        parts = list(others.values_list("seats", flat=True)) + [seats]
        if not rules.shares_fit(parts=parts, whole=project.capacity):
            raise ApplicationError(f"各区县名额合计 {sum(parts)} 超过项目名额 {project.capacity}。")
        schools = ProjectShare.objects.filter(project=project, school__district=district).aggregate(n=Sum("seats"))["n"] or 0
        if seats < schools:
            raise ApplicationError(f"该区县已分到各校 {schools} 个名额，不能少于此数。")
        used = _approved(project, teacher__school__district=district)
        unit = {"district": district}
    else:
        if actor is not None and role not in (Role.BUREAU, Role.DISTRICT):
            raise ApplicationError("学校名额由区县教育局分配。")
        if role == Role.DISTRICT and profile_of(actor).district_id != school.district_id:
            raise ApplicationError("只能分配本区县学校的名额。")
        others = ProjectShare.objects.filter(project=project, school__district_id=school.district_id).exclude(school=school)
        parts = list(others.values_list("seats", flat=True)) + [seats]
        if project.owner_district_id == school.district_id:
            # The district's own 县培 project: its schools split the project's seats directly.
            if not rules.shares_fit(parts=parts, whole=project.capacity):
                raise ApplicationError(f"各校名额合计 {sum(parts)} 超过项目名额 {project.capacity}。")
        else:
            parent = ProjectShare.objects.filter(project=project, district_id=school.district_id).first()
            if parent is None:
                raise ApplicationError("该区县尚未分到名额，请先由主办单位分配区县名额。")
            if not rules.shares_fit(parts=parts, whole=parent.seats):
                raise ApplicationError(f"各校名额合计 {sum(parts)} 超过本区县名额 {parent.seats}。")
        used = _approved(project, teacher__school=school)
        unit = {"school": school}
    if seats < used:
        raise ApplicationError(f"该单位已录取 {used} 人，名额不能少于此数。")
    share, _ = ProjectShare.objects.update_or_create(project=project, **unit,
                                                     defaults={"seats": seats, "updated_by": actor})
    audit(action="training.share.set", actor=actor, obj=share, seats=seats)
    # A share raised may let a waiting teacher of that unit take a free seat (training.waitlist), inside
    # this same lock. Imported here: the waiting list asks this module's share_miss.
    from .waitlist import waitlist_promote

    waitlist_promote(project=project)
    return share


def seat_guard(*, project: Project, teacher, today: dt.date) -> None:
    """Before an organiser's approval (the caller holds the project row lock): the teacher's school and
    district must have a seat left in their share, unless the shares are released to the common pool."""
    if project.capacity is not None and _approved(project) >= project.capacity:
        raise ApplicationError(f"项目名额（{project.capacity} 个）已满。")
    miss = share_miss(project=project, teacher=teacher, today=today)
    if miss:
        raise ApplicationError(miss)


def share_miss(*, project: Project, teacher, today: dt.date) -> str | None:
    """Why the teacher's unit has no seat left in its share (Chinese), or None: no shares, shares
    released, or a seat left. Also the waiting list's test of a waiting teacher (training.waitlist)."""
    shares = list(ProjectShare.objects.filter(project=project))
    if not shares or rules.released(release_on=project.shares_release_on, today=today):
        return None
    school_share = next((s for s in shares if s.school_id == teacher.school_id), None)
    district_share = next((s for s in shares if s.district_id == teacher.school.district_id), None)
    if school_share is not None and not rules.seat_free(used=_approved(project, teacher__school_id=teacher.school_id),
                                                        share=school_share.seats):
        return f"本校名额（{school_share.seats} 个）已用完。"
    if district_share is None and project.owner_district_id != teacher.school.district_id:
        return "本区县没有分到该项目的名额。"
    if district_share is not None and not rules.seat_free(used=_approved(project, teacher__school__district_id=teacher.school.district_id),
                           share=district_share.seats):
        return f"本区县名额（{district_share.seats} 个）已用完。"
    if school_share is None and ProjectShare.objects.filter(
            project=project, school__district_id=teacher.school.district_id).exists():
        return "本校没有分到该项目的名额。"
    return None


@dataclass(frozen=True)
class SchoolSeats:
    share: int | None
    used: int
    left: int | None
    pooled: bool


def school_seats(*, project: Project, school: School, today: dt.date) -> SchoolSeats:
    """What a principal sees when nominating: the school's share and the seats left."""
    used = _approved(project, teacher__school=school)
    if rules.released(release_on=project.shares_release_on, today=today):
        left = None if project.capacity is None else max(0, project.capacity - _approved(project))
        return SchoolSeats(share=None, used=used, left=left, pooled=True)
    share = ProjectShare.objects.filter(project=project, school=school).first()
    if share is None:
        return SchoolSeats(share=None, used=used, left=None, pooled=False)
    return SchoolSeats(share=share.seats, used=used, left=max(0, share.seats - used), pooled=False)
