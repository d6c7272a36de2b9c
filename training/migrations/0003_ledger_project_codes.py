"""Copy each ledger row's project code from its project, before credits 0008 drops the key.

This lives in training (above credits), so credits' migrations never need to know training's tables.
The append-only trigger is switched off for this one statement, inside the migration's transaction.
"""

from django.db import migrations

COPY = """UPDATE credits_ledgerentry SET project_code = (
    SELECT code FROM training_project WHERE training_project.id = credits_ledgerentry.project_id
) WHERE project_id IS NOT NULL"""


def copy_codes(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("ALTER TABLE credits_ledgerentry DISABLE TRIGGER credits_ledger_append_only")
        schema_editor.execute(COPY)
        schema_editor.execute("ALTER TABLE credits_ledgerentry ENABLE TRIGGER credits_ledger_append_only")
    else:
        # SQLite: credits 0007 rebuilt the table without its triggers; credits 0008 makes them again.
        schema_editor.execute("DROP TRIGGER IF EXISTS credits_ledger_no_update")
        schema_editor.execute(COPY)


class Migration(migrations.Migration):
    dependencies = [("training", "0002_shares_certificates"), ("credits", "0007_ledgerentry_project_code")]
    run_before = [("credits", "0008_remove_ledgerentry_project")]
    operations = [migrations.RunPython(copy_codes, migrations.RunPython.noop)]
