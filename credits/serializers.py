from rest_framework import serializers

from .models import LedgerEntry


class LedgerEntrySerializer(serializers.ModelSerializer):
    staff_no = serializers.CharField(source="teacher.staff_no", read_only=True)

    class Meta:
        model = LedgerEntry
        fields = [
            "id", "teacher", "staff_no", "entry_date", "hours", "credits", "source", "mode", "theme",
            "project_code", "reverses", "description", "entered_by", "approved_by", "created_at",
        ]
        read_only_fields = fields


class TeacherSummarySerializer(serializers.Serializer):
    staff_no = serializers.CharField()
    name = serializers.CharField()
    year = serializers.IntegerField()
    annual_credits = serializers.DecimalField(max_digits=8, decimal_places=2)
    required_credits = serializers.DecimalField(max_digits=8, decimal_places=2)
    compliant = serializers.BooleanField()
    annual_hours = serializers.DecimalField(max_digits=8, decimal_places=2)
    ethics_hours = serializers.DecimalField(max_digits=8, decimal_places=2)
    school_based_hours = serializers.DecimalField(max_digits=8, decimal_places=2)
    cycle_start = serializers.IntegerField()
    cycle_hours = serializers.DecimalField(max_digits=8, decimal_places=2)
    required_cycle_hours = serializers.DecimalField(max_digits=8, decimal_places=2)
