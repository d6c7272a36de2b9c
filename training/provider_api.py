"""The provider API (issue 19 item 1): training providers push completion records with their API key or
an OAuth2 access token.

POST /api/providers/records/         our JSON form: {"records": [...]} (at most 10,000)
POST /api/providers/xapi/statements/ xAPI statements (one, or a list), mapped to the same records
POST /o/token/                       OAuth2 token endpoint (client credentials grant; ProviderTokenView)
Authentication on the two record endpoints: `Authorization: Api-Key <key>` (ApiKeyAuthentication) or
`Authorization: Bearer <access token>` (ProviderTokenAuthentication), and nothing else. Either way
request.auth is the Provider, so the project scoping, the rate limit and the audit are the same.
Keys, secrets and tokens are never logged.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import AnonymousUser
from django.dispatch import receiver
from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django_ratelimit.core import is_ratelimited
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.signals import app_authorized
from oauth2_provider.views import TokenView
from rest_framework import authentication, exceptions, permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from bureau.apidocs import ErrorSerializer
from bureau.services import audit

from .providers import (
    GRADES,
    MAX_RECORDS,
    provider_for_application,
    provider_for_key,
    provider_records_post,
    statement_record,
)

logger = logging.getLogger(__name__)

RATE = "120/m"  # calls per provider per minute (each call up to 10,000 records)
TOKEN_RATE = "30/m"  # token requests per client address per minute
SCOPE = "records"  # the one OAuth2 scope (settings.OAUTH2_PROVIDER["SCOPES"])

# The body a call may send, checked on Content-Length before anything reads it (DRF parses the stream, so
# Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not apply): 10,000 xAPI statements fit with room to spare.
MAX_BODY_BYTES = 32 * 1024 * 1024


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "请求体过大，请分批推送。"
    default_code = "request_too_large"


def check_body_size(request) -> None:
    """413 when the declared body is over MAX_BODY_BYTES (a body without a length is read as empty)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise BodyTooLarge(f"请求体过大：每次最多 {MAX_BODY_BYTES // (1024 * 1024)} MB，请分批推送。")


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`: request.auth is the Provider (request.user stays anonymous)."""

    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1", "replace").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("API 密钥格式不正确。")
        provider = provider_for_key(header[1])
        if provider is None:
            logger.info("provider API: unknown key refused")
            raise exceptions.AuthenticationFailed("API 密钥无效。")
        return AnonymousUser(), provider

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "training.provider_api.ApiKeyAuthentication"
    name = "providerApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "培训机构的 API 密钥：`Authorization: Api-Key <密钥>`"}


class ProviderTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <access token>`, a token from /o/token/ (client credentials): request.auth is
    the Provider the token's OAuth2 client is linked to. An unknown, expired or revoked token, a token
    without the `records` scope, or one of a client linked to no provider is refused (401)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1", "replace").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("访问令牌格式不正确。")
        valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[SCOPE])
        token = getattr(oauth_request, "access_token", None) if valid else None
        provider = provider_for_application(token.application_id) if token is not None else None
        if provider is None:
            logger.info("provider API: invalid, expired or revoked access token refused")
            raise exceptions.AuthenticationFailed("访问令牌无效、已过期或已吊销。")
        return AnonymousUser(), provider

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class ProviderTokenScheme(OpenApiAuthenticationExtension):
    target_class = "training.provider_api.ProviderTokenAuthentication"
    name = "providerOAuth2"

    def get_security_definition(self, auto_schema):
        return {"type": "oauth2", "description": (
            "培训机构的 OAuth2 客户端凭据：以 client_id 和 client_secret 向 /o/token/ 申请访问令牌"
            "（grant_type=client_credentials），再以 `Authorization: Bearer <令牌>` 调用。"),
            "flows": {"clientCredentials": {"tokenUrl": "/o/token/", "scopes": {SCOPE: "推送考核结果"}}}}

    def get_security_requirement(self, auto_schema):
        return {self.name: [SCOPE]}


@method_decorator(never_cache, name="dispatch")
class ProviderTokenView(TokenView):
    """django-oauth-toolkit's token endpoint, rate-limited per client address (a guessed secret costs a
    request). Only a provider's client exists with the client credentials grant, and that is the only grant
    its client accepts."""

    def post(self, request, *args, **kwargs):
        if is_ratelimited(request, group="provider-token", key="ip", rate=TOKEN_RATE, increment=True):
            return JsonResponse({"error": "slow_down", "error_description": "请求过于频繁，请稍后再试。"}, status=429,
                                json_dumps_params={"ensure_ascii": False})
        return super().post(request, *args, **kwargs)


@receiver(app_authorized, dispatch_uid="training.provider_token_issued")
def _token_issued(sender, request, token, **kwargs):
    """Audit each access token given to a provider's client (which client and when; never the token)."""
    provider = provider_for_application(token.application_id)
    if provider is not None:
        audit(action="training.provider.token_issued", actor=None, obj=provider, client_id=token.application.client_id)


class ActiveProvider(permissions.BasePermission):
    message = "该培训机构未启用，不能推送数据。"

    def has_permission(self, request, view):
        provider = getattr(request, "auth", None)
        if provider is None:
            raise exceptions.NotAuthenticated(
                "请在 Authorization 头中提供 API 密钥（Api-Key <密钥>）或访问令牌（Bearer <令牌>）。")
        return bool(provider.active)


