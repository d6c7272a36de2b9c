"""Writes of the organisation part: one function per state change, each with its audit row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from .bulkinsert import insert_values
from .choices import PostingKind, Role, Status
from .errors import ApplicationError
from .models import AuditEntry, District, Notice, Posting, Profile, School, StatusChange, Teacher, WorkflowEvent
from .roles import STAFF_ROLES, SYSTEM_USERNAME, group_name
from .scoping import role_of


def system_user():
    """The author of what the command line and scheduled jobs write when no person is named (`--by`).

    A superuser with no usable password that the authentication backend refuses (bureau.auth): it can
    never sign in or hold a session, acts with the whole city's scope (as the server operator does), and
    is named in ledger rows and audit entries as 系统.
    """
    # get_or_create: two workers making it at once both end up with the same row.
    user, _ = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"first_name": "系统", "is_superuser": True, "is_staff": False, "password": make_password(None)},
    )
    return user


def audit(*, action: str, actor, obj=None, **data) -> AuditEntry:
    return AuditEntry.objects.create(
        action=action,
        actor=actor,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data,
    )


def audit_many(items, *, actor) -> int:
    """`audit` for many objects at once: items are (obj, action, data); one bulk write, the number."""
    actor_id = getattr(actor, "pk", None)
    return insert_values(AuditEntry, ["action", "actor_id", "object_type", "object_id", "data"], (
        (action, actor_id, obj._meta.label_lower, str(obj.pk), data) for obj, action, data in items))


def events_record(model: type[WorkflowEvent], steps, *, actor, reason: str = "") -> int:
    """`event_record` for many objects at once (a bulk path): steps are (obj, action, from_state, to_state);
    one bulk write, the number."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{model.__name__} must be written in the transaction of the change")
    (subject,) = [f.attname for f in model._meta.concrete_fields if f.is_relation and f.name != "actor"]
    actor_id, reason = getattr(actor, "pk", None), (reason or "").strip()[:200]
    return insert_values(model, [subject, "action", "from_state", "to_state", "actor_id", "reason"], (
        (obj.pk, action, from_state or "", to_state, actor_id, reason) for obj, action, from_state, to_state in steps))


def event_record(model: type[WorkflowEvent], *, obj, action: str, from_state: str, to_state: str, actor,
                 reason: str = "") -> WorkflowEvent:
    """Write one step of a workflow (habit 17) into its event table: `model` is the workflow's
    WorkflowEvent subclass, `obj` the object that moved (the one foreign key of the table besides the
    actor). Called by the service inside the transaction of the change, so the step and its record
    commit or roll back together; `actor` is None only for the system (a scheduled task)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{model.__name__} must be written in the transaction of the change")
    (subject,) = [f.name for f in model._meta.concrete_fields if f.is_relation and f.name != "actor"]
    return model.objects.create(
        **{subject: obj}, action=action, from_state=from_state or "", to_state=to_state, actor=actor,
        reason=(reason or "").strip()[:200],
    )


@transaction.atomic
def postings_follow_school(*, teachers: Iterable[Teacher], actor, today: dt.date) -> None:
    """A teacher's school changed: close the open home post and open one at the new school.

    The new post starts on the teacher's 入校日期 when that is later than the old post's start (the
    roster gives the date of the move), else on `today`. History is never overwritten (SPEC §2).
    """
    teachers = list(teachers)
    open_posts = {
        p.teacher_id: p
        for p in Posting.objects.select_for_update().filter(
            teacher__in=teachers, kind=PostingKind.REGULAR, ended_on__isnull=True
        )
    }
    closed, opened = [], []
    for teacher in teachers:
        current = open_posts.get(teacher.pk)
        if current is not None and current.school_id == teacher.school_id:
            continue
        start = teacher.joined_school_on
        if current is not None:
            if start <= current.started_on:
                start = max(today, current.started_on)
            current.ended_on = max(current.started_on, start - dt.timedelta(days=1))
            closed.append(current)
        opened.append(
            Posting(
                teacher=teacher,
                school_id=teacher.school_id,
                kind=PostingKind.REGULAR,
                started_on=start,
                note="调动",
                created_by=actor,
            )
        )
    Posting.objects.bulk_update(closed, ["ended_on"])
    Posting.objects.bulk_create(opened)
    for post in opened:
        audit(
            action="bureau.posting.moved",
            actor=actor,
            obj=post.teacher,
            school=post.school_id,
            started_on=post.started_on.isoformat(),
        )


def latest_status_changes(teacher_ids) -> dict[int, dt.date]:
    """The effective date of each teacher's last recorded status change (teachers without one absent)."""
    from django.db.models import Max

    return dict(
        StatusChange.objects.filter(teacher_id__in=teacher_ids).values("teacher_id")
        .annotate(latest=Max("effective_on")).values_list("teacher_id", "latest")
    )


