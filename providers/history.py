"""History entries for changes made through the services, in the admin's own format so the
admin's "History" page shows API and admin changes alike, each mirrored in the audit log.
Field names only, never values."""

import json
from collections.abc import Iterable
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db import models

from . import audit


def field_values(obj: models.Model, names: Iterable[str]) -> dict[str, Any]:
    """The values a write starts from, for `changed_fields` once it has set the new ones."""
    return {name: getattr(obj, name) for name in names}


def changed_fields(obj: models.Model, before: dict[str, Any]) -> list[str]:
    """The fields whose value really changed since `field_values`: what a write saves and what
    its history entry and audit event name."""
    return [name for name, value in before.items() if getattr(obj, name) != value]


def field_labels(model: type[models.Model], names: list[str]) -> list[str]:
    """The changed fields as the history shows them: the model's verbose names; a name that is
    not one of its fields (`credentials`) as it is."""
    fields = {field.name: field for field in model._meta.get_fields() if hasattr(field, "verbose_name")}
    return [str(fields[name].verbose_name) if name in fields else name for name in names]


def _log(*, actor, obj: models.Model, action_flag: int, message: list | None) -> None:
    if actor is None or not actor.is_authenticated:
        return
    LogEntry.objects.log_actions(
        user_id=actor.pk,
        queryset=[obj],
        action_flag=action_flag,
        change_message="" if message is None else json.dumps(message),
        single_object=True,
    )


def log_addition(*, actor, obj: models.Model) -> None:
    _log(actor=actor, obj=obj, action_flag=ADDITION, message=[{"added": {}}])
    audit.record(action="create", actor=actor, obj=obj)


def log_change(*, actor, obj: models.Model, fields: list[str], action: str = "update", detail: str = "") -> None:
    """`detail`: what the audit event adds about the change (never a value that is a secret)."""
    if fields:
        _log(actor=actor, obj=obj, action_flag=CHANGE, message=[{"changed": {"fields": fields}}])
        audit.record(action=action, actor=actor, obj=obj, fields=fields, detail=detail)


def log_deletion(*, actor, obj: models.Model) -> None:
    # As the admin's own deletions: no message ("deleted" sub-messages are for inline objects).
    _log(actor=actor, obj=obj, action_flag=DELETION, message=None)
    audit.record(action="delete", actor=actor, obj=obj)
