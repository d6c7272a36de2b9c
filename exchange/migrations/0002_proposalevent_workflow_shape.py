"""One workflow event shape (bureau.WorkflowEvent): from_status/to_status/note become
from_state/to_state/reason (data kept), and each row gets the action that made it."""

from django.db import migrations, models

STATES = [
    ("applied", "教师申请"),
    ("proposed", "学校推荐"),
    ("approved", "已批准"),
    ("returned", "已退回"),
    ("placed", "已派出"),
    ("withdrawn", "已撤回"),
]
ACTION_BY_TARGET = {
    "applied": "apply",
    "proposed": "propose",
    "approved": "approve",
    "returned": "return",
    "placed": "place",
    "withdrawn": "withdraw",
}


def fill_actions(apps, schema_editor):
    ProposalEvent = apps.get_model("exchange", "ProposalEvent")
    for target, action in ACTION_BY_TARGET.items():
        ProposalEvent.objects.filter(to_state=target).update(action=action)


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial")]

    operations = [
        migrations.RenameField(model_name="proposalevent", old_name="from_status", new_name="from_state"),
        migrations.RenameField(model_name="proposalevent", old_name="to_status", new_name="to_state"),
        migrations.RenameField(model_name="proposalevent", old_name="note", new_name="reason"),
        migrations.AlterField(
            model_name="proposalevent",
            name="from_state",
            field=models.CharField(blank=True, choices=STATES, max_length=16, verbose_name="原状态"),
        ),
        migrations.AlterField(
            model_name="proposalevent",
            name="to_state",
            field=models.CharField(choices=STATES, max_length=16, verbose_name="新状态"),
        ),
        migrations.AddField(
            model_name="proposalevent",
            name="action",
            field=models.CharField(default="", max_length=32, verbose_name="操作"),
            preserve_default=False,
        ),
        migrations.RunPython(fill_actions, migrations.RunPython.noop),
    ]
