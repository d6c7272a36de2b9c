"""REST API of the training part, scoped exactly like the pages (bureau.scoping)."""

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from bureau.apidocs import error_responses
from bureau.choices import Role
from bureau.scoping import own_teacher, role_of, visible_teachers
from bureau.services import ApplicationError

from .models import Enrolment, Project, Result
from .selectors import visible_projects
from .serializers import EnrolmentCreateSerializer, EnrolmentSerializer, ProjectSerializer, ResultSerializer
from .services import enrolment_apply


def _read_only_schema(serializer):
    """list and retrieve of a read-only viewset with their error answers (bureau.apidocs)."""
    return extend_schema_view(
        list=extend_schema(responses={200: serializer(many=True), **error_responses(400, 403, 404)}),
        retrieve=extend_schema(responses={200: serializer, **error_responses(403, 404)}),
    )


class ProjectFilter(filters.FilterSet):
    class Meta:
        model = Project
        fields = {"status": ["exact"], "level": ["exact"], "theme": ["exact"], "mode": ["exact"], "start_on": ["gte", "lte"]}


@_read_only_schema(ProjectSerializer)
class ProjectViewSet(viewsets.ReadOnlyModelViewSet):
    """Training projects: staff and principals read the whole catalogue; a teacher only the projects open
    to them (training.selectors.visible_projects), never a draft."""

    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter

    def get_queryset(self):
        return visible_projects(self.request.user).order_by("-start_on", "code")


@_read_only_schema(EnrolmentSerializer)
class EnrolmentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = EnrolmentSerializer
    filterset_fields = ["state", "project"]

    def get_queryset(self):
        return (
            Enrolment.objects.filter(teacher__in=visible_teachers(self.request.user))
            .select_related("project", "teacher")
            .order_by("-created_at", "id")
        )

    @extend_schema(request=EnrolmentCreateSerializer, responses={201: EnrolmentSerializer, **error_responses(400, 403, 415)})
    def create(self, request, *args, **kwargs):
        """A teacher applies for self, or a principal nominates a teacher of the school."""
        if role_of(request.user) not in (Role.TEACHER, Role.PRINCIPAL):
            raise PermissionDenied("只有教师本人或本校校长可以报名。")
        data = EnrolmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        teacher = own_teacher(request.user)
        if "teacher" in data.validated_data:
            teacher = visible_teachers(request.user).filter(pk=data.validated_data["teacher"]).first()
        if teacher is None:
            raise PermissionDenied("只能为本人报名，或由本校校长选派。")
        try:
            enrolment = enrolment_apply(
                project=data.validated_data["project"], teacher=teacher, actor=request.user, today=timezone.localdate()
            )
        except ApplicationError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(EnrolmentSerializer(enrolment).data, status=status.HTTP_201_CREATED)


@_read_only_schema(ResultSerializer)
class ResultViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ResultSerializer
    filterset_fields = ["grade", "enrolment__project"]

    def get_queryset(self):
        return (
            Result.objects.filter(enrolment__teacher__in=visible_teachers(self.request.user))
            .select_related("enrolment__project", "enrolment__teacher")
            .order_by("-completed_on", "id")
        )
