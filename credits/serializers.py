from rest_framework import serializers

from bureau.choices import Mode, Theme
from bureau.params import year_serializer_field

from .models import LedgerEntry


class LedgerEntrySerializer(serializers.ModelSerializer):
    staff_no = serializers.CharField(source="teacher.staff_no", read_only=True)
    # Rows that come from no project (adjustments, school-based hours) have "" here: the schema says so.
    mode = serializers.ChoiceField(choices=Mode.choices, allow_blank=True, read_only=True)
    theme = serializers.ChoiceField(choices=Theme.choices, allow_blank=True, read_only=True)
    project_code = serializers.CharField(allow_blank=True, read_only=True, help_text="项目编号；非项目来源为空串")

    class Meta:
        model = LedgerEntry
        fields = [
            "id", "teacher", "staff_no", "entry_date", "hours", "credits", "source", "mode", "theme",
            "project_code", "reverses", "description", "entered_by", "approved_by", "created_at",
        ]
        read_only_fields = fields


class SummaryQuerySerializer(serializers.Serializer):
    year = year_serializer_field(required=False, help_text="年度，默认本年")


class TeacherSummarySerializer(serializers.Serializer):
    staff_no = serializers.CharField()
    name = serializers.CharField()
    year = serializers.IntegerField()
    annual_credits = serializers.DecimalField(max_digits=8, decimal_places=2,
                                              help_text="年度学分（已扣除超出年度上限的部分）")
    recorded_credits = serializers.DecimalField(max_digits=8, decimal_places=2, help_text="学分登记中该年度的学分合计")
    uncounted_credits = serializers.DecimalField(max_digits=8, decimal_places=2,
                                                 help_text="超出上限未计：超出自主研修、网络研修年度上限而未计入的学分")
    required_credits = serializers.DecimalField(max_digits=8, decimal_places=2)
    compliant = serializers.BooleanField()
    annual_hours = serializers.DecimalField(max_digits=8, decimal_places=2)
    ethics_hours = serializers.DecimalField(max_digits=8, decimal_places=2)
    school_based_hours = serializers.DecimalField(max_digits=8, decimal_places=2)
    cycle_start = serializers.IntegerField()
    cycle_hours = serializers.DecimalField(max_digits=8, decimal_places=2)
    required_cycle_hours = serializers.DecimalField(max_digits=8, decimal_places=2)
    # CR-4 for the year, CR-5/CR-6 (amended): the sub-verdicts (null: blank, as in the workbook)
    subject = serializers.BooleanField(help_text="是否应考核（免考核为 false）")
    ethics_met = serializers.BooleanField(allow_null=True, help_text="师德达标；免考核为 null")
    school_based_met = serializers.BooleanField(allow_null=True, help_text="校本达标；免考核为 null")
    cycle_required_hours = serializers.IntegerField(help_text="周期应完成学时（截至该年度，按应考核年数折算）")
    cycle_met = serializers.BooleanField(allow_null=True, help_text="周期达标；仅周期最后一年有值，其他年度与免考核为 null")
