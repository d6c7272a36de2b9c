"""Background export of the training part (issue 18 item 3): the certificate register (SPEC §7)."""

from __future__ import annotations

from bureau.choices import Role
from bureau.exports import register

from .certificates import write_register
from .models import Certificate


def build_register(job, target, progress) -> int:
    year = job.params.get("year")
    rows = Certificate.objects.filter(project__isnull=False)
    if year is not None:
        rows = rows.filter(completed_on__year=int(year))
    total = rows.count()
    return write_register(target, year=int(year) if year is not None else None,
                          progress=lambda written: progress(min(0.99, written / total)) if total else None,
                          by=job.created_by)


def register_all() -> None:
    register("certificates", label="证书登记簿", roles=(Role.BUREAU, Role.AUDITOR), build=build_register)
