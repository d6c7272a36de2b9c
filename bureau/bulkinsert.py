"""Bulk writes for the bulk paths (PERF-3, PERF-6), without Django's per-field preparation.

`QuerySet.bulk_create` prepares every field of every object through `get_db_prep_save` and friends, and
building a Django model instance costs more than writing its row: at 100,000 rows a table both are most of
the time. Three entry points, one way of writing:

- `insert_rows(model, objs)`: model instances the caller built and reads back (each gets its id);
- `copy_rows(model, dicts)`: plain rows as {attname: value}, returned filled in (defaults, ids) as
  `RowView`s that read like instances (row.pk, row.school_id): the teacher import;
- `insert_values(model, names, rows)`: plain tuples in `names`' order, nothing returned but the count:
  the rows nobody reads back in the same call (audit, history, workflow events, certificates).

On PostgreSQL each is one `COPY … FROM STDIN` per chunk (`_copy`) through Django's cursor, so the
query log and query counting see it, and a conflict raises Django's IntegrityError as execute() would
(the batch retries of `posting_attempts` rely on it). COPY returns nothing, so the ids are drawn first
from the table's sequence in one query (`nextval` over `generate_series`). Values go in COPY's text
format, column by column (`_copy_column`): None as \\N, booleans t/f, dates and times in ISO form, JSON
fields as JSON, and backslash, tab, newline and carriage return escaped. Fields a row leaves out take what
a new instance would hold (the default, "" for text, None), auto_now/auto_now_add ones the one instant of
the call. No signals are sent, as with bulk_create: the cache versions are bumped here (`keys_of`, as
VersionedQuerySet.bulk_create), and `insert_values` refuses a model that has cache keys. Only for plain
models whose values the caller built (no custom field types that need preparing). On another database
they fall back to bulk_create.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from operator import attrgetter, itemgetter

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models.base import ModelState
from django.utils import timezone

CHUNK = 20_000

# What COPY's text format needs escaped inside a value.
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _json(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


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
    except TypeError:  # unhashable values
        return [_copy_text(v) for v in values]
    kinds = set(map(type, values))  # of every value: in the set, True and 1 are one entry
    mixed_flag = bool in kinds and kinds - {bool, type(None)}
    mixed_number = {int, float, Decimal} & kinds and len(kinds - {type(None)}) > 1
    if len(distinct) * 4 <= len(values) and not mixed_flag and not mixed_number:
        # (True == 1 == 1.0: a column holds one kind, but a flag and a number are never merged)
        table = {v: _copy_text(v) for v in distinct}
        return list(map(table.__getitem__, values))
    if kinds == {str} and not _COPY_SPECIAL.search("".join(values)):
        return values
    return [_copy_text(v) for v in values]


def _copy(model: type[models.Model], fields: Sequence[models.Field], rows: list[Sequence], *,
          ids: bool) -> list[int]:
    """COPY `rows` (values in `fields`' order) into the model's table in chunks; with `ids`, draw as many
    ids from the table's sequence first (one query) and write them as the first column. The ids, in order."""
    meta = model._meta
    quote = connection.ops.quote_name
    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    columns = ([meta.pk] if ids else []) + list(fields)
    sql = f"COPY {quote(meta.db_table)} ({', '.join(quote(f.column) for f in columns)}) FROM STDIN"
    drawn: list[int] = []
    with connection.cursor() as cursor:
        if ids:  # the sequence named once: pg_get_serial_sequence per drawn id cost more than the COPY
            cursor.execute("SELECT nextval(seq) FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) s, "
                           "generate_series(1, %s)", [meta.db_table, meta.pk.column, len(rows)])
            drawn = sorted(pk for (pk,) in cursor.fetchall())
        for start in range(0, len(rows), CHUNK):
            chunk = list(zip(*rows[start:start + CHUNK], strict=True))
            for i in json_at:  # a JSON field's value is JSON, whatever Python type it has (a str too)
                chunk[i] = [_json(v) for v in chunk[i]]
            text = [list(map(str, drawn[start:start + CHUNK]))] if ids else []
            text.extend(_copy_column(list(column)) for column in chunk)
            data = "\n".join(map("\t".join, zip(*text, strict=True))) + "\n"
            with connection.wrap_database_errors:  # as execute(): django.db.IntegrityError on a conflict
                cursor.copy_expert(sql, io.StringIO(data))
    return drawn


_DEFAULTS: dict[type, tuple[dict, list]] = {}


def new_instance(model: type[models.Model], **values) -> models.Model:
    """An unsaved instance of `model` with `values` (attnames: teacher_id, not teacher), built as
    unpickling builds one: the field defaults and the values set straight into the instance, without
    Model.__init__, which checks and converts every field and costs more than writing the row at 100,000
    rows (PERF-6). No pre_init/post_init signals (nothing here listens to them). The bulk paths' rows:
    what the caller reads back after `insert_rows` is what it set."""
    try:
        static, dynamic = _DEFAULTS[model]
    except KeyError:
        static, dynamic = {}, []
        for field in model._meta.concrete_fields:
            if field.has_default() and callable(field.default):
                dynamic.append(field)
            else:
                static[field.attname] = field.get_default()
        _DEFAULTS[model] = static, dynamic
    obj = model.__new__(model)
    state = obj.__dict__
    state.update(static)
    for field in dynamic:
        state[field.attname] = field.get_default()
    state.update(values)
    state["_state"] = ModelState()
    return obj


def _bump(model: type[models.Model], rows: list, keys_of=None) -> None:
    from . import versions

    keys = versions.keys_for(model, rows, keys_of=keys_of)
    if keys:
        versions.bump(*sorted(keys))


def insert_rows(model: type[models.Model], objs: Iterable[models.Model], *, keys_of=None) -> list[models.Model]:
    """Write model instances (their ids set, `_state` saved) and bump their cache keys."""
    objs = list(objs)
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        kwargs = {"keys_of": keys_of} if keys_of is not None else {}
        return model._default_manager.bulk_create(objs, **kwargs)
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
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = "default"
    _bump(model, objs, keys_of)
    return objs


def _new_row_defaults(model: type[models.Model], now: dt.datetime) -> dict:
    """What a new instance holds in each field it was not given: `now` for auto_now(_add) fields."""
    meta = model._meta
    defaults = {}
    for field in meta.concrete_fields:
        if field is meta.pk:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults[field.attname] = now
        elif not field.is_relation or field.has_default():
            defaults[field.attname] = field.get_default()
        else:
            defaults[field.attname] = None
    return defaults


def insert_values(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Write plain rows (attribute values in `names`' order) without building model instances; the number
    written. For tables no cached page reads (audit, history, events, certificates): a model registered
    with bureau.versions is refused, since no instance is there to name its keys."""
    from . import versions

    if versions.registered(model):
        raise ValueError(f"{model.__name__} bumps cache keys: write it with insert_rows or copy_rows")
    rows = list(rows)
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**dict(zip(names, row, strict=True))) for row in rows])
        return len(rows)
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    others = {name: value for name, value in _new_row_defaults(model, timezone.now()).items() if name not in names}
    fields = [by_attname[n] for n in names] + [by_attname[n] for n in others]
    extra = list(others.values())
    _copy(model, fields, [[*row, *extra] for row in rows] if extra else rows, ids=False)
    return len(rows)


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
    """Write plain rows ({attname: value}) of `model` without model instances (PERF-3: the teacher import
    writes 3 rows a teacher); returned as RowViews with every column filled in, the id included (a field a
    row leaves out takes its default; auto_now(_add) fields `now`, one instant for the whole call). The
    cache versions are bumped as insert_rows does."""
    if not rows:
        return rows
    meta = model._meta
    pk = meta.pk.attname
    defaults = _new_row_defaults(model, now or timezone.now())
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
    names = list(defaults)
    by_attname = {f.attname: f for f in meta.concrete_fields}
    row_values = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    ids = _copy(model, [by_attname[n] for n in names], list(map(row_values, full)), ids=True)
    for values, pk_value in zip(full, ids, strict=True):
        values[pk] = pk_value
    _bump(model, full)
    return full


def _history(model: type[models.Model], rows: Iterable, get, *, user, history_type: str, reason: str,
             now: dt.datetime | None) -> int:
    history = model.history.model
    fields = [f.attname for f in history.tracked_fields]
    extra = [now or timezone.now(), getattr(user, "pk", None), reason, history_type]
    values = get(*fields)
    return insert_values(history, [*fields, "history_date", "history_user_id", "history_change_reason", "history_type"],
                         ([*values(row), *extra] for row in rows))


def insert_history(model: type[models.Model], objs: Iterable[models.Model], *, user=None, history_type: str = "+",
                   reason: str = "", now: dt.datetime | None = None) -> int:
    """The django-simple-history rows of instances just written (or, with history_type "~", changed), as
    simple_history's bulk_create_with_history writes them, one per object by `user`; the number."""
    return _history(model, objs, attrgetter, user=user, history_type=history_type, reason=reason, now=now)


def copy_history(model: type[models.Model], rows: list[dict], *, user=None, history_type: str = "+",
                 reason: str = "", now: dt.datetime | None = None) -> int:
    """insert_history for the rows `copy_rows` returned."""
    return _history(model, rows, itemgetter, user=user, history_type=history_type, reason=reason, now=now)
