"""A project and the git provider hosting its repository."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models

from providers.catalog import GIT, types_with_capability

from .common import SLUG_REGEX, WorkspaceManager, slug_validator, workspace_field
from .provider import Provider

INVALID_PROVIDER = "Choose an existing git provider."


class Project(models.Model):
    """A project whose repository lives on a git provider; owners may edit their own projects."""

    project_id = models.CharField(
        "project id",
        max_length=64,
        validators=[slug_validator],
        help_text="Stable, URL-safe id, e.g. “payments-api”.",
    )
    name = models.CharField(max_length=200, help_text="Human-readable name, e.g. “Payments API”.")
    description = models.TextField(
        blank=True, validators=[MaxLengthValidator(2000)], help_text="Optional, e.g. “Card payments backend”."
    )
    provider = models.ForeignKey(
        Provider,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="projects",
        verbose_name="provider",
        limit_choices_to={"type__in": types_with_capability(GIT)},
        error_messages={"invalid": INVALID_PROVIDER},
        help_text="The git provider hosting the repository (its providerId), e.g. “my-github-provider”.",
    )
    repository_path = models.CharField(
        "repository path",
        max_length=500,
        blank=True,
        help_text="Path of the repository on the provider, e.g. “acme/payments-api”.",
    )
    owners = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="owned_projects",
        help_text="Users who may change this project's provider and repository, e.g. its team lead.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    managed_by = models.CharField(
        "managed by",
        max_length=100,
        blank=True,
        editable=False,
        help_text="The configuration file that manages it (its `managedBy`); empty when managed by hand.",
    )

    workspace = workspace_field(related_name="projects")

    objects = WorkspaceManager()

    class Meta:
        ordering = ["project_id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "project_id"], name="project_id_unique"),
            models.CheckConstraint(condition=models.Q(project_id__regex=SLUG_REGEX), name="project_id_url_safe"),
        ]
        permissions = [("manage_all_projects", "Can see and change every project and all its fields")]

    def __str__(self) -> str:
        return f"{self.name} ({self.project_id})"

    def clean(self) -> None:
        """References never cross workspaces: the git provider is one of the project's own
        workspace. Said as for a provider that does not exist, so another workspace's ids do not
        show through."""
        provider = self.provider if self.provider_id is not None else None
        if provider is not None and provider.workspace_id != self.workspace_id:
            raise ValidationError({"provider": [INVALID_PROVIDER]})