def status_changes_record(*, changes: list[tuple[Teacher, str, dt.date]], actor, note: str = "") -> list[StatusChange]:
    """CR-7 (amended): record that each teacher's status changed from the given old status to the one now
    on the teacher, effective on the given day; the teacher's 状态生效日期 follows (the caller saves the
    teacher in the same transaction). Callers check the date first (bureau.rules.status_change_problem)."""
    rows = []
    for teacher, old_status, effective_on in changes:
        teacher.status_since = effective_on
        rows.append(StatusChange(teacher=teacher, effective_on=effective_on, from_status=old_status,
                                 to_status=teacher.status, note=note[:200], created_by=actor))
    StatusChange.objects.bulk_create(rows, batch_size=2000)
    if rows:
        audit(action="bureau.teacher.status_changed", actor=actor, count=len(rows),
              teachers=[r.teacher_id for r in rows[:200]])
    return rows


@transaction.atomic
def id_number_confirm(*, teacher: Teacher, actor) -> str | None:
    """Bureau staff confirm a held ID-card number (SEC-3): it becomes the teacher's, unless another teacher
    already has it; then the number stays held and the other teacher's staff number is returned."""
    if role_of(actor) != Role.BUREAU:
        raise ApplicationError("只有市教育局可以核验身份证号。")
    teacher = Teacher.objects.select_for_update().get(pk=teacher.pk)
    number = teacher.pending_id_number
    if not number:
        return None
    owner = Teacher.objects.filter(id_number=number).exclude(pk=teacher.pk).values_list("staff_no", flat=True).first()
    if owner:
        return owner
    teacher.id_number, teacher.pending_id_number = number, ""
    teacher.save(update_fields=["id_number", "pending_id_number", "updated_at"])
    audit(action="bureau.teacher.id_number_confirmed", actor=actor, obj=teacher)
    return None


@transaction.atomic
def teacher_save(*, teacher: Teacher, actor, today: dt.date, created: bool) -> Teacher:
    """The admin's write path: save, then keep the posting and status history (CR-7) in step.

    A changed status takes effect on the 状态生效日期 given with it, else today."""
    teacher._change_reason = "后台编辑"
    dated_leaver = created and teacher.status_since is not None and teacher.status != Status.ACTIVE
    if created:
        teacher.status_since = teacher.status_since or today
    else:
        old_status, old_since = Teacher.objects.filter(pk=teacher.pk).values_list("status", "status_since").get()
        if old_status != teacher.status:
            effective = teacher.status_since if teacher.status_since and teacher.status_since != old_since else today
            status_changes_record(changes=[(teacher, old_status, effective)], actor=actor, note="后台编辑")
        else:
            teacher.status_since = old_since  # the date moves only with a change of status
    teacher.save()
    if dated_leaver:  # CR-7: listed as no longer 在职 since a given day: 在职 until then
        status_changes_record(changes=[(teacher, Status.ACTIVE, teacher.status_since)], actor=actor, note="后台新增")
    if created:
        Posting.objects.create(
            teacher=teacher,
            school_id=teacher.school_id,
            kind=PostingKind.REGULAR,
            started_on=teacher.joined_school_on,
            note="后台新增",
            created_by=actor,
        )
        audit(action="bureau.teacher.created", actor=actor, obj=teacher)
    else:
        postings_follow_school(teachers=[teacher], actor=actor, today=today)
        audit(action="bureau.teacher.changed", actor=actor, obj=teacher)
    return teacher


