"""Multi-row INSERT of model instances for bulk paths (PERF-6), without Django's per-field preparation.

`QuerySet.bulk_create` prepares every field of every object through `get_db_prep_save` and friends, which
costs more than the insert itself at 100,000 rows a table. `insert_rows` takes the attribute values as
they are (the driver adapts dates, decimals, strings and None; JSON fields are wrapped), sets the
auto_now/auto_now_add fields, writes one multi-row INSERT … RETURNING the ids per chunk through Django's
cursor (so query counting and logging still see it) and gives each object its id. No signals are sent,
as with bulk_create: the caller bumps the cache versions (`keys_of`, as VersionedQuerySet.bulk_create).

Only for plain models whose values the caller built (no custom field types that need preparing); on a
database other than PostgreSQL it falls back to bulk_create.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone

CHUNK = 5000


def _json(value):
    return json.dumps(value, cls=DjangoJSONEncoder)


def insert_rows(model: type[models.Model], objs: Iterable[models.Model], *, keys_of=None) -> list[models.Model]:
    objs = list(objs)
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        kwargs = {"keys_of": keys_of} if keys_of is not None else {}
        return model._default_manager.bulk_create(objs, **kwargs)
    from psycopg2.extras import Json

    from . import versions

    meta = model._meta
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    now = timezone.now()
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for obj in objs:
                setattr(obj, field.attname, now)
        elif field.is_relation:  # a related object saved after it was assigned: take its id now
            for obj in objs:
                if getattr(obj, field.attname) is None:
                    related = field.get_cached_value(obj, None)
                    if related is not None:
                        setattr(obj, field.attname, related.pk)
    json_names = {f.attname for f in fields if isinstance(f, models.JSONField)}
    names = [f.attname for f in fields]
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    template = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for start in range(0, len(objs), CHUNK):
            chunk = objs[start:start + CHUNK]
            values = b", ".join(
                raw.mogrify(template, [Json(getattr(o, n), dumps=_json) if n in json_names else getattr(o, n)
                                       for n in names])
                for o in chunk
            )
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values.decode()} "
                           f"RETURNING {connection.ops.quote_name(meta.pk.column)}")
            for obj, (pk,) in zip(chunk, cursor.fetchall()):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = "default"
    keys = versions.keys_for(model, objs, keys_of=keys_of)
    if keys:
        versions.bump(*sorted(keys))
    return objs


def insert_history(model: type[models.Model], objs: list[models.Model], *, user=None, history_type: str = "+",
                   reason: str = "") -> list[models.Model]:
    """The django-simple-history rows of newly inserted (or, with history_type "~", changed) objects, as
    `simple_history.utils.bulk_create_with_history` writes them, through `insert_rows`."""
    history = model.history.model
    now = timezone.now()
    user_id = getattr(user, "pk", None)
    fields = [f.attname for f in history.tracked_fields]
    rows = [
        history(history_date=now, history_user_id=user_id, history_change_reason=reason,
                history_type=history_type, **{name: getattr(obj, name) for name in fields})
        for obj in objs
    ]
    return insert_rows(history, rows)
