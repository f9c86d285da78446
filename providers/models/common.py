"""Validators shared by the aggregates: the URL-safe ids and http(s) URLs."""

from django.core.validators import RegexValidator
from django.db import models

from accounts.scoping import WorkspaceManager, current_workspace_id
from providers.validation import http_url_validator

SLUG_REGEX = r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"
# A run of the characters ids are made of: URL lookups, and the start of an id a user types.
ID_CHARACTERS = r"[A-Za-z0-9._-]+"
slug_validator = RegexValidator(
    SLUG_REGEX,
    "Use letters, digits, “-”, “_” and “.”, starting and ending with a letter or digit.",
)


def workspace_field(*, related_name: str, on_delete=models.PROTECT) -> models.ForeignKey:
    """The workspace a row belongs to: by default the workspace the request acts on (see
    `accounts.scoping`). Rows from before workspaces existed are the default workspace's."""
    return models.ForeignKey(
        "accounts.Workspace",
        on_delete=on_delete,
        default=current_workspace_id,
        related_name=related_name,
        help_text="The workspace (tenant) it belongs to.",
    )


class ProviderPartWorkspaceManager(WorkspaceManager):
    """For what belongs to one provider (its identity configuration, its credentials and their
    versions): the workspace is its provider's."""

    workspace_path = "provider__workspace"


class IdentityPartWorkspaceManager(WorkspaceManager):
    """For what hangs off an identity configuration (domains, mappers)."""

    workspace_path = "identity__provider__workspace"


__all__ = [
    "ID_CHARACTERS",
    "SLUG_REGEX",
    "http_url_validator",
    "slug_validator",
    "workspace_field",
]
