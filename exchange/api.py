"""EX-7 as an API endpoint: the promotion prerequisite check for a visible teacher."""

import datetime as dt

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from bureau.choices import Title
from bureau.scoping import visible_teachers

from .selectors import promotion_check


@extend_schema(
    parameters=[
        OpenApiParameter("staff_no", str, required=True, description="工号"),
        OpenApiParameter("title", str, required=True, description="申报职称", enum=Title.values),
        OpenApiParameter("on", dt.date, description="检查日期，默认今天"),
    ],
    responses=inline_serializer("PromotionCheck", {
        "staff_no": serializers.CharField(), "title": serializers.CharField(), "on": serializers.DateField(),
        "eligible": serializers.BooleanField(), "missing": serializers.ListField(child=serializers.CharField()),
    }),
)
@api_view(["GET"])
def promotion_check_view(request):
    """EX-7: does the teacher's posting history meet the rural / weak-school requirement for the title?"""
    title = request.query_params.get("title", "")
    if title not in Title.values:
        raise ValidationError({"title": f"职称应为：{'、'.join(Title.values)}"})
    try:
        on = dt.date.fromisoformat(request.query_params["on"]) if request.query_params.get("on") else timezone.localdate()
    except ValueError:
        raise ValidationError({"on": "日期格式应为 YYYY-MM-DD"}) from None
    teacher = get_object_or_404(visible_teachers(request.user).select_related("school"),
                                staff_no=request.query_params.get("staff_no", ""))
    missing = promotion_check(teacher=teacher, target_title=title, on=on)
    return Response({"staff_no": teacher.staff_no, "title": title, "on": on, "eligible": not missing, "missing": missing})
