"""What the API answers besides success, for the OpenAPI schema (drf-spectacular): every endpoint lists
the error answers it really gives, so a client (and the schemathesis run in the tests) can rely on them."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import routers, serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="原因（中文）")


_ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="参数有误：各字段（或 detail）对应的中文原因"),
    403: OpenApiResponse(ErrorSerializer, description="未登录，或当前角色无权执行"),
    404: OpenApiResponse(ErrorSerializer, description="不存在或不在可见范围内；页码超出范围"),
    415: OpenApiResponse(ErrorSerializer, description="请求体的类型不受支持，或无法按声明的类型解析"),
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The error answers of an endpoint, to merge into `extend_schema(responses=…)`."""
    return {code: _ERRORS[code] for code in codes}


def empty_query_values_allowed(result, generator, request, public):
    """drf-spectacular postprocessing hook. An optional query parameter sent empty (`?mode=&page=`, what an
    HTML form sends for a field left blank) means the same as not sent, in DRF and django-filter alike;
    the schema says so (`allowEmptyValue`), so clients and the schemathesis run know an empty value is fine."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result


SCHEMA_SETTINGS = {
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "bureau.apidocs.empty_query_values_allowed",
                             "bureau.apidocs.chinese_tags"],
}


# --- Chinese names: the API root, the browsable API's page titles, the docs' sections -----------------

# The docs' sections: drf-spectacular tags an operation by its path's first segment; each is renamed to the
# Chinese section named (and described) in SPECTACULAR_SETTINGS["TAGS"] (config/settings/base.py).
TAG_NAMES = {"projects": "培训项目", "enrolments": "培训报名", "results": "考核结果", "ledger": "学分登记",
             "teachers": "教师学分概况", "exchange": "交流轮岗", "schema": "接口说明",
             "providers": "机构数据推送"}

# The browsable API's page titles (REST_FRAMEWORK VIEW_NAME_FUNCTION), by view class or function name.
VIEW_NAMES = {
    "APIRoot": "教师发展平台 API", "Project": "培训项目", "Enrolment": "培训报名", "Result": "考核结果",
    "LedgerEntry": "学分登记", "teacher_summary": "教师学分概况", "promotion_check_view": "晋升前置条件自查",
}
VIEW_SUFFIXES = {"List": "列表", "Instance": "详情"}


def view_name(view) -> str:
    """A Chinese title for an API view in the browsable API (DRF's own get_view_name otherwise)."""
    from rest_framework.views import get_view_name

    name = getattr(view, "name", None)
    if name is not None:
        return name
    key = view.__class__.__name__.removesuffix("ViewSet").removesuffix("View")
    chinese = VIEW_NAMES.get(key) or VIEW_NAMES.get(view.__class__.__name__)
    if chinese is None:
        return get_view_name(view)
    suffix = getattr(view, "suffix", None)
    return chinese + VIEW_SUFFIXES.get(suffix, suffix or "")


def chinese_tags(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation's section under its Chinese name."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict) and operation.get("tags"):
                operation["tags"] = [TAG_NAMES.get(tag, tag) for tag in operation["tags"]]
    return result


class ApiRoot(routers.APIRootView):
    """教师发展平台的接口：培训项目、报名、考核结果与学分登记。登录后按您的角色和可见范围返回数据。"""

    def get_view_name(self):
        return VIEW_NAMES["APIRoot"]
