"""Developer machine: DEBUG on, embedded SQLite, development keys (never use them in production)."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "dev-only-secret-key-change-me-in-production-0123456789")
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("FERNET_KEYS", "dev-only-fernet-key-change-me")

from .base import *  # noqa: F403
