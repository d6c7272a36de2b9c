"""The cache contract made executable (CONVENTIONS habit 18, bureau.versions' registry).

Every cached page is rendered from an empty cache while its queries are captured: each table it reads
must have a registered invalidation, else a write to that table would leave the page stale. Bulk
paths (`.update()`, `bulk_create`, `bulk_update`, queryset `.delete()`) bump too.
"""

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bureau import versions
from bureau.models import Teacher
from credits.models import Exemption, LedgerEntry, Source
from credits.posting import Posting, ledger_sync
from credits.selectors import ledger_version_key, school_version_key, teacher_version_keys

# Tables a cached page may read without a registration, and why.
NOT_SHOWN = {
    "django_session": "finds the signed-in user's id; a changed session is a new key, nothing cached reads it",
}

# Every test here runs on the in-process cache and on a real Redis through django-redis (production).
pytestmark = pytest.mark.usefixtures("both_caches")

# ORM queries quote table names; the hand-written aggregates (credits.compliance) do not.
TABLE = re.compile(r'(?:FROM|JOIN)\s+"?([a-z_][a-z0-9_]*)"?', re.IGNORECASE)


def tables_read(queries) -> set[str]:
    """The database tables the queries read (names that are not tables, e.g. CTEs, are left out)."""
    tables = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    return {name for query in queries for name in TABLE.findall(query["sql"]) if name in tables}


def unregistered(tables: set[str], models) -> set[str]:
    registered = {model._meta.db_table for model in models}
    return tables - registered - set(NOT_SHOWN)


def cached_pages(city):
    """(role, url) of every page served through bureau.pages (render_cached / @cached_page)."""
    return [
        ("teacher", reverse("credits:portal")),
        ("principal", reverse("credits:school-dashboard")),
        ("bureau", reverse("credits:staff-school-dashboard", args=[city["schools"][0].pk])),
    ]


def _with_rows(users, city):
    """Rows of every kind the pages count, so every query of theirs runs."""
    teacher = city["teachers"][0]
    ledger_sync(source_key="t:1", wanted=Posting(teacher_id=teacher.pk, entry_date=dt.date.today(), hours=D(8),
                                                 credits=D(8), source=Source.MANUAL_ADJUSTMENT), actor=None, reason="")
    Exemption.objects.create(teacher=city["teachers"][1], year=dt.date.today().year, reason="病假")


def _read_by_cached_pages(client, users, city) -> set[str]:
    _with_rows(users, city)
    tables = set()
    for role, url in cached_pages(city):
        client.force_login(users[role])
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, (role, url)
        tables |= tables_read(ctx.captured_queries)
    return tables


def test_every_table_a_cached_page_reads_has_a_registered_invalidation(client, users, city):
    tables = _read_by_cached_pages(client, users, city)
    assert {"credits_ledgerentry", "bureau_teacher", "auth_user"} <= tables  # the capture works
    assert unregistered(tables, versions.registered_models()) == set()


def test_the_check_fails_when_one_registration_is_missing(client, users, city):
    """What the test above does when somebody drops a registration (here: the ledger's)."""
    tables = _read_by_cached_pages(client, users, city)
    without_ledger = versions.registered_models() - {LedgerEntry}
    assert unregistered(tables, without_ledger) == {"credits_ledgerentry"}


def test_every_registered_model_bumps_on_bulk_writes():
    """Registered models write in bulk through VersionedQuerySet; the auth tables (Django's own managers)
    change through saves and m2m_changed only, which the registry's receivers catch."""
    user_model = get_user_model()
    exempt = {user_model, user_model.groups.through}
    for model in versions.registered_models() - exempt:
        assert isinstance(model._default_manager.all(), versions.VersionedQuerySet), model


def test_registrations_name_real_models():
    labels = {model._meta.label for model in apps.get_models(include_auto_created=True)}
    assert {model._meta.label for model in versions.registered_models()} <= labels


# --- bulk paths ------------------------------------------------------------------------------------


def test_update_of_a_teachers_school_bumps_both_schools(city):
    teacher, old, new = city["teachers"][0], city["schools"][0], city["schools"][1]
    before = dict(zip([school_version_key(old.pk), school_version_key(new.pk)],
                      versions.current(school_version_key(old.pk), school_version_key(new.pk))))
    Teacher.objects.filter(pk=teacher.pk).update(school=new)
    after = versions.current(*before)
    assert all(a != b for a, b in zip(after, before.values()))


def test_bulk_create_of_ledger_rows_bumps_the_teachers_figures(city):
    teacher = city["teachers"][0]
    before = versions.current(*teacher_version_keys(teacher.pk))
    LedgerEntry.objects.bulk_create([LedgerEntry(teacher=teacher, entry_date=dt.date.today(), hours=D(1), credits=D(1),
                                                 source=Source.MANUAL_ADJUSTMENT, source_key="bulk:1")])
    assert versions.current(*teacher_version_keys(teacher.pk)) != before


def test_bulk_of_many_rows_bumps_the_coarse_key_not_one_per_row(city):
    teacher = city["teachers"][0]
    rows = [LedgerEntry(teacher=teacher, entry_date=dt.date.today(), hours=D(1), credits=D(1),
                        source=Source.MANUAL_ADJUSTMENT, source_key=f"bulk:{i}") for i in range(versions.BULK_ROWS + 1)]
    assert versions.keys_for(LedgerEntry, rows) == {"credits.teachers.v", "credits.schools.v"}
    assert versions.keys_for(LedgerEntry, rows[:1]) == {ledger_version_key(teacher.pk),
                                                        school_version_key(teacher.school_id)}


def test_bulk_update_of_exemptions_and_queryset_delete_bump_the_school(city):
    teacher = city["teachers"][0]
    exemption = Exemption.objects.create(teacher=teacher, year=2026, reason="病假")
    key = school_version_key(teacher.school_id)
    first = versions.current(key)
    exemption.reason = "产假"
    Exemption.objects.bulk_update([exemption], ["reason"])
    second = versions.current(key)
    Exemption.objects.filter(pk=exemption.pk).delete()
    assert first != second != versions.current(key)
