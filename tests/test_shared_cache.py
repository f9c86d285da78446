"""The shared cache the README documents (`CACHE_URL=redis://…`): its client is installed, and with
Redis configured (the CI step that runs the cache-dependent tests on Redis) it is the cache in use."""

import environ
import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache

from tests.caches import clear_cache

ON_REDIS = settings.CACHES["default"]["BACKEND"].endswith(".RedisCache")


def test_a_redis_cache_url_gives_a_backend_whose_client_is_installed():
    config = environ.Env.cache_url_config("redis://127.0.0.1:6379/1")
    backend = RedisCache(config["LOCATION"], config)

    client = backend._cache  # imports redis (ModuleNotFoundError before the client was a requirement); no connection

    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert client._client.__module__.startswith("redis")


@pytest.mark.skipif(not ON_REDIS, reason="CACHE_URL is not redis://… (the CI step on Redis runs this)")
def test_the_tests_cache_is_redis_and_clearing_it_leaves_other_processes_keys():
    other = RedisCache(settings.CACHES["default"]["LOCATION"], {"KEY_PREFIX": f"{cache.key_prefix}-other"})
    cache.set("mine", 1)
    other.set("theirs", 2)
    try:
        clear_cache()

        assert cache.key_prefix.startswith("registry-test-")
        assert cache.get("mine") is None
        assert other.get("theirs") == 2
    finally:
        other.delete("theirs")