@transaction.atomic
def user_assign_role(
    *,
    user,
    role: str,
    actor,
    district: District | None = None,
    school: School | None = None,
    teacher: Teacher | None = None,
) -> Profile:
    """Tie a user to a role and its scope; the auth group and admin access follow the role."""
    if role == Role.DISTRICT and district is None:
        raise ApplicationError("区县教育局账号必须指定区县。")
    if role == Role.PRINCIPAL and school is None:
        raise ApplicationError("校长账号必须指定学校。")
    if role == Role.TEACHER and teacher is None:
        raise ApplicationError("教师账号必须对应一名教师。")
    profile, _ = Profile.objects.update_or_create(
        user=user,
        defaults={
            "role": role,
            "district": district if role == Role.DISTRICT else None,
            "school": school if role == Role.PRINCIPAL else None,
        },
    )
    if role == Role.TEACHER:
        Teacher.objects.filter(user=user).exclude(pk=teacher.pk).update(user=None)
        teacher.user = user
        teacher.save(update_fields=["user"])
    user.groups.set([Group.objects.get_or_create(name=group_name(role))[0]])
    user.is_staff = role in STAFF_ROLES
    user.save(update_fields=["is_staff"])
    audit(action="bureau.role.assigned", actor=actor, obj=profile, role=role)
    return profile


def user_link_identity(*, user, issuer: str, subject: str, actor) -> Profile:
    """Link (or, both empty, unlink) the account to an identity at the bureau's identity provider (bureau.sso):
    the way an account that is not a teacher's signs in there. Never a superuser's."""
    issuer, subject = issuer.strip(), subject.strip()
    if bool(issuer) != bool(subject):
        raise ApplicationError("签发方与用户标识须同时填写或同时留空。")
    if subject and user.is_superuser:
        raise ApplicationError("超级管理员不能通过统一身份认证登录，不能关联身份。")
    profile = Profile.objects.get(user=user)
    if (profile.sso_issuer, profile.sso_subject) == (issuer, subject):
        return profile
    if subject and Profile.objects.filter(sso_issuer=issuer, sso_subject=subject).exclude(pk=profile.pk).exists():
        raise ApplicationError("该统一身份认证标识已关联到其他账号。")
    profile.sso_issuer, profile.sso_subject = issuer, subject
    profile.save(update_fields=["sso_issuer", "sso_subject"])
    audit(action="bureau.sso.linked" if subject else "bureau.sso.unlinked", actor=actor, obj=profile,
          issuer=issuer, subject=subject)
    return profile


def notice_send(*, recipient, key: str, title: str, body: str = "", link: str = "") -> bool:
    """Send a notice once: a second call with the same key for the same recipient does nothing.

    With mail configured (NOTICE_EMAIL) and an address on the account, it is also mailed, after commit.
    """
    from django.conf import settings
    from django.core.mail import send_mail

    _, created = Notice.objects.get_or_create(
        recipient=recipient, key=key, defaults={"title": title, "body": body, "link": link}
    )
    if created and settings.NOTICE_EMAIL and recipient.email:
        transaction.on_commit(lambda: send_mail(title, body, None, [recipient.email], fail_silently=True))
    return created


def notice_after_commit(**kwargs) -> None:
    """Queue a notice for when the surrounding transaction commits (never for a change rolled back)."""
    transaction.on_commit(lambda: notice_send(**kwargs))
