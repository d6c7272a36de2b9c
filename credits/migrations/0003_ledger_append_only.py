"""The ledger is append-only at the database level: a trigger refuses UPDATE and DELETE (SPEC §4)."""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION credits_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'credits_ledgerentry is append-only: %% refused', TG_OP USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER credits_ledger_append_only BEFORE UPDATE OR DELETE ON credits_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION credits_ledger_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS credits_ledger_append_only ON credits_ledgerentry;
DROP FUNCTION IF EXISTS credits_ledger_append_only();
"""
SQLITE_UP = [
    """CREATE TRIGGER credits_ledger_no_update BEFORE UPDATE ON credits_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'credits_ledgerentry is append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER credits_ledger_no_delete BEFORE DELETE ON credits_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'credits_ledgerentry is append-only: DELETE refused'); END;""",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS credits_ledger_no_update;", "DROP TRIGGER IF EXISTS credits_ledger_no_delete;"]


def up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_UP)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DOWN)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("credits", "0002_initial")]
    operations = [migrations.RunPython(up, down)]
