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

import datetime as dt
import io
import json
import re
import time
from collections.abc import Iterable
from decimal import Decimal
from operator import itemgetter

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


# --- COPY of plain rows (PERF-3) ---------------------------------------------------------------------

# What COPY's text format needs escaped inside a value.
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _copy_text(value) -> str:
    """One value in COPY's text format (None is \\N)."""
    kind = value.__class__
    if kind is str:
        return _COPY_SPECIAL.sub(lambda m: _COPY_ESCAPES[m.group()], value) if _COPY_SPECIAL.search(value) else value
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if kind is int:
        return str(value)
    if kind is dt.date or kind is dt.datetime:
        return value.isoformat()
    if kind is dict or kind is list:
        return _copy_text(_json(value))
    return _copy_text(str(value))


def _copy_column(values: list) -> list[str]:
    """One column's values in COPY's text format, column-wise: a column of few distinct values (dates,
    choices, flags, the one instant of the call) is translated through a table, a column of text without
    characters to escape is kept as it is; only the rest goes value by value."""
    try:
        distinct = set(values)
    except TypeError:  # JSON values
        return [_copy_text(v) for v in values]
    kinds = set(map(type, values))  # of every value: in the set, True and 1 are one entry
    if len(distinct) * 4 <= len(values) and not (bool in kinds and kinds - {bool, type(None)}) and not ({int, float, Decimal} & kinds and len(kinds - {type(None)}) > 1):
        # (True == 1 == 1.0: a column holds one kind, but a flag and a number are never merged)
        table = {v: _copy_text(v) for v in distinct}
        return list(map(table.__getitem__, values))
    if kinds == {str} and not _COPY_SPECIAL.search("".join(values)):
        return values
    return [_copy_text(v) for v in values]


class RowView(dict):
    """A row of `copy_rows` read like a model instance (row.teacher_id, row.pk), for the cache registrations."""

    __slots__ = ()
    pk_name = "id"

    def __getattr__(self, name):
        try:
            return self[self.pk_name if name == "pk" else name]
        except KeyError:
            raise AttributeError(name) from None


def copy_rows(model: type[models.Model], rows: list[dict], *, now: dt.datetime | None = None) -> list[dict]:
    """Write plain rows ({attname: value}) of `model` with one COPY per chunk: no model instances, no
    per-field preparation, no statement text to parse (PERF-3: the teacher import writes 3 rows a teacher).
    The rows are RowViews (dicts that read like instances: row.school_id, row.pk).

    A field a row leaves out takes its default (auto_now/auto_now_add fields: `now`, one instant for the
    whole call). The ids are taken from the table's sequence first (one query), so each row gets its id
    (`row[pk attname]`) without RETURNING; the rows are returned with every column filled in. Values go
    as they are (str, int, bool, date, datetime, None, dict/list for JSON; anything else as str()): only
    for plain models whose values the caller built. The cache versions are bumped as insert_rows does.
    On a database other than PostgreSQL it falls back to insert_rows."""
    from . import versions

    if not rows:
        return rows
    meta = model._meta
    pk = meta.pk.attname
    now = now or timezone.now()
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    defaults = {}
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults[field.attname] = now
        elif not field.is_relation or field.has_default():
            defaults[field.attname] = field.get_default()
        else:
            defaults[field.attname] = None
    view = RowView if pk == RowView.pk_name else type("RowView", (RowView,), {"__slots__": (), "pk_name": pk})
    full = []
    for row in rows:
        values = view(defaults)
        values.update(row)
        full.append(values)
    if connection.vendor != "postgresql":
        objs = model._default_manager.bulk_create([model(**values) for values in full])
        for values, obj in zip(full, objs, strict=True):
            values[pk] = obj.pk
        return full
    names = [f.attname for f in fields]
    row_values = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in [meta.pk, *fields])
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [meta.db_table, meta.pk.column, len(full)])
        ids = sorted(pk_value for (pk_value,) in cursor.fetchall())
        sql = f"COPY {table} ({columns}) FROM STDIN"
        step = CHUNK * 4
        for start in range(0, len(full), step):
            chunk, chunk_ids = full[start:start + step], ids[start:start + step]
            for values, pk_value in zip(chunk, chunk_ids, strict=True):
                values[pk] = pk_value
            columns_text = [list(map(str, chunk_ids))]
            columns_text.extend(_copy_column(list(column)) for column in zip(*map(row_values, chunk), strict=True))
            data = "\n".join(map("\t".join, zip(*columns_text, strict=True))) + "\n"
            with connection.wrap_database_errors:  # as execute(): django.db.IntegrityError on a conflict
                cursor.cursor.copy_expert(sql, io.StringIO(data))
            if connection.queries_logged:  # COPY is not an execute(): counted and logged like one
                connection.queries_log.append({"sql": f"{sql} -- {len(chunk)} rows",
                                               "time": f"{time.monotonic() - started:.3f}"})
                started = time.monotonic()
    keys = versions.keys_for(model, full)
    if keys:
        versions.bump(*sorted(keys))
    return full


def copy_history(model: type[models.Model], rows: list[dict], *, user=None, history_type: str = "+",
                 reason: str = "", now: dt.datetime | None = None) -> list[dict]:
    """The django-simple-history rows of rows just written by `copy_rows`, as `insert_history` writes them."""
    history = model.history.model
    now = now or timezone.now()
    base = {"history_date": now, "history_user_id": getattr(user, "pk", None), "history_change_reason": reason,
            "history_type": history_type}
    fields = [f.attname for f in history.tracked_fields]
    return copy_rows(history, [{**base, **{name: row[name] for name in fields}} for row in rows], now=now)
