"""What every write shares: the refusals beyond Django's ValidationError and PermissionDenied,
the acting user, and touching a provider when a part of it changes."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.utils import timezone

from providers.models import Provider


class ConflictError(Exception):
    """The request clashes with the current state (duplicate id, object still in use): HTTP 409."""

    def __init__(self, message: str, *, field: str | None = None, related: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.related = related or []


def violates(exc: IntegrityError, *, constraint: str, table: str, column: str) -> bool:
    """Whether `exc` is a violation of the named unique constraint. PostgreSQL names the
    constraint; SQLite names only the table and column (“UNIQUE constraint failed: t.c”)."""
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:
        return diag.constraint_name == constraint
    return str(exc) == f"UNIQUE constraint failed: {table}.{column}"


class FieldPermissionDenied(PermissionDenied):
    """The actor may use the object but not change these fields: HTTP 403 naming them."""

    def __init__(self, fields: list[str]):
        super().__init__("You may not change these fields.")
        self.fields = fields


def actor_user(actor):
    return actor if actor is not None and actor.is_authenticated else None


def provider_touch(*, provider_pk: int, actor=None) -> None:
    """A change to a part of a provider (credentials rolled back, identity status, mappers) is a
    change of the provider: its ETag and the public login list's version follow `updated_at`."""
    changes: dict[str, Any] = {"updated_at": timezone.now()}
    if actor_user(actor) is not None:
        changes["updated_by"] = actor_user(actor)
    Provider.objects.filter(pk=provider_pk).update(**changes)
