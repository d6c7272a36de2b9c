"""Certificate pages: the public verification (no login, rate-limited), the teacher's list and PDFs."""

import re

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django_ratelimit.decorators import ratelimit

from bureau.choices import Role
from bureau.export_views import offer_export
from bureau.params import path_text, year_param
from bureau.permissions import role_required
from bureau.scoping import own_teacher, visible_teachers

from . import rules
from .certificates import render_pdf
from .credentials import CredentialKeyMissing, credential_token
from .models import Certificate

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


@ratelimit(key="ip", rate="30/m", block=True)
def verify(request, code: str):
    """/verify/<code>/: anyone may check a certificate; personal data stays masked."""
    certificate = (
        Certificate.objects.select_related("teacher", "project").filter(code=path_text(code).strip().upper()).first()
    )
    if certificate is None:
        raise Http404("证书编号不存在")
    expired = certificate.expires_on is not None and certificate.expires_on < timezone.localdate()
    return render(request, "training/verify.html", {
        "certificate": certificate, "masked_name": rules.masked_name(certificate.teacher.name), "expired": expired,
    })


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
    url = request.build_absolute_uri(reverse("verify", args=[certificate.code]))
    try:
        credential = credential_token(certificate, base_url=request.build_absolute_uri("/"))
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
