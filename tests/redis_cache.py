"""The production cache backend (django-redis on a real Redis) for tests whose behaviour depends on it."""

import os


def redis_cache_settings() -> dict:
    url = os.environ.get("TEST_REDIS_CACHE_URL", "redis://127.0.0.1:6379/13")
    return {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url, "KEY_PREFIX": "tests"}}
