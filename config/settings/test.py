"""Test suite: fixed keys, fast password hashing; the database comes from DATABASE_URL (SQLite by default)."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("FERNET_KEYS", "test-fernet-key-primary,test-fernet-key-old")

from .base import *  # noqa: F403
from .base import CACHES, DATABASES, REST_FRAMEWORK

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, as SQLite is deployed: an in-memory database's shared cache locks tables instead of the
    # file, and its writers fail at once instead of waiting, so concurrency would not be tested.
    # On tmpfs when there is one, so it costs little more than memory (pytest-xdist suffixes the name).
    _tmp = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    DATABASES["default"]["TEST"] = {"NAME": str(_tmp / f"registry-test-{os.getpid()}.sqlite3")}
if CACHES["default"]["BACKEND"].endswith(".RedisCache"):
    # CACHE_URL=redis://…: one key namespace per test process (each pytest-xdist worker, each run), so
    # parallel workers and other runs on the same Redis database never see each other's counters, and
    # tests empty only their own (tests/caches.py).
    CACHES["default"]["KEY_PREFIX"] = f"registry-test-{os.getpid()}"
API_TOKEN_LAST_USED_RESOLUTION = 0
WHITENOISE_AUTOREFRESH = True
OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
OUTBOUND_TIMEOUT = 2.0
WHITENOISE_USE_FINDERS = True
REST_FRAMEWORK = {**REST_FRAMEWORK, "TEST_REQUEST_DEFAULT_FORMAT": "json"}
API_THROTTLE_ANON = "100000/min"
API_THROTTLE_USER = "100000/min"
API_TOKEN_FAILURE_LIMIT = 100000
