"""Work that must not run twice at once across processes (PostgreSQL advisory locks)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def one_at_a_time(name: str) -> Iterator[None]:
    """Hold the lock called `name` for the block: a second holder waits until the first is done.

    A session-level advisory lock, so it spans the block's own transactions. SQLite (the quick start)
    has one writer at a time anyway: there it does nothing.
    """
    if connection.vendor != "postgresql":
        yield
        return
    key = zlib.crc32(name.encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
