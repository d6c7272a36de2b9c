from django.db import migrations

SCHEDULES = [
    ("骨干教师称号到期提醒（提前90天）", "backbone.tasks.expiry_notices", "10", "5"),
    ("骨干教师称号到期失效", "backbone.tasks.lapse_expired", "20", "5"),
    ("骨干教师调离认定学校停发津贴", "backbone.tasks.allowances_follow_school", "30", "5"),
]


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minute, hour in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
        )
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})


class Migration(migrations.Migration):
    dependencies = [("backbone", "0002_default_criteria"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
