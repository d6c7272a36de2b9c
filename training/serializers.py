from rest_framework import serializers

from .models import Enrolment, Project, Result


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = [
            "id", "code", "name", "level", "mode", "kind", "theme", "hours", "credits", "start_on", "end_on",
            "organiser", "capacity", "enrol_opens_on", "enrol_closes_on", "status",
        ]


class EnrolmentSerializer(serializers.ModelSerializer):
    project_code = serializers.CharField(source="project.code", read_only=True)
    staff_no = serializers.CharField(source="teacher.staff_no", read_only=True)

    class Meta:
        model = Enrolment
        fields = ["id", "project", "project_code", "teacher", "staff_no", "state", "nominated", "imported", "created_at"]
        read_only_fields = fields


class EnrolmentCreateSerializer(serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    teacher = serializers.IntegerField(required=False, help_text="校长选派时填写教师 id；教师本人报名时省略")


class ResultSerializer(serializers.ModelSerializer):
    project_code = serializers.CharField(source="enrolment.project.code", read_only=True)
    staff_no = serializers.CharField(source="enrolment.teacher.staff_no", read_only=True)

    class Meta:
        model = Result
        fields = ["id", "enrolment", "project_code", "staff_no", "grade", "completed_on", "certified_hours", "updated_at"]
        read_only_fields = fields
