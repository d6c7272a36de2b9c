"""The province report job (SPEC §7 上报省厅): status, progress and the built workbook, like
credits.models.ComplianceReport (heartbeat included, REL-1)."""

from django.conf import settings
from django.db import models

from credits.models import ReportStatus


def report_upload_to(instance, filename):
    return f"reports/province/{instance.year}/{filename}"


class ProvinceReport(models.Model):
    """One build of the province report for a year. `with_id_numbers`: the workbook holds the full 身份证号
    (SEC-3), so only users who may see them may download it."""

    year = models.PositiveIntegerField("年度", db_index=True)
    status = models.CharField("状态", max_length=8, choices=ReportStatus.choices, default=ReportStatus.RUNNING)
    progress = models.PositiveSmallIntegerField("进度", default=0)
    with_id_numbers = models.BooleanField("含完整身份证号", default=False)
    workbook = models.FileField("工作簿", upload_to=report_upload_to, blank=True)
    teachers = models.PositiveIntegerField("教师人数", default=0)
    error = models.CharField("错误", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    # Moved on at every step of a running build; the sweeper queues a build whose heartbeat stopped again.
    heartbeat_at = models.DateTimeField("最近进展时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "上报省厅报表"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.year} 上报省厅报表 {self.get_status_display()}"
