"""Certificates no longer point up to backbone: the roster entry holds the link (backbone 0004 copied it)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("training", "0003_ledger_project_codes")]
    operations = [
        migrations.RemoveConstraint(model_name="certificate", name="certificate_one_valid_per_title"),
        migrations.RemoveField(model_name="certificate", name="roster_entry"),
    ]
