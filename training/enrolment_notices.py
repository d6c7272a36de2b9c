"""Who hears of each enrolment step (issue 15): an acknowledgement to the teacher, and a notice to
whoever must act next. Every notice is sent after commit with a stable key (enrolment, step, whom), so a
retried or repeated step never notifies twice (bureau.services.notice_send)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse

from bureau.choices import Role
from bureau.models import Notice
from bureau.services import notice_after_commit

from .models import Enrolment, Project

TITLE_MAX = Notice._meta.get_field("title").max_length  # a long project name is cut, never refused

# step -> the title of the teacher's acknowledgement
ACKNOWLEDGEMENTS = {
    "apply": "已收到您的报名：{project}，等待学校审核",
    "nominate": "学校已选派您参加：{project}，等待学校审核",
    "waitlist": "名额已满，您已进入候补：{project}",
    "promote": "候补递补成功：{project}，已转为报名，等待学校审核",
    "school_approve": "学校已审核通过：{project}，等待主办单位录取",
}


def _users():
    return get_user_model().objects.filter(is_active=True)


def principals_of(school_id: int):
    return _users().filter(profile__role=Role.PRINCIPAL, profile__school_id=school_id)


def organiser_staff(project: Project):
    """The organiser's staff (training.organisers): the owner school's principal for 校本, the owner
    district's staff for 县培, bureau staff for the bureau's projects."""
    if project.owner_school_id is not None:
        return principals_of(project.owner_school_id)
    if project.owner_district_id is not None:
        return _users().filter(profile__role=Role.DISTRICT, profile__district_id=project.owner_district_id)
    return _users().filter(profile__role=Role.BUREAU)


def _key(enrolment: Enrolment, step: str, whom: str = "teacher") -> str:
    return f"training.enrolment:{enrolment.pk}:{step}" + ("" if whom == "teacher" else f":{whom}")


def acknowledge(enrolment: Enrolment, step: str, *, title: str | None = None) -> None:
    """The teacher's acknowledgement of a step (nothing when the teacher has no account)."""
    user = enrolment.teacher.user if enrolment.teacher.user_id else None
    if user is None:
        return
    text = title or ACKNOWLEDGEMENTS[step].format(project=enrolment.project.name)
    notice_after_commit(recipient=user, key=_key(enrolment, step), title=text[:TITLE_MAX],
                        link=reverse("training:projects"))


def tell_next(enrolment: Enrolment, step: str, *, actor) -> None:
    """The next actor's notice: the principal after an application (or a promotion from the waiting
    list), the organiser's staff after the school's approval. The actor is never told of their own step."""
    teacher, project = enrolment.teacher, enrolment.project
    if step in ("apply", "nominate", "promote"):
        recipients = principals_of(teacher.school_id)
        title = f"待审核报名：{teacher.name}（{teacher.staff_no}）· {project.name}"
        link = reverse("training:school-enrolments")
    elif step == "school_approve":
        recipients = organiser_staff(project)
        title = f"待录取报名：{teacher.name}（{teacher.staff_no}）· {project.name}"
        link = f"{reverse('training:organise-enrolments')}?project={project.pk}&state=school_approved"
    else:
        return
    for user in recipients.exclude(pk=getattr(actor, "pk", None)):
        notice_after_commit(recipient=user, key=_key(enrolment, step, "todo"), title=title[:TITLE_MAX], link=link)
