"""Validators shared by the aggregates: the URL-safe ids and http(s) URLs."""

from django.core.validators import RegexValidator
from django.db import models

from accounts.models import DEFAULT_WORKSPACE_ID
from providers.validation import http_url_validator

SLUG_REGEX = r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"
# A run of the characters ids are made of: URL lookups, and the start of an id a user types.
ID_CHARACTERS = r"[A-Za-z0-9._-]+"
slug_validator = RegexValidator(
    SLUG_REGEX,
    "Use letters, digits, “-”, “_” and “.”, starting and ending with a letter or digit.",
)


def workspace_field(*, related_name: str, on_delete=models.PROTECT) -> models.ForeignKey:
    """The workspace a row belongs to. Rows from before workspaces existed are the default
    workspace's, as are the rows a write names no workspace for."""
    return models.ForeignKey(
        "accounts.Workspace",
        on_delete=on_delete,
        default=DEFAULT_WORKSPACE_ID,
        related_name=related_name,
        help_text="The workspace (tenant) it belongs to.",
    )


__all__ = ["ID_CHARACTERS", "SLUG_REGEX", "http_url_validator", "slug_validator", "workspace_field"]