class RecordSerializer(serializers.Serializer):
    """One completion record (for the schema; each record is checked on its own, so one bad record is refused
    alone and the others post)."""

    record_id = serializers.CharField(max_length=200, help_text="机构自己的记录编号（同一机构内唯一，重复推送以此去重；数字也可）")
    project_code = serializers.CharField(required=False, help_text="项目编号（或用 course_id）")
    course_id = serializers.CharField(required=False, help_text="机构课程编号（已在市教育局登记对应项目）")
    staff_no = serializers.CharField(help_text="教师工号（必填；数字也可）")
    id_number = serializers.CharField(required=False, write_only=True,
                                      help_text="教师身份证号（可选，只用于核对工号，须为同一位教师；不回显、不记录）")
    grade = serializers.ChoiceField(choices=GRADES, help_text="考核结果")
    completed_on = serializers.DateField(required=False, allow_null=True, help_text="完成日期（优秀、合格必填）")
    certified_hours = serializers.DecimalField(max_digits=7, decimal_places=2, required=False, allow_null=True,
                                               help_text="认定学时（可选，不超过项目学时）")


class BatchSerializer(serializers.Serializer):
    records = RecordSerializer(many=True, help_text=f"最多 {MAX_RECORDS} 条")


class OutcomeSerializer(serializers.Serializer):
    record_id = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged", "held", "refused"])
    reason = serializers.CharField(help_text="held / refused 时的中文原因")


class BatchResultSerializer(serializers.Serializer):
    counts = serializers.DictField(child=serializers.IntegerField())
    outcomes = OutcomeSerializer(many=True)


class StatementSerializer(serializers.Serializer):
    """An xAPI statement: actor.account.name = 工号; verb.id ending in /completed; object.id = 项目编号 or
    机构课程编号 (the provider's course mapping first: the whole IRI, then its last path segment; our project
    code only without a mapping); result.success (or a result extension whose IRI ends in /grade with
    优秀/合格/不合格/未完成); 认定学时 only from a result extension whose IRI ends in /certified-hours
    (result.duration, the time spent, is not read); timestamp → 完成日期."""

    id = serializers.CharField(help_text="语句编号（作为机构记录编号）")
    actor = serializers.DictField()
    verb = serializers.DictField()
    object = serializers.DictField()
    result = serializers.DictField(required=False)
    timestamp = serializers.DateTimeField()


_ANSWERS = {
    200: BatchResultSerializer,
    400: OpenApiResponse(ErrorSerializer, description="请求体不是规定的格式，或超过 10000 条"),
    401: OpenApiResponse(ErrorSerializer, description="未提供 API 密钥或访问令牌，或密钥、令牌无效（令牌过期、吊销亦同）"),
    403: OpenApiResponse(ErrorSerializer, description="培训机构未启用"),
    413: OpenApiResponse(ErrorSerializer, description="请求体超过 32 MB"),
    415: OpenApiResponse(ErrorSerializer, description="请求体的类型不受支持，或无法按声明的类型解析"),
    429: OpenApiResponse(ErrorSerializer, description="请求过于频繁"),
}


class _ProviderView(APIView):
    authentication_classes = [ApiKeyAuthentication, ProviderTokenAuthentication]
    permission_classes = [ActiveProvider]

    def check_permissions(self, request):
        super().check_permissions(request)
        if is_ratelimited(request, group="provider-api", key=lambda group, req: f"provider:{req.auth.pk}",
                          rate=RATE, increment=True):
            raise exceptions.Throttled(detail="请求过于频繁，请稍后再试。")

    def answer(self, records: list) -> Response:
        if len(records) > MAX_RECORDS:
            raise exceptions.ValidationError({"detail": f"每批最多 {MAX_RECORDS} 条记录。"})
        outcomes = provider_records_post(provider=self.request.auth, records=records)
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
        logger.info("provider %s posted %d records: %s", self.request.auth.pk, len(records), counts)
        return Response({"counts": counts, "outcomes": [
            {"record_id": o.record_id, "outcome": o.outcome, "reason": o.reason} for o in outcomes]})


class ProviderRecordsView(_ProviderView):
    name = "培训机构推送考核结果"

    @extend_schema(request=BatchSerializer, responses=_ANSWERS, tags=["providers"],
                   description="培训机构推送考核结果，每批最多 10000 条；按（机构, record_id）去重，逐条返回处理结果。")
    def post(self, request):
        check_body_size(request)
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get("records"), list):
            raise exceptions.ValidationError({"detail": "请求体须为 {\"records\": [...]}。"})
        return self.answer(data["records"])


class XapiStatementsView(_ProviderView):
    name = "培训机构推送 xAPI 语句"

    @extend_schema(request=StatementSerializer(many=True), responses=_ANSWERS, tags=["providers"],
                   description="xAPI 语句形式（verb 为 completed），与 JSON 形式处理规则相同。")
    def post(self, request):
        check_body_size(request)
        data = request.data
        statements = [data] if isinstance(data, dict) else data
        if not isinstance(statements, list):
            raise exceptions.ValidationError({"detail": "请求体须为一条 xAPI 语句或语句数组。"})
        return self.answer([statement_record(s) for s in statements])
