"""What every write shares: the refusals beyond Django's ValidationError and PermissionDenied,
the acting user, and touching a provider when a part of it changes."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from providers.models import Provider


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
