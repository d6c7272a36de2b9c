"""REST API of the credits part: the ledger (read-only) and a teacher's summary, role-scoped."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response

from bureau.scoping import visible_teachers

from .models import LedgerEntry
from .selectors import teacher_year
from .serializers import LedgerEntrySerializer, TeacherSummarySerializer


class LedgerFilter(filters.FilterSet):
    year = filters.NumberFilter(field_name="entry_date", lookup_expr="year")
    staff_no = filters.CharFilter(field_name="teacher__staff_no")

    class Meta:
        model = LedgerEntry
        fields = ["source", "theme", "mode", "year", "staff_no"]


class LedgerEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """Ledger rows: append-only, so the API only reads."""

    serializer_class = LedgerEntrySerializer
    filterset_class = LedgerFilter

    def get_queryset(self):
        return (
            LedgerEntry.objects.filter(teacher__in=visible_teachers(self.request.user))
            .select_related("teacher")
            .order_by("-entry_date", "-id")
        )


@extend_schema(
    parameters=[OpenApiParameter("year", int, description="年度，默认本年")], responses=TeacherSummarySerializer
)
@api_view(["GET"])
def teacher_summary(request, staff_no: str):
    """One teacher's year: credits against the requirement, cycle hours, ethics and school-based hours."""
    teacher = get_object_or_404(visible_teachers(request.user), staff_no=staff_no)
    try:
        year = int(request.query_params.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    figures = teacher_year(teacher.pk, year)
    data = {
        "staff_no": teacher.staff_no,
        "name": teacher.name,
        "year": year,
        "annual_credits": figures.annual_credits,
        "required_credits": figures.policy.annual_credits,
        "compliant": figures.compliant,
        "annual_hours": figures.annual_hours,
        "ethics_hours": figures.ethics_hours,
        "school_based_hours": figures.school_based_hours,
        "cycle_start": figures.cycle_start,
        "cycle_hours": figures.cycle_hours,
        "required_cycle_hours": figures.policy.cycle_hours,
    }
    return Response(TeacherSummarySerializer(data).data)
