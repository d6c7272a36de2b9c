"""seed_demo on a database that already holds the demo city: empty it, so the city is made again from scratch.

Only a demo database is ever emptied: its districts are the demo's and its superuser is the demo's
``admin@example.invalid``. A database with anything else in it is refused (a real roster is never erased).

What is kept: the reference data the migrations write (backbone criteria, the beat schedules, content types
and permissions, the role groups). Everything else of the project's apps, the users, sessions, lockouts and
admin log is emptied. The ledger is append-only (its triggers refuse DELETE): on PostgreSQL the tables are
TRUNCATEd (no row triggers fire); on SQLite the two triggers are dropped for the statement and made again,
inside the same transaction, with the statements of credits migration 0008.
"""

from __future__ import annotations

import importlib

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import connection, transaction

from bureau.models import District

# Apps whose tables are emptied; within them, the models whose rows are reference data are kept.
RESET_APPS = {"admin", "auth", "sessions", "axes", "bureau", "training", "credits", "exchange", "backbone",
              "demo", "django_cas_ng", "oauth2_provider"}  # CAS tickets and providers' OAuth2 clients refer to users
KEEP = {"auth.permission", "auth.group", "auth.group_permissions", "backbone.criterion", "backbone.historicalcriterion"}
DEMO_EMAIL = "admin@example.invalid"


def is_demo_database(demo_codes: set[str]) -> bool:
    codes = set(District.objects.values_list("code", flat=True))
    return codes <= demo_codes and get_user_model().objects.filter(username="admin", email=DEMO_EMAIL).exists()


def _tables() -> list[str]:
    tables = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.app_label in RESET_APPS and meta.label_lower not in KEEP and not meta.proxy and meta.managed:
            if meta.db_table not in tables:
                tables.append(meta.db_table)
    return tables


def _evidence_files() -> list[str]:
    from credits.models import ClaimEvidence

    return [name for name in ClaimEvidence.objects.values_list("file", flat=True) if name]


@transaction.atomic
def reset_demo_data() -> int:
    """Empty the demo's tables; returns how many tables were emptied. Stored evidence files go after commit."""
    files = _evidence_files()
    tables = _tables()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks still pending in this transaction (a caller's writes) block TRUNCATE:
            # run them now, then defer again as Django expects.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {', '.join(quote(t) for t in tables)} RESTART IDENTITY")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            triggers = importlib.import_module("credits.migrations.0008_remove_ledgerentry_project").SQLITE_TRIGGERS
            for statement in triggers[:2]:  # the DROP TRIGGER statements
                cursor.execute(statement)
            for table in tables:
                cursor.execute(f"DELETE FROM {quote(table)}")
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
            if cursor.fetchone():
                cursor.execute(
                    f"DELETE FROM sqlite_sequence WHERE name IN ({', '.join('%s' for _ in tables)})", tables
                )
            for statement in triggers:  # drop (again, harmless) and make both triggers
                cursor.execute(statement)

    def discard():
        for name in files:
            try:
                default_storage.delete(name)
            except Exception:  # noqa: BLE001 - an orphan demo file is harmless
                pass

    transaction.on_commit(discard)
    return len(tables)
