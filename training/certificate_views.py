"""Certificate pages: the public verification (no login, rate-limited), the teacher's list and PDFs."""

import re

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.vary import vary_on_headers
from django_ratelimit.decorators import ratelimit

from bureau.choices import Role
from bureau.export_views import offer_export
from bureau.params import path_text, year_param
from bureau.permissions import role_required
from bureau.scoping import own_teacher, visible_teachers

from . import rules
from .certificates import render_pdf
from .credential_views import credential_response, revoked_response
from .credentials import MEDIA_TYPE, CredentialKeyMissing, credential_token, verify_url
from .models import Certificate, CertificateStatus

VERIFY_CODE = re.compile(r"[0-9A-Za-z-]{4,40}")


@ratelimit(key="ip", rate="30/m", block=True)
def verify_lookup(request):
    """/verify/: the public certificate check's form (the landing page links here); a code typed in goes
    to /verify/<code>/. Nothing is looked up here, so the page says nothing about which codes exist."""
    code = (request.GET.get("code") or "").strip().replace(" ", "").upper()
    if code and VERIFY_CODE.fullmatch(code):
        return redirect("verify", code=code)
    error = "证书编号只含字母、数字和连字符，请核对后重新输入。" if code else ""
    return render(request, "training/verify_lookup.html", {"error": error})


def _public_certificate(code: str) -> Certificate:
    certificate = (
        Certificate.objects.select_related("teacher", "project").filter(code=path_text(code).strip().upper()).first()
    )
    if certificate is None:
        raise Http404("证书编号不存在")
    return certificate


def _wants_credential(request) -> bool:
    return MEDIA_TYPE in request.headers.get("Accept", "")


@ratelimit(key="ip", rate="30/m", block=True)
@vary_on_headers("Accept")
def verify(request, code: str):
    """/verify/<code>/ (the PDF's QR code): anyone may check a certificate; personal data stays masked.
    Asked for application/vc+jwt, it answers with the signed credential, as credential.jwt below does."""
    certificate = _public_certificate(code)
    if _wants_credential(request):
        return credential_response(certificate)
    expired = certificate.expires_on is not None and certificate.expires_on < timezone.localdate()
    return render(request, "training/verify.html", {
        "certificate": certificate, "masked_name": rules.masked_name(certificate.teacher.name), "expired": expired,
    })


@ratelimit(key="ip", rate="30/m", block=True)
def verify_credential(request, code: str):
    """/verify/<code>/credential.jwt: the signed credential behind the QR code, for anyone (no login): it
    holds nothing of the teacher the verify page does not show (the 工号 only hashed; no name, no 身份证号).
    410 once revoked."""
    return credential_response(_public_certificate(code))


@role_required(Role.TEACHER)
def my_certificates(request):
    certificates = Certificate.objects.filter(teacher=own_teacher(request.user)).select_related("project")
    return render(request, "training/certificates.html", {"certificates": certificates})


@role_required(Role.TEACHER, Role.PRINCIPAL, Role.DISTRICT, Role.BUREAU, Role.AUDITOR)
def certificate_pdf(request, code: str):
    certificate = get_object_or_404(
        Certificate.objects.select_related("teacher", "project"), code=path_text(code),
        teacher__in=visible_teachers(request.user),
    )
    if certificate.status != CertificateStatus.VALID:
        return revoked_response(certificate, "证书 PDF")  # the PDF would read as a valid certificate
    url = verify_url(certificate.code)
    try:
        credential = credential_token(certificate)
    except CredentialKeyMissing:
        credential = ""  # no key configured yet: the PDF still prints, without its embedded credential
    response = HttpResponse(render_pdf(certificate, verify_url=url, credential=credential),
                            content_type="application/pdf")
    response["Content-Disposition"] = f"attachment; filename=certificate-{certificate.code}.pdf"
    return response


@role_required(Role.BUREAU, Role.AUDITOR)
def certificate_register(request):
    """The certificate register (SPEC §7), every certificate or one year's: built in the background."""
    year = year_param(request) if request.GET.get("year") else None
    return offer_export(request, kind="certificates", params={"year": year},
                        title=f"{year} 年度证书登记簿" if year else "证书登记簿",
                        filename=f"certificates-{year}.xlsx" if year else "certificates.xlsx")
