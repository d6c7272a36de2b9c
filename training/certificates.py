"""培训证书: issue, revoke and re-issue so that a certificate never shows stale hours; the PDF; the register."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from bureau.spreadsheets import About, SheetSpec, write_workbook
from credits import rules as credit_rules
from credits.selectors import policy_for

from . import rules
from .models import Certificate, CertificateStatus, Result

# No look-alikes (0/O, 1/I/L): a code read aloud or typed from paper still matches.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


_CODES = len(ALPHABET) ** CODE_LENGTH


def new_code() -> str:
    """Random, not derived from anything: one code says nothing about another. One uniform draw below
    31^12 written in the alphabet's 12 digits (as 12 draws of a character, at one draw's cost)."""
    number, digits = secrets.randbelow(_CODES), []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "".join(digits)


def _issue(**fields) -> Certificate:
    for _ in range(5):
        try:
            with transaction.atomic():
                return Certificate.objects.create(code=new_code(), **fields)
        except IntegrityError:
            continue  # a code collision (about 1 in 10^17) — draw again
    raise RuntimeError("could not draw a unique certificate code")


@transaction.atomic
def certificate_sync(*, result_id: int, actor=None) -> Certificate | None:
    """Bring the result's certificate in line with the result: issue, keep, or revoke and re-issue.
    Running it again changes nothing (the result row is locked; one valid certificate per result)."""
    result = Result.objects.select_for_update().select_related("enrolment__project", "enrolment__teacher").get(pk=result_id)
    project, teacher = result.enrolment.project, result.enrolment.teacher
    current = Certificate.objects.filter(result=result, status=CertificateStatus.VALID).first()
    keep, revoke_reason, wanted = certificate_plan(result, project, current)
    if keep:
        return current
    if revoke_reason:
        Certificate.objects.filter(pk=current.pk).update(status=CertificateStatus.REVOKED, revoked_at=timezone.now(),
                                                         revoke_reason=revoke_reason)
    if wanted is None:
        return None
    return _issue(teacher=teacher, result=result, project=project, title=project.name, hours=wanted.hours,
                  credits=wanted.credits, completed_on=wanted.entry_date)


def certificate_plan(result: Result, project, current: Certificate | None, *, policy_of=policy_for):
    """(keep the current certificate?, the reason to revoke it or "", what to issue or None): the one
    decision certificate_sync and the bulk path (training.services.results_record_many) both take."""
    wanted = None
    if rules.issues_certificates(level=project.level, setting=project.issues_certificates) and result.completed_on:
        policy = policy_of(result.completed_on.year)
        wanted = credit_rules.result_posting(
            grade=result.grade, completed_on=result.completed_on, project_hours=project.hours,
            project_credits=credit_rules.project_credits(hours=project.hours, credits=project.credits,
                                                         credits_per_hour=policy.credits_per_hour),
            certified_hours=result.certified_hours,
        )
    if current is not None and wanted is not None and (current.hours, current.credits, current.completed_on) == (
        wanted.hours, wanted.credits, wanted.entry_date
    ):
        return True, "", None
    reason = ""
    if current is not None:
        reason = "考核结果变更为不合格" if wanted is None else "认定学时或完成日期变更，已换发新证书"
    return False, reason, wanted


def certificate_for_title(*, teacher, title: str, completed_on, expires_on) -> Certificate:
    """A certificate of a title (a backbone award), with its expiry; the title keeps the link to it."""
    return _issue(teacher=teacher, title=title, completed_on=completed_on, expires_on=expires_on)


def certificate_end_early(*, certificate_id: int, ends_on) -> int:
    """A title certificate superseded before its expiry (a re-award, BB-5) ends on that day: its expiry is
    brought forward, so verification shows the date it stopped counting; 0 when nothing was later."""
    return Certificate.objects.filter(pk=certificate_id, expires_on__gt=ends_on).update(expires_on=ends_on)


def certificate_revoke(*, certificate_id: int, reason: str) -> int:
    """Revoke a valid certificate (it stays on the register as 已撤销); 0 when it was not valid."""
    return Certificate.objects.filter(pk=certificate_id, status=CertificateStatus.VALID).update(
        status=CertificateStatus.REVOKED, revoked_at=timezone.now(), revoke_reason=reason)


REGISTER_HEADERS = ["证书编号", "项目编号", "工号", "姓名", "学时", "完成日期", "状态"]


def write_register(target, *, year: int | None = None, progress=None, by=None) -> int:
    """The certificate register for auditors: one row per certificate ever issued (SPEC §7)."""
    rows = Certificate.objects.filter(project__isnull=False).order_by("issued_at", "id")
    if year is not None:
        rows = rows.filter(completed_on__year=year)
    values = rows.values_list("code", "project__code", "teacher__staff_no", "teacher__name", "hours", "completed_on", "status")
    count = 0

    def out():
        nonlocal count
        for code, project, staff_no, name, hours, completed, status in values.iterator(5000):
            count += 1
            yield [code, project or "", staff_no, name, None if hours is None else float(hours), completed,
                   "有效" if status == CertificateStatus.VALID else "已撤销"]

    write_workbook(target, [SheetSpec("证书", REGISTER_HEADERS, out(), date_columns=(5,), widths={0: 16})],
                   progress=progress, about=About("证书登记簿", year=year, scope="全市", by=by,
                                                  notes=("每张签发过的证书一行，含已撤销的。",)))
    return count


def render_pdf(certificate: Certificate, *, verify_url: str, credential: str = "") -> bytes:
    """A one-page certificate PDF with reportlab: its built-in Chinese CID font and its own QR drawing.
    `credential` (the signed Open Badges JWS, training.credentials) goes into the document information
    dictionary under /OpenBadgeCredential, so the file carries its own proof."""
    import io

    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.pdfdoc import PDFDictionary, PDFInfo, PDFString
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    pdf.setTitle(f"证书 {certificate.code}")
    if credential:
        class CredentialInfo(PDFInfo):  # PDFInfo.format knows only the standard keys: splice one more in
            def format(self, document):
                text = super().format(document).rstrip()
                extra = PDFDictionary({"OpenBadgeCredential": PDFString(credential)}).format(document).strip()
                return text[:-2] + extra[2:]  # both are b"<< ... >>"

        pdf._doc.info.__class__ = CredentialInfo
    pdf.setStrokeColorRGB(0.12, 0.31, 0.47)
    pdf.setLineWidth(4)
    pdf.rect(30, 30, width - 60, height - 60)
    pdf.setFont("STSong-Light", 34)
    pdf.drawCentredString(width / 2, height - 110, "培训证书" if certificate.project_id else "骨干教师证书")
    teacher = certificate.teacher
    lines = [f"{teacher.name} 同志：", ""]
    if certificate.project_id:
        project = certificate.project
        lines += [
            f"于 {project.start_on:%Y年%m月%d日} 至 {project.end_on:%Y年%m月%d日} 参加{project.level}项目",
            f"“{project.name}”，经考核合格，完成 {certificate.hours.normalize():f} 学时，",
            f"计 {certificate.credits.normalize():f} 学分。承办单位：{project.organiser}。",
        ]
    else:
        lines += [f"经评审认定为{certificate.title}，认定日期 {certificate.completed_on:%Y年%m月%d日}，",
                  f"有效期至 {certificate.expires_on:%Y年%m月%d日}。"]
    pdf.setFont("STSong-Light", 18)
    y = height - 180
    for text in lines:
        pdf.drawString(90, y, text)
        y -= 34
    pdf.setFont("STSong-Light", 12)
    pdf.drawString(90, 80, f"证书编号：{certificate.code}    完成日期：{certificate.completed_on:%Y-%m-%d}")
    pdf.drawString(90, 62, f"验证地址：{verify_url}")
    widget = QrCodeWidget(verify_url)
    x0, y0, x1, y1 = widget.getBounds()
    size = 110
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, pdf, width - 170, 60)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()

