"""Version counters for cached reads (the pages' figures, the signed-in user, whole pages).

A cached value is stored with the versions it was computed from; a change bumps a version, so every
later read sees the difference and recomputes. Nothing is deleted, so a reader that computed from an
older snapshot can only store a value stamped with versions that are already out of date.

A bump happens at once (a read later in the same transaction sees the change) and again when the
transaction commits: a reader that picked up the first bump but read the database before the commit
stored figures under that version, and the second bump retires them.

A counter that is missing (never bumped, evicted, lost in a Redis restart) is started at a random
value, never at 0 or 1, so an entry stamped before the loss cannot match again by chance; an entry is
not trusted in the round that starts a counter.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from django.core.cache import cache
from django.db import models, transaction

T = TypeVar("T")


def _start(key: str) -> None:
    cache.add(key, secrets.randbits(62), None)


def _incr(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:  # missing: any fresh random value differs from every stamp stored so far
        _start(key)


_coalescing = threading.local()


def bump(*keys: str) -> None:
    collecting = getattr(_coalescing, "keys", None)
    if collecting is not None:  # inside coalesced(): bumped once when the block ends
        collecting.update(keys)
        return
    for key in keys:
        _incr(key)
    if transaction.get_connection().in_atomic_block:
        # robust: a cache hiccup at commit must not skip the other commit hooks (mail, reposts)
        transaction.on_commit(lambda: [_incr(key) for key in keys], robust=True)


@contextmanager
def coalesced() -> Iterator[None]:
    """Bump each key once for the whole block (PERF-6): bumps inside are collected and, when the block
    ends, each distinct key is bumped once at once and once on commit (bump). A bulk write of 100,000
    rows in batches then costs two cache calls per key, not two per row per batch.

    The price: a cached read inside the block does not see the block's own changes (its bumps come at the
    end), so wrap writes only (an import's write phase, a job's posting loop). Nested blocks join the
    outermost one. The keys are bumped even when the block raises: a rolled-back write only retires
    cached values that were still good.
    """
    if getattr(_coalescing, "keys", None) is not None:
        yield
        return
    _coalescing.keys = set()
    try:
        yield
    finally:
        keys, _coalescing.keys = _coalescing.keys, None
        if keys:
            bump(*sorted(keys))


def current(*keys: str) -> list[int]:
    """The versions of `keys` (a missing counter is started), in one cache round trip when all exist."""
    return list(_stamp(cache.get_many(keys), keys)[0])


def _stamp(found: dict, keys: Sequence[str]) -> tuple[tuple, bool]:
    """The current versions of `keys` from `found`, starting the missing ones; and whether any was."""
    missing = [k for k in keys if k not in found]
    if missing:
        for key in missing:
            _start(key)
        found.update(cache.get_many(missing))
    return tuple(found.get(k) for k in keys), bool(missing)


def fetch(key: str, version_keys: Sequence[str], *, pinned: Mapping[str, int] | None = None) -> tuple[object | None, tuple]:
    """The value stored under `key` if it is current (else None), and the stamp it is checked against:
    the current versions of `version_keys`, except those `pinned` by the caller (versions it already
    holds, e.g. those the signed-in user was checked under). One cache round trip."""
    keys = tuple(version_keys)
    found = cache.get_many([key, *keys])
    stamp, started = _stamp(found, keys)
    if pinned:
        stamp = tuple(pinned.get(k, v) for k, v in zip(keys, stamp))
    entry = found.get(key)
    if entry is not None and not started and entry[0] == keys and entry[1] == stamp:
        return entry[2], stamp
    return None, stamp


def store(key: str, version_keys: Sequence[str], stamp: tuple, value, timeout: int) -> None:
    cache.set(key, (tuple(version_keys), stamp, value), timeout)


def cached(
    key: str, version_keys: Sequence[str], compute: Callable[[], T | None], timeout: int,
    *, pinned: Mapping[str, int] | None = None,
) -> T | None:
    """`compute()`, cached under `key` until one of `version_keys` is bumped (or `timeout` seconds).

    The entry carries its version keys and the versions it was computed under, so one cache round trip
    fetches the entry and the current versions together; an entry whose versions differ is ignored and
    replaced. None is not cached.
    """
    value, stamp = fetch(key, version_keys, pinned=pinned)
    if value is None:
        value = compute()
        if value is not None:
            store(key, version_keys, stamp, value, timeout)
    return value


# --- The registry: what each model's rows bump (CONVENTIONS habit 18) ------------------------------
#
# Whatever a cached read shows is registered here with the version keys a changed row of it bumps.
# Each app declares its own (caching.py, registered in its AppConfig.ready); saves and deletes bump
# through one pair of receivers, and bulk writes through VersionedQuerySet or `rows_changed`.
# tests/bureau/test_cache_registry.py renders every cached page and fails when a table it reads is
# not registered here.

KeysOf = Callable[[object], Iterable[str]]
# A bulk write of more rows than this bumps a registration's `coarse` keys (when it has them) instead
# of one key per row: an import of 100,000 teachers bumps "all users", not 100,000 user counters.
BULK_ROWS = 200


@dataclass(frozen=True)
class Registration:
    keys_of: KeysOf
    coarse: tuple[str, ...] = ()


_REGISTRY: dict[type, list[Registration]] = {}
_TRACK_BEFORE: set[type] = set()


def register(model: type, keys_of: KeysOf, *, coarse: Iterable[str] = (), track_before: bool = False) -> None:
    """A saved, deleted or bulk-written `model` row bumps `keys_of(row)`. With `track_before`, the row as
    it was before a save bumps its keys too (a teacher leaving a school or an account). `coarse`: keys
    that stand for every row at once, bumped instead when a bulk write touches many rows."""
    from django.db.models.signals import post_delete, post_save, pre_save

    _REGISTRY.setdefault(model, []).append(Registration(keys_of, tuple(coarse)))
    if track_before:
        _TRACK_BEFORE.add(model)
        pre_save.connect(_before_save, sender=model, dispatch_uid=f"versions.before.{model._meta.label}")
    post_save.connect(_row_saved, sender=model, dispatch_uid=f"versions.saved.{model._meta.label}")
    post_delete.connect(_row_saved, sender=model, dispatch_uid=f"versions.deleted.{model._meta.label}")


def registered_models() -> set[type]:
    return set(_REGISTRY)


def registered(model: type) -> bool:
    """Whether rows of `model` bump any cache key."""
    return bool(_REGISTRY.get(model))


def keys_for(model: type, rows: Iterable, *, keys_of: KeysOf | None = None) -> set[str]:
    """Every key the registrations of `model` name for `rows` (coarse keys for many rows).

    `keys_of`: the keys of one row as the caller computes them from what it already holds (a bulk path
    that knows each teacher's school), used instead of the registrations' own functions, which may
    query per row; it must name every key those would."""
    rows = list(rows)
    keys: set[str] = set()
    for registration in _REGISTRY.get(model, []):
        if registration.coarse and len(rows) > BULK_ROWS:
            keys.update(registration.coarse)
        else:
            keys.update(key for row in rows for key in (keys_of or registration.keys_of)(row) if key)
    return keys


def rows_changed(model: type, rows: Iterable) -> None:
    """The one call for writes that send no signals (raw SQL, COPY): bump what `rows` name."""
    keys = keys_for(model, rows)
    if keys:
        bump(*sorted(keys))


def _before_save(sender, instance, raw=False, **kwargs) -> None:
    if raw or instance._state.adding or instance.pk is None:
        return
    old = sender._default_manager.filter(pk=instance.pk).first()
    instance._versions_before = keys_for(sender, [old]) if old is not None else set()


def _row_saved(sender, instance, raw=False, **kwargs) -> None:
    if raw:
        return
    keys = keys_for(sender, [instance]) | getattr(instance, "_versions_before", set())
    if keys:
        bump(*sorted(keys))


class VersionedQuerySet(models.QuerySet):
    """update(), delete(), bulk_create() and bulk_update() of a registered model bump the keys of the
    rows they touch, as they were before and as they are after: no bulk write leaves a cache stale.
    bulk_create() and bulk_update() take `keys_of` (see keys_for) so a bulk path pays no query per row."""

    def _keys(self, rows, keys_of: KeysOf | None = None) -> set[str]:
        return keys_for(self.model, rows, keys_of=keys_of)

    def update(self, **kwargs):
        ids = list(self.values_list("pk", flat=True))
        before = self._keys(self.model._default_manager.filter(pk__in=ids))
        count = super().update(**kwargs)
        after = self._keys(self.model._default_manager.filter(pk__in=ids))
        if before | after:
            bump(*sorted(before | after))
        return count

    def delete(self):
        keys = self._keys(list(self))
        result = super().delete()
        if keys:
            bump(*sorted(keys))
        return result

    def bulk_create(self, objs, *args, keys_of: KeysOf | None = None, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        keys = self._keys(created, keys_of)
        if keys:
            bump(*sorted(keys))
        return created

    def bulk_update(self, objs, fields, *args, keys_of: KeysOf | None = None, **kwargs):
        objs = list(objs)
        before = self._keys(self.model._default_manager.filter(pk__in=[o.pk for o in objs]), keys_of)
        count = super().bulk_update(objs, fields, *args, **kwargs)
        keys = before | self._keys(objs, keys_of)
        if keys:
            bump(*sorted(keys))
        return count
