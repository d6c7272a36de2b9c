"""Counting the cache calls of bureau.versions (bumps, version reads, cached policies): PERF-6 and the feed
line of bench/run.py, and the tests that hold those counts flat (tests/training/test_bulk_results.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class CountingCache:
    """A cache that counts every call made to it and passes it on to `inner`."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def counted(*args, **kwargs):
            self.calls += 1
            return attr(*args, **kwargs)

        return counted


@contextmanager
def counted_cache_calls() -> Iterator[CountingCache]:
    """bureau.versions' cache counted for the block (`.calls` after it), then put back."""
    from bureau import versions

    counting = CountingCache(versions.cache)
    versions.cache = counting
    try:
        yield counting
    finally:
        versions.cache = counting.inner
