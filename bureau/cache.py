"""Django's Redis cache backend with one client per connection pool and no memcached key check.

Django's own `RedisCacheClient.get_client` builds a new `redis.Redis` object for every cache call, and
redis-py copies its ~170 response callbacks into each new client: on the pages that was about a third
of a millisecond per call, several calls per page (profiled for PERF-4, bench/RESULTS.md). A
`redis.Redis` over a connection pool is safe to share between threads, so one per pool is enough.

`validate_key` only warns about keys memcached would refuse (it walks every character of every key);
this backend is Redis, whose keys have no such limits.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class SharedClientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient

    def validate_key(self, key):
        pass
