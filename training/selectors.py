"""Reads of the training part: seats and per-project statistics (SPEC §3)."""

from __future__ import annotations

from django.db.models import Avg, Count, Q

from .models import SEAT_STATES, Attendance, Enrolment, Result, SurveyResponse


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
