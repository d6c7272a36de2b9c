"""The admin upload page for the §7 imports: preview every row error before anything is written.

The same importer and run_import as the commands (one code path). The uploaded file is kept through
Django's storage API between the preview and the confirmation, so web processes share no disk (SCALE-1).
"""

from __future__ import annotations

import re
import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from .importing import run_import
from .imports import today_local
from .spreadsheets import SpreadsheetError, check_xlsx

_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _stored_name(user, token: str) -> str:
    return f"imports/{user.pk}/{token}.xlsx"


def import_view(model_admin, request, *, importer_class, title: str, permissions: list[str]):
    if not all(request.user.has_perm(p) for p in permissions):
        raise PermissionDenied
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "title": title,
        "headers": [c.header for c in importer_class.columns],
        "optional_headers": [c.header for c in importer_class.columns if not c.required],
    }
    if request.method == "POST":
        importer = importer_class(actor=request.user, today=today_local())
        token = request.POST.get("token", "")
        try:
            if "file" in request.FILES:
                upload = request.FILES["file"]
                check_xlsx(upload)  # size, type and zip bomb are refused before anything reaches storage
                token = uuid.uuid4().hex
                default_storage.save(_stored_name(request.user, token), upload)
                context["filename"] = upload.name
                with default_storage.open(_stored_name(request.user, token), "rb") as fileobj:
                    report = run_import(importer, fileobj, dry_run=True, filename=upload.name)
                context.update(report=report, token=token)
            elif _TOKEN.match(token) and default_storage.exists(_stored_name(request.user, token)):
                skip_invalid = request.POST.get("skip_invalid") == "1"
                filename = request.POST.get("filename", "")
                with default_storage.open(_stored_name(request.user, token), "rb") as fileobj:
                    report = run_import(importer, fileobj, skip_invalid=skip_invalid, filename=filename)
                if report.written:
                    default_storage.delete(_stored_name(request.user, token))
                    messages.success(request, f"导入完成。{report.summary()}")
                    return redirect(f"admin:{opts.app_label}_{opts.model_name}_changelist")
                context.update(report=report, token=token, filename=filename)
            else:
                context["file_error"] = "请选择要导入的 xlsx 文件。"
        except SpreadsheetError as exc:
            context["file_error"] = str(exc)
            if token and _TOKEN.match(token):
                default_storage.delete(_stored_name(request.user, token))
    return TemplateResponse(request, "admin/bureau/import.html", context)
