"""A running report's heartbeat, and the sweeper that queues again a build whose worker died (REL-1)."""

from django.db import migrations, models

SWEEP = "重新排队中断的报告生成"


def schedule_sweep(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(name=SWEEP, defaults={"task": "credits.tasks.sweep_reports", "interval": every})


def unschedule_sweep(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SWEEP).delete()


class Migration(migrations.Migration):
    dependencies = [("credits", "0010_submissionevent"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [
        migrations.AddField(
            model_name="compliancereport",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="最近进展时间"),
        ),
        migrations.RunPython(schedule_sweep, unschedule_sweep),
    ]
