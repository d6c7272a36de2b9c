"""Reads of the training part: seats and per-project statistics (SPEC §3)."""

from __future__ import annotations

from django.db.models import Avg, Count, Q, QuerySet

from bureau.choices import Role
from bureau.scoping import own_teacher, role_of

from . import rules
from .models import SEAT_STATES, Attendance, Enrolment, Project, ProjectStatus, Result, SurveyResponse


def visible_projects(user) -> QuerySet[Project]:
    """Projects a user may read. Staff and principals see the whole catalogue (drafts included: they plan
    and nominate); a teacher sees the projects open to them: published or later and not archived, aimed at
    no district or at the teacher's, plus every project the teacher is or was enrolled in. Nobody else
    sees any."""
    role = role_of(user)
    if role in (Role.BUREAU, Role.DISTRICT, Role.AUDITOR, Role.PRINCIPAL):
        return Project.objects.all()
    teacher = own_teacher(user) if role == Role.TEACHER else None
    if teacher is None:
        return Project.objects.none()
    offered = Q(target_districts__isnull=True) | Q(target_districts=teacher.school.district_id)
    open_to_teacher = ~Q(status__in=[ProjectStatus.DRAFT, ProjectStatus.ARCHIVED]) & offered
    ids = Project.objects.filter(open_to_teacher | Q(enrolments__teacher=teacher)).values("pk")
    return Project.objects.filter(pk__in=ids)


def project_audience(project: Project) -> rules.Audience:
    return rules.Audience(
        stages=tuple(project.target_stages),
        subjects=tuple(project.target_subjects),
        titles=tuple(project.target_titles),
        district_ids=tuple(project.target_districts.values_list("pk", flat=True)),
    )


def seats_taken(project_id: int) -> int:
    return Enrolment.objects.filter(project_id=project_id, state__in=SEAT_STATES).count()


def project_statistics(project_id: int) -> dict:
    """Per project: enrolled, approved, attendance rate, pass and excellence rates, survey averages."""
    counts = Enrolment.objects.filter(project_id=project_id).aggregate(
        enrolled=Count("pk", filter=Q(state__in=SEAT_STATES)),
        approved=Count("pk", filter=Q(state__in=["approved", "attending", "completed"])),
    )
    attendance = Attendance.objects.filter(session__project_id=project_id).aggregate(
        total=Count("pk"), present=Count("pk", filter=Q(present=True))
    )
    results = Result.objects.filter(enrolment__project_id=project_id).aggregate(
        total=Count("pk"),
        passed=Count("pk", filter=Q(grade__in=["优秀", "合格"])),
        excellent=Count("pk", filter=Q(grade="优秀")),
    )
    surveys = SurveyResponse.objects.filter(project_id=project_id).aggregate(
        needs=Avg("score", filter=Q(kind="needs")), satisfaction=Avg("score", filter=Q(kind="satisfaction"))
    )

    def rate(part, whole):
        return round(part / whole, 4) if whole else None

    return {
        **counts,
        "attendance_rate": rate(attendance["present"], attendance["total"]),
        "results": results["total"],
        "pass_rate": rate(results["passed"], results["total"]),
        "excellence_rate": rate(results["excellent"], results["total"]),
        "survey_needs": surveys["needs"],
        "survey_satisfaction": surveys["satisfaction"],
    }
