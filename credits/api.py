"""REST API of the credits part: the ledger (read-only) and a teacher's summary, role-scoped."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response

from bureau.apidocs import error_responses
from bureau.params import YEAR_MAX, YEAR_MIN, YearField, path_text
from bureau.scoping import visible_teachers

from .models import LedgerEntry
from .selectors import teacher_year
from .serializers import LedgerEntrySerializer, SummaryQuerySerializer, TeacherSummarySerializer


@extend_schema_field({"type": "integer", "minimum": YEAR_MIN, "maximum": YEAR_MAX})
class YearFilter(filters.NumberFilter):
    """The year of a date, within the product's range (bureau.params): 400 for 0, 2026.5 or abc."""

    field_class = YearField


class LedgerFilter(filters.FilterSet):
    year = YearFilter(field_name="entry_date", lookup_expr="year", label=f"年度（{YEAR_MIN}–{YEAR_MAX}）")
    staff_no = filters.CharFilter(field_name="teacher__staff_no")

    class Meta:
        model = LedgerEntry
        fields = ["source", "theme", "mode", "year", "staff_no"]


@extend_schema_view(
    list=extend_schema(responses={200: LedgerEntrySerializer(many=True), **error_responses(400, 403, 404)}),
    retrieve=extend_schema(responses={200: LedgerEntrySerializer, **error_responses(403, 404)}),
)
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
    parameters=[SummaryQuerySerializer], responses={200: TeacherSummarySerializer, **error_responses(400, 403, 404)}
)
@api_view(["GET"])
def teacher_summary(request, staff_no: str):
    """One teacher's year: credits against the requirement, cycle hours, ethics and school-based hours."""
    query = SummaryQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    teacher = get_object_or_404(visible_teachers(request.user), staff_no=path_text(staff_no))
    year = query.validated_data.get("year") or timezone.localdate().year
    figures = teacher_year(teacher.pk, year)
    data = {
        "staff_no": teacher.staff_no,
        "name": teacher.name,
        "year": year,
        "annual_credits": figures.annual_credits,
        "recorded_credits": figures.credits.recorded,
        "uncounted_credits": figures.uncounted_credits,
        "required_credits": figures.policy.annual_credits,
        "compliant": figures.compliant,
        "annual_hours": figures.annual_hours,
        "ethics_hours": figures.ethics_hours,
        "school_based_hours": figures.school_based_hours,
        "cycle_start": figures.cycle_start,
        "cycle_hours": figures.cycle_hours,
        "required_cycle_hours": figures.policy.cycle_hours,
        "subject": figures.subject,
        "ethics_met": figures.ethics_ok,
        "school_based_met": figures.school_ok,
        "cycle_required_hours": figures.cycle_required,
        "cycle_met": figures.cycle_ok,
    }
    return Response(TeacherSummarySerializer(data).data)
