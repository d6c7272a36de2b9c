"""Bulk writes for the bulk paths (PERF-3, PERF-6), without Django's per-field preparation.

`QuerySet.bulk_create` prepares every field of every object through `get_db_prep_save` and friends, which
costs more than the insert itself at 100,000 rows a table. Here:

- `insert_rows(model, objs)` writes model instances the caller built and gives each its id;
- `insert_values(model, names, rows)` writes plain rows (tuples of attribute values in `names`' order) and
  builds no model instance at all: for the rows nobody reads back in the same call (audit, history,
  workflow events, certificates), where constructing a Django model costs more than writing it.

On PostgreSQL both are one `COPY … FROM STDIN` per chunk through Django's cursor (so query counting and
logging still see it); the ids are drawn beforehand from the table's sequence in one query
(`nextval` over `generate_series`), so COPY, which returns nothing, still hands the ids back. Values are
written in COPY's text format: None as \\N, booleans t/f, dates and times in ISO form, JSON fields as JSON,
and backslash, tab, newline and carriage return escaped in every text. auto_now/auto_now_add fields get
the time of the call. No signals are sent, as with bulk_create: the caller bumps the cache versions
(`keys_of`, as VersionedQuerySet.bulk_create). On another database they fall back to bulk_create.

Only for plain models whose values the caller built (no custom field types that need preparing).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone

CHUNK = 5000
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value, json_field: bool = False) -> str:
    """One value in COPY's text format."""
    if json_field:
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_ESCAPES)
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, dt.date):  # datetimes too: aware ones keep their offset
        return value.isoformat()
    return str(value)  # int, Decimal


def _columns(model: type[models.Model], names: Sequence[str]) -> tuple[list[models.Field], list[models.Field]]:
    """The fields named (attnames), and the auto_now/auto_now_add fields not named (filled with now)."""
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields}
    named = [by_attname[n] for n in names]
    stamped = [f for f in meta.concrete_fields if f.attname not in names and f is not meta.pk
               and (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))]
    return named, stamped


def _copy(model: type[models.Model], fields: list[models.Field], rows: list[Sequence], *, ids: bool) -> list[int]:
    """COPY `rows` (values in `fields`' order) into the model's table in chunks; with `ids`, draw as many
    ids from the table's sequence first and write them as the first column. The ids, in order."""
    meta = model._meta
    quote = connection.ops.quote_name
    json_at = [isinstance(f, models.JSONField) for f in fields]
    columns = ([quote(meta.pk.column)] if ids else []) + [quote(f.column) for f in fields]
    sql = f"COPY {quote(meta.db_table)} ({', '.join(columns)}) FROM STDIN"
    drawn: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            if ids:
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                               [meta.db_table, meta.pk.column, len(chunk)])
                chunk_ids = [pk for (pk,) in cursor.fetchall()]
                drawn.extend(chunk_ids)
                lines = ("\t".join([str(pk)] + [_text(v, j) for v, j in zip(row, json_at)]) for pk, row in zip(chunk_ids, chunk))
            else:
                lines = ("\t".join([_text(v, j) for v, j in zip(row, json_at)]) for row in chunk)
            buffer = io.StringIO("\n".join(lines) + "\n")
            cursor.copy_expert(sql, buffer)
    return drawn


def insert_rows(model: type[models.Model], objs: Iterable[models.Model], *, keys_of=None) -> list[models.Model]:
    """Write model instances (their ids set, `_state` saved) and bump their cache keys."""
    objs = list(objs)
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        kwargs = {"keys_of": keys_of} if keys_of is not None else {}
        return model._default_manager.bulk_create(objs, **kwargs)
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
    names = [f.attname for f in fields]
    ids = _copy(model, fields, [[getattr(o, n) for n in names] for o in objs], ids=True)
    for obj, pk in zip(objs, ids):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = "default"
    keys = versions.keys_for(model, objs, keys_of=keys_of)
    if keys:
        versions.bump(*sorted(keys))
    return objs


def insert_values(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Write plain rows (attribute values in `names`' order; unnamed fields take their model default,
    auto_now ones the time of the call) without building model instances; the number written. For tables
    no cached page reads (audit, history, events, certificates): a model registered with bureau.versions
    is refused, since no instance is there to name its keys."""
    from . import versions

    if versions.registered(model):
        raise ValueError(f"{model.__name__} bumps cache keys: write it with insert_rows")
    rows = list(rows)
    if not rows:
        return 0
    named, stamped = _columns(model, names)
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**dict(zip(names, row))) for row in rows])
        return len(rows)
    meta = model._meta
    # every other field takes what a new instance would hold: its default, "" for text, None when nullable
    defaults = [f for f in meta.concrete_fields if f is not meta.pk and f not in named and f not in stamped]
    now = timezone.now()
    extra = [now] * len(stamped) + [f.get_default() for f in defaults]
    if extra:
        rows = [[*row, *extra] for row in rows]
    _copy(model, named + stamped + defaults, rows, ids=False)
    return len(rows)


def insert_history(model: type[models.Model], objs: list[models.Model], *, user=None, history_type: str = "+",
                   reason: str = "") -> int:
    """The django-simple-history rows of newly inserted (or, with history_type "~", changed) objects, as
    `simple_history.utils.bulk_create_with_history` writes them, through `insert_values`; the number."""
    history = model.history.model
    now = timezone.now()
    user_id = getattr(user, "pk", None)
    fields = [f.attname for f in history.tracked_fields]
    return insert_values(
        history, [*fields, "history_date", "history_user_id", "history_change_reason", "history_type"],
        ([*(getattr(obj, name) for name in fields), now, user_id, reason, history_type] for obj in objs),
    )
