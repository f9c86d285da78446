"""API rate limits read from settings at request time (so operators and tests can change them),
and the lockout of addresses that keep presenting invalid API tokens."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class CountingThrottle:
    """A counter per client and window instead of DRF's list of every request's time: DRF reads,
    trims and writes back (pickled) up to a whole window of timestamps on each request, which cost
    0.37–0.40 ms per request at 10k entries, against 0.008 ms for a counter (bench/NOTES.md); and
    the increment is atomic in a shared cache such as Redis. The window starts at a client's first
    request and lasts the rate's period; `Retry-After` says when it ends."""

    cache: Any
    duration: int
    num_requests: int
    rate: str | None
    timer: Callable[[], float]
    get_cache_key: Callable[[Any, Any], str | None]  # from DRF's throttle this is mixed into

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        self.started_key = f"{key}:started"
        try:
            count = self.cache.incr(key)
        except ValueError:  # no window yet (or it just ended): open one
            if self.cache.add(key, 1, self.duration):
                self.cache.set(self.started_key, self.now, self.duration)
                count = 1
            else:  # another request opened it meanwhile
                count = self.cache.incr(key)
        return count <= self.num_requests

    def wait(self) -> float:
        started = self.cache.get(self.started_key)
        return max(started + self.duration - self.now, 1) if started is not None else self.duration


class AnonymousThrottle(CountingThrottle, AnonRateThrottle):
    def get_rate(self):
        return settings.API_THROTTLE_ANON


class UserThrottle(CountingThrottle, UserRateThrottle):
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
