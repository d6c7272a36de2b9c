"""One workflow event shape (bureau.WorkflowEvent): claim events already have it; lengths and labels align."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("credits", "0008_remove_ledgerentry_project")]

    operations = [
        migrations.AlterField(
            model_name="claimevent",
            name="action",
            field=models.CharField(max_length=32, verbose_name="操作"),
        ),
        migrations.AlterField(
            model_name="claimevent",
            name="reason",
            field=models.CharField(blank=True, max_length=200, verbose_name="说明"),
        ),
    ]
