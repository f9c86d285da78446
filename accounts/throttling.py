"""API rate limits read from settings at request time (so operators and tests can change them),
and the lockout of addresses that keep presenting invalid API tokens."""

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class AnonymousThrottle(AnonRateThrottle):
    def get_rate(self):
        return settings.API_THROTTLE_ANON


class UserThrottle(UserRateThrottle):
    def get_rate(self):
        return settings.API_THROTTLE_USER


def _failure_key(ip: str | None) -> str:
    return f"api-token-failures:{ip or 'unknown'}"


def check_token_lockout(request) -> None:
    """Refuse (429) every token from an address that sent too many invalid ones recently."""
    failures = cache.get(_failure_key(request.META.get("REMOTE_ADDR")), 0)
    if failures >= settings.API_TOKEN_FAILURE_LIMIT:
        raise exceptions.Throttled(
            wait=settings.API_TOKEN_LOCKOUT_SECONDS, detail="Too many invalid API tokens from this address."
        )


def record_token_failure(request) -> None:
    key = _failure_key(request.META.get("REMOTE_ADDR"))
    if cache.add(key, 1, timeout=settings.API_TOKEN_LOCKOUT_SECONDS):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=settings.API_TOKEN_LOCKOUT_SECONDS)
