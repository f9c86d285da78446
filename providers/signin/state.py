"""What a login keeps between its start and its callback, and between a first login's steps (the
profile review, the proof of an existing account): all in the browser's session, which lives in
the database (or wherever `SESSION_ENGINE` says), never in process memory, so a login started on
one app server completes on another.

A pending login is found by its `state`, taken out on first use (single use), and refused after
`PENDING_TTL` seconds; a session holds at most `MAX_PENDING` of them (the oldest go first)."""

import time
from typing import Any

PENDING_TTL = 600
MAX_PENDING = 8
_LOGINS = "signin.pending"
_FIRST_LOGIN = "signin.first_login"


def remember(session, state: str, **values: Any) -> None:
    pending = dict(session.get(_LOGINS, {}))
    pending[state] = {**values, "at": time.time()}
    for stale in sorted(pending, key=lambda key: pending[key]["at"])[:-MAX_PENDING]:
        del pending[stale]
    session[_LOGINS] = pending


def take(session, state: str, *, workspace: str, alias: str) -> tuple[dict[str, Any] | None, str]:
    """The pending login of `state` at this workspace's identity provider `alias`, removed from the
    session (single use, even when it is refused here), and "" ; or None and why not ("missing",
    "unknown" — never started in this browser, already used, or started for another identity
    provider —, "expired")."""
    if not state:
        return None, "missing"
    pending = dict(session.get(_LOGINS, {}))
    values = pending.pop(state, None)
    if values is None:
        return None, "unknown"
    session[_LOGINS] = pending
    if values.get("workspace") != workspace or values.get("alias") != alias:
        return None, "unknown"
    if time.time() - values["at"] > PENDING_TTL:
        return None, "expired"
    return values, ""


def hold_first_login(session, **values: Any) -> None:
    """A first login waiting for the user (the profile review, or the proof that an existing
    account with the same email is theirs)."""
    session[_FIRST_LOGIN] = {**values, "at": time.time()}


def first_login(session) -> dict[str, Any] | None:
    values = session.get(_FIRST_LOGIN)
    if not values or time.time() - values["at"] > PENDING_TTL:
        return None
    return values


def drop_first_login(session) -> None:
    session.pop(_FIRST_LOGIN, None)
