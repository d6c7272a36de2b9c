"""The one choke point for who may see what (CONVENTIONS habit 1).

Every view, API viewset, export and admin `get_queryset` starts from these functions.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from .choices import PostingKind, Role
from .models import District, Posting, Profile, School, Teacher


def role_of(user) -> str | None:
    """The user's role; superusers act as bureau staff."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.BUREAU
    profile = profile_of(user)
    return profile.role if profile else None


def profile_of(user) -> Profile | None:
    try:
        return user.profile
    except Profile.DoesNotExist:
        return None


def own_teacher(user) -> Teacher | None:
    try:
        return user.teacher
    except Teacher.DoesNotExist:
        return None


def visible_districts(user) -> QuerySet[District]:
    role = role_of(user)
    if role in (Role.BUREAU, Role.AUDITOR):
        return District.objects.all()
    if role == Role.DISTRICT:
        return District.objects.filter(pk=user.profile.district_id)
    if role == Role.PRINCIPAL:
        return District.objects.filter(schools=user.profile.school_id)
    return District.objects.none()


def visible_schools(user) -> QuerySet[School]:
    role = role_of(user)
    if role in (Role.BUREAU, Role.AUDITOR):
        return School.objects.all()
    if role == Role.DISTRICT:
        return School.objects.filter(district_id=user.profile.district_id)
    if role == Role.PRINCIPAL:
        return School.objects.filter(pk=user.profile.school_id)
    if role == Role.TEACHER:
        teacher = own_teacher(user)
        return School.objects.filter(pk=teacher.school_id) if teacher else School.objects.none()
    return School.objects.none()


def visible_teachers(user) -> QuerySet[Teacher]:
    role = role_of(user)
    if role in (Role.BUREAU, Role.AUDITOR):
        return Teacher.objects.all()
    if role == Role.DISTRICT:
        return Teacher.objects.filter(school__district_id=user.profile.district_id)
    if role == Role.PRINCIPAL:
        return Teacher.objects.filter(school_id=user.profile.school_id)
    if role == Role.TEACHER:
        teacher = own_teacher(user)
        return Teacher.objects.filter(pk=teacher.pk) if teacher else Teacher.objects.none()
    return Teacher.objects.none()


def visible_teachers_of_year(user, year: int) -> QuerySet[Teacher]:
    """The teachers a user sees now, and (CR-7 amended) those who held a home post at one of the user's
    schools during `year`: a principal or district still sees the year's figures of a teacher who moved
    away in December, as that year's lists name them."""
    if role_of(user) not in (Role.DISTRICT, Role.PRINCIPAL):
        return visible_teachers(user)
    had = Posting.objects.filter(
        school__in=visible_schools(user), kind=PostingKind.REGULAR, started_on__lte=dt.date(year, 12, 31),
    ).filter(Q(ended_on__isnull=True) | Q(ended_on__gte=dt.date(year, 1, 1))).values("teacher_id")
    return Teacher.objects.filter(Q(pk__in=visible_teachers(user).values("pk")) | Q(pk__in=had))


def visible_postings(user) -> QuerySet[Posting]:
    return Posting.objects.filter(teacher__in=visible_teachers(user))


def may_see_full_id_number(user) -> bool:
    """SEC-3: only bureau staff holding the explicit permission (superusers hold every permission)."""
    return role_of(user) == Role.BUREAU and user.has_perm("bureau.view_full_id_number")


def may_write(user) -> bool:
    """Auditors and teachers never write through the admin."""
    return role_of(user) in (Role.BUREAU, Role.DISTRICT)
