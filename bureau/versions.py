"""Version counters for cached reads (the pages' figures, the signed-in user).

A cached value is stored with the versions it was computed from; a change bumps a version, so every
later read sees the difference and recomputes. Nothing is deleted, so a reader that computed from an
older snapshot can only store a value stamped with versions that are already out of date.

A bump happens at once (a read later in the same transaction sees the change) and again when the
transaction commits: a reader that picked up the first bump but read the database before the commit
stored figures under that version, and the second bump retires them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")


def _incr(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:  # not there yet (or evicted): any value differing from the default 0 will do
        cache.set(key, 1, None)


def bump(*keys: str) -> None:
    for key in keys:
        _incr(key)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: [_incr(key) for key in keys])


def current(*keys: str) -> list[int]:
    """The versions of `keys`, in one cache round trip; 0 for a key never bumped."""
    found = cache.get_many(keys)
    return [found.get(key, 0) for key in keys]


def cached(key: str, version_keys: Sequence[str], compute: Callable[[], T | None], timeout: int) -> T | None:
    """`compute()`, cached under `key` until one of `version_keys` is bumped (or `timeout` seconds).

    The entry carries the versions it was computed under, so one cache round trip fetches the entry and
    the current versions together; an entry whose versions differ is ignored and replaced. A None
    result is not cached.
    """
    found = cache.get_many([key, *version_keys])
    stamp = tuple(found.get(k, 0) for k in version_keys)
    entry = found.get(key)
    if entry is not None and entry[0] == stamp:
        return entry[1]
    value = compute()
    if value is not None:
        cache.set(key, (stamp, value), timeout)
    return value
