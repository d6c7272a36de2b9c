"""Drop the ledger's key to training's project (its code was copied by training 0003).

SQLite rebuilds the table for this, which loses its triggers: the append-only triggers are made again.
"""

from django.db import migrations

SQLITE_TRIGGERS = [
    "DROP TRIGGER IF EXISTS credits_ledger_no_update;",
    "DROP TRIGGER IF EXISTS credits_ledger_no_delete;",
    """CREATE TRIGGER credits_ledger_no_update BEFORE UPDATE ON credits_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'credits_ledgerentry is append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER credits_ledger_no_delete BEFORE DELETE ON credits_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'credits_ledgerentry is append-only: DELETE refused'); END;""",
]


def sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("credits", "0007_ledgerentry_project_code")]
    operations = [
        migrations.RemoveField(model_name="ledgerentry", name="project"),
        migrations.RunPython(sqlite_triggers, migrations.RunPython.noop),
    ]
