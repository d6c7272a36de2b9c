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
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")


def _start(key: str) -> None:
    cache.add(key, secrets.randbits(62), None)


def _incr(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:  # missing: any fresh random value differs from every stamp stored so far
        _start(key)


def bump(*keys: str) -> None:
    for key in keys:
        _incr(key)
    if transaction.get_connection().in_atomic_block:
        # robust: a cache hiccup at commit must not skip the other commit hooks (mail, reposts)
        transaction.on_commit(lambda: [_incr(key) for key in keys], robust=True)


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
