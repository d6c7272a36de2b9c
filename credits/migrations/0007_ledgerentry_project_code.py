"""The ledger keeps a project's code instead of a key to training's project (the ledger is a sink).

Codes are copied from the projects by training's migration 0003, which runs before 0008 drops the key.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("credits", "0006_claims")]
    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="project_code",
            field=models.CharField(blank=True, db_index=True, default="", max_length=32, verbose_name="项目编号"),
            preserve_default=False,
        ),
    ]
