"""One workflow event shape (bureau.WorkflowEvent): enrolment events gain the action that made them.

Existing rows get the action back from their states (each to-state has one action in the enrolment
table; a row with no from-state is an application, or a row created by a result import)."""

from django.db import migrations, models

ACTION_BY_TARGET = {
    "school_approved": "school_approve",
    "approved": "approve",
    "rejected": "reject",
    "attending": "start",
    "completed": "complete",
    "withdrawn": "withdraw",
    "no_show": "no_show",
}


def fill_actions(apps, schema_editor):
    EnrolmentEvent = apps.get_model("training", "EnrolmentEvent")
    EnrolmentEvent.objects.filter(from_state="", reason="由考核结果导入").update(action="import")
    EnrolmentEvent.objects.filter(from_state="", action="").update(action="apply")
    EnrolmentEvent.objects.filter(reason="登记考核结果", action="").update(action="result")
    for target, action in ACTION_BY_TARGET.items():
        EnrolmentEvent.objects.filter(to_state=target, action="").update(action=action)


class Migration(migrations.Migration):
    dependencies = [("training", "0004_remove_certificate_roster_entry")]

    operations = [
        migrations.AddField(
            model_name="enrolmentevent",
            name="action",
            field=models.CharField(default="", max_length=32, verbose_name="操作"),
            preserve_default=False,
        ),
        migrations.RunPython(fill_actions, migrations.RunPython.noop),
    ]
