"""EX-7 as an API endpoint: the promotion prerequisite check for a visible teacher."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from bureau.apidocs import error_responses
from bureau.choices import Title
from bureau.params import YEAR_MAX, YEAR_MIN
from bureau.scoping import visible_teachers

from .selectors import promotion_check

TITLE_MESSAGE = f"职称应为：{'、'.join(Title.values)}"


class PromotionQuerySerializer(serializers.Serializer):
    staff_no = serializers.CharField(max_length=32, help_text="工号")
    title = serializers.ChoiceField(
        choices=Title.choices, help_text="申报职称", error_messages={"invalid_choice": TITLE_MESSAGE, "required": TITLE_MESSAGE}
    )
    on = serializers.DateField(
        required=False, help_text=f"检查日期，默认今天（{YEAR_MIN}–{YEAR_MAX} 年）",
        error_messages={"invalid": "日期格式应为 YYYY-MM-DD"},
    )

    def validate_on(self, value):
        if not YEAR_MIN <= value.year <= YEAR_MAX:
            raise serializers.ValidationError(f"日期的年份应在 {YEAR_MIN}–{YEAR_MAX} 之间")
        return value


@extend_schema(
    parameters=[PromotionQuerySerializer],
    responses={
        200: inline_serializer("PromotionCheck", {
            "staff_no": serializers.CharField(), "title": serializers.CharField(), "on": serializers.DateField(),
            "eligible": serializers.BooleanField(), "missing": serializers.ListField(child=serializers.CharField()),
        }),
        **error_responses(400, 403, 404),
    },
)
@api_view(["GET"])
def promotion_check_view(request):
    """EX-7: does the teacher's posting history meet the rural / weak-school requirement for the title?"""
    query = PromotionQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    title, on = query.validated_data["title"], query.validated_data.get("on") or timezone.localdate()
    teacher = get_object_or_404(visible_teachers(request.user).select_related("school"), staff_no=query.validated_data["staff_no"])
    missing = promotion_check(teacher=teacher, target_title=title, on=on)
    return Response({"staff_no": teacher.staff_no, "title": title, "on": on, "eligible": not missing, "missing": missing})
