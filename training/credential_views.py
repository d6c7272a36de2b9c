"""Certificates as signed Open Badges 3.0 credentials: the download, the public key set, the revocation
status list and the verify-by-upload page (issue 19 item 2; training.credentials)."""

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django_ratelimit.decorators import ratelimit

from bureau.choices import Role
from bureau.params import path_text
from bureau.permissions import role_required
from bureau.scoping import visible_teachers

from .credentials import (
    MEDIA_TYPE,
    CredentialKeyMissing,
    credential_token,
    public_jwks,
    status_list_token,
    verify_token,
)
from .models import Certificate, CertificateStatus

MAX_UPLOAD = 64 * 1024


def _unavailable():
    return HttpResponse("证书凭证服务尚未配置签名密钥，请联系管理员。", status=503, content_type="text/plain; charset=utf-8")


def revoked_response(certificate: Certificate, what: str) -> HttpResponse:
    """410 for anything that would present a revoked certificate as valid (its credential, its PDF)."""
    when = f"（{timezone.localtime(certificate.revoked_at):%Y-%m-%d}）" if certificate.revoked_at else ""
    return HttpResponse(f"证书 {certificate.code} 已撤销{when}，不再提供{what}。", status=410,
                        content_type="text/plain; charset=utf-8")


def credential_response(certificate: Certificate) -> HttpResponse:
    """The signed credential of a certificate as a download: 410 unless the certificate is valid, 503
    without a key. The same bytes whether fetched signed in or from the public verify page."""
    if certificate.status != CertificateStatus.VALID:
        return revoked_response(certificate, "电子凭证")
    try:
        token = credential_token(certificate)
    except CredentialKeyMissing:
        return _unavailable()
    response = HttpResponse(token, content_type=MEDIA_TYPE)
    response["Content-Disposition"] = f"attachment; filename=certificate-{certificate.code}.jwt"
    return response


@role_required(Role.TEACHER, Role.PRINCIPAL, Role.DISTRICT, Role.BUREAU, Role.AUDITOR)
def certificate_credential(request, code: str):
    """/certificates/<code>.jwt: the certificate as a signed credential, for whoever may see its PDF."""
    certificate = get_object_or_404(
        Certificate.objects.select_related("teacher", "project"), code=path_text(code),
        teacher__in=visible_teachers(request.user),
    )
    return credential_response(certificate)


@cache_control(public=True, max_age=300)
def jwks(request):
    """/.well-known/jwks.json: every public key, current and rotated out; anyone may fetch it."""
    try:
        return JsonResponse(public_jwks())
    except CredentialKeyMissing:
        return _unavailable()


@ratelimit(key="ip", rate="60/m", block=True)
@cache_control(public=True, max_age=60)
def status_list(request, list_id: int):
    """/credentials/status/1: the signed revocation list (W3C Bitstring Status List); anyone may fetch it."""
    if list_id != 1:
        raise Http404("状态列表不存在")
    try:
        return HttpResponse(status_list_token(), content_type=MEDIA_TYPE)
    except CredentialKeyMissing:
        return _unavailable()


@ratelimit(key="ip", rate="30/m", block=True)
def verify_upload(request):
    """/credentials/verify/: upload a credential file; it is checked as the offline command does, against
    the published keys and the current status list."""
    context = {}
    if request.method == "POST":
        upload = request.FILES.get("credential")
        if upload is None:
            context["error"] = "请选择凭证文件（.jwt）。"
        elif upload.size > MAX_UPLOAD:
            context["error"] = "文件过大，凭证文件不超过 64 KB。"
        else:
            try:
                token = upload.read().decode("ascii")
                context["result"] = verify_token(token, jwks=public_jwks(), status_token=status_list_token())
            except UnicodeDecodeError:
                context["error"] = "文件不是凭证（应为 .jwt 文本）。"
            except CredentialKeyMissing:
                return _unavailable()
    return render(request, "training/credential_verify.html", context)
