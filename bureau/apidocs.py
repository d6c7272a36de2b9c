"""What the API answers besides success, for the OpenAPI schema (drf-spectacular): every endpoint lists
the error answers it really gives, so a client (and the schemathesis run in the tests) can rely on them."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


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
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "bureau.apidocs.empty_query_values_allowed"],
}
