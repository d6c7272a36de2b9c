"""The province report became a kind of bureau.ExportJob (issue 18 item 3): its own job row goes.

Existing rows are moved, not lost: each becomes an ExportJob of kind "province" for the same user, with the
same file (its storage name is kept, so nothing is copied), year, 身份证号 flag, figures and times; the
ExportJob purge then removes it and its file KEEP_FOR after it finished, as every export. A build still
running when this runs is moved as failed (its task no longer exists; the user starts it again). A row
without a starter (none is made so) cannot be an ExportJob: its file is deleted through the storage, so no
workbook with full 身份证号 is left behind unreferenced (SEC-3). The sweeper's periodic task is removed
(bureau's export sweeper covers the jobs now).
"""

from django.db import migrations
from django.utils import timezone

SWEEP = "重新排队中断的上报省厅报表生成"
INTERRUPTED = "生成中断（上报省厅报表已改为导出文件），请重新发起。"


def move_reports(apps, schema_editor):
    ProvinceReport = apps.get_model("province", "ProvinceReport")
    ExportJob = apps.get_model("bureau", "ExportJob")
    Profile = apps.get_model("bureau", "Profile")
    now = timezone.now()
    for report in ProvinceReport.objects.select_related("created_by").order_by("pk").iterator():
        user = report.created_by
        if user is None:
            if report.workbook:
                report.workbook.delete(save=False)
            continue
        profile = Profile.objects.filter(user_id=user.pk).first()
        role = "bureau" if user.is_superuser else (profile.role if profile else None)
        full = report.with_id_numbers
        status, error, finished = report.status, report.error, report.finished_at
        if status == "running":
            status, error, finished = "failed", INTERRUPTED, now
        elif status == "failed":
            error = f"生成失败（{error or '未知错误'}），请重新发起。"
        job = ExportJob.objects.create(
            kind="province", title=f"{report.year} 年度上报省厅报表{'（含完整身份证号）' if full else ''}",
            params={"year": report.year, "with_id_numbers": full},
            scope={"role": role, "district_id": None, "school_id": None},
            status=status, progress=report.progress,
            file=report.workbook.name if status == "done" and report.workbook else "",
            filename=f"province-{report.year}{'-full' if full else ''}.xlsx", rows=report.teachers,
            error=error[:500], created_by_id=user.pk, finished_at=finished, heartbeat_at=report.heartbeat_at,
            attempts=1)
        ExportJob.objects.filter(pk=job.pk).update(created_at=report.created_at)  # auto_now_add set it to now


def unschedule_sweep(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SWEEP).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("province", "0001_province"),
        ("bureau", "0008_exportjob"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        # Backwards the table comes back empty and the moved jobs stay ExportJobs; the old sweeper is not
        # scheduled again (its task went with this change).
        migrations.RunPython(move_reports, migrations.RunPython.noop),
        migrations.RunPython(unschedule_sweep, migrations.RunPython.noop),
        migrations.DeleteModel(name="ProvinceReport"),
    ]
