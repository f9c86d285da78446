"""Optimistic concurrency: reads carry an ETag derived from the row's identity and last change;
a write sent with `If-Match` is applied only if the row (locked inside the write's transaction)
still has that tag, so two clients can never silently overwrite each other."""

import hashlib
from typing import Any

from django.db import models


class PreconditionFailedError(Exception):
    """If-Match named a version that is no longer current: HTTP 412."""


def version_tag(obj: models.Model) -> str:
    return row_version_tag(type(obj), {"pk": obj.pk, "updated_at": getattr(obj, "updated_at", None)})


def row_version_tag(model: type[models.Model], row: dict[str, Any]) -> str:
    """The same tag from a `.values()` row holding `pk` and `updated_at`."""
    updated_at = row["updated_at"]
    return entity_tag(f"{model._meta.label}:{row['pk']}:{updated_at.isoformat() if updated_at else ''}")


def entity_tag(version: str) -> str:
    """A strong ETag for whatever `version` names (a row's identity and last change, a list's state)."""
    return '"' + hashlib.sha256(version.encode()).hexdigest()[:32] + '"'


def header_names_tag(header: str | None, tag: str, *, strong: bool = False) -> bool:
    """Whether an `If-Match` / `If-None-Match` value (`*` or a list of tags) names `tag`. RFC 9110:
    If-None-Match compares weakly (a `W/` prefix is ignored); If-Match compares strongly (`strong`),
    so a weak tag never matches there."""
    tags = {part.strip() for part in (header or "").split(",")}
    if not strong:
        tags = {part.removeprefix("W/") for part in tags}
    return "*" in tags or tag in tags


def check_if_match(obj: models.Model, if_match: str | None) -> None:
    """Absent `If-Match` means no check; a weak tag (`W/"…"`) never matches, `*` always does."""
    if if_match is not None and not header_names_tag(if_match, version_tag(obj), strong=True):
        raise PreconditionFailedError
