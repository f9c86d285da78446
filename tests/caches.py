"""Emptying the cache between tests without touching anyone else's keys."""

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


def clear_cache() -> None:
    """Empties the default cache for this test process. On Redis that is only this process's keys (the
    test settings give each process its own KEY_PREFIX): `cache.clear()` would FLUSHDB, wiping the
    counters of a parallel pytest-xdist worker, or another run, using the same database."""
    cache = caches["default"]  # the backend itself: `django.core.cache.cache` is a proxy to it
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
