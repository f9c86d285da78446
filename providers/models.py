from django.conf import settings
from django.core.validators import MaxLengthValidator, RegexValidator, URLValidator
from django.db import models
from fernet_fields import EncryptedTextField

from .catalog import (
    CAPABILITIES,
    CREDENTIAL_TYPE_CHOICES,
    GIT,
    PROVIDER_TYPE_CHOICES,
    PROVIDER_TYPES,
    types_with_capability,
)

SLUG_REGEX = r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"
slug_validator = RegexValidator(
    SLUG_REGEX,
    "Use letters, digits, “-”, “_” and “.”, starting and ending with a letter or digit.",
)
http_url_validator = URLValidator(schemes=["https", "http"])


class Provider(models.Model):
    """An external system (git hosting or identity provider) that projects depend on.

    `provider_id` is the public, user-chosen key used in URLs and by projects; it never changes
    once created, so links from projects and clients stay valid."""

    provider_id = models.CharField(
        "provider id",
        max_length=64,
        validators=[slug_validator],
        help_text="Stable, URL-safe id chosen at creation, e.g. “my-github-provider”. Cannot be changed later.",
    )
    label = models.CharField(max_length=200, help_text="Human-readable name, e.g. “Company GitHub”.")
    description = models.TextField(blank=True, validators=[MaxLengthValidator(2000)])
    type = models.CharField(max_length=32, choices=PROVIDER_TYPE_CHOICES)
    base_url = models.CharField(
        "base URL",
        max_length=500,
        blank=True,
        validators=[http_url_validator],
        help_text="Web address of the provider, e.g. https://gitlab.example.com. "
        "Left empty, the type's public default is used when it has one.",
    )
    api_base_url = models.CharField(
        "API base URL",
        max_length=500,
        blank=True,
        validators=[http_url_validator],
        help_text="Base of the provider's REST API, e.g. https://gitlab.example.com/api/v4.",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="providers_created",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="providers_updated",
    )

    class Meta:
        ordering = ["provider_id"]
        constraints = [
            models.UniqueConstraint(fields=["provider_id"], name="provider_id_unique"),
            models.CheckConstraint(condition=models.Q(provider_id__regex=SLUG_REGEX), name="provider_id_url_safe"),
            models.CheckConstraint(condition=models.Q(type__in=list(PROVIDER_TYPES)), name="provider_type_known"),
        ]
        permissions = [("select_provider", "Can pick a provider for a project")]

    def __str__(self) -> str:
        return f"{self.label} ({self.provider_id})"

    @property
    def capability(self) -> str:
        return PROVIDER_TYPES[self.type].capability

    @property
    def capability_label(self) -> str:
        return CAPABILITIES[self.capability]


class Credential(models.Model):
    """A provider's service-account credentials. `secret` holds the JSON content, Fernet-encrypted
    with the first of FERNET_KEYS; everything else is metadata that reads may show."""

    provider = models.OneToOneField(Provider, on_delete=models.CASCADE, related_name="credential")
    type = models.CharField(max_length=32, choices=CREDENTIAL_TYPE_CHOICES)
    secret = EncryptedTextField()
    fingerprint = models.CharField(
        max_length=80, help_text="Keyed hash of the content: tells two secrets apart without revealing them."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="credentials_updated",
    )

    class Meta:
        ordering = ["provider_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(type__in=[key for key, _ in CREDENTIAL_TYPE_CHOICES]),
                name="credential_type_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} for {self.provider.provider_id}"


class Project(models.Model):
    """A project whose repository lives on a git provider; owners may edit their own projects."""

    project_id = models.CharField(
        "project id",
        max_length=64,
        validators=[slug_validator],
        help_text="Stable, URL-safe id, e.g. “payments-api”.",
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, validators=[MaxLengthValidator(2000)])
    provider = models.ForeignKey(
        Provider,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="projects",
        verbose_name="provider",
        limit_choices_to={"type__in": types_with_capability(GIT)},
        error_messages={"invalid": "Choose an existing git provider."},
        help_text="The git provider hosting the repository (its providerId).",
    )
    repository_path = models.CharField(
        "repository path",
        max_length=500,
        blank=True,
        help_text="Path of the repository on the provider, e.g. “acme/payments-api”.",
    )
    owners = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="owned_projects")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project_id"]
        constraints = [
            models.UniqueConstraint(fields=["project_id"], name="project_id_unique"),
            models.CheckConstraint(condition=models.Q(project_id__regex=SLUG_REGEX), name="project_id_url_safe"),
        ]
        permissions = [("manage_all_projects", "Can see and change every project and all its fields")]

    def __str__(self) -> str:
        return f"{self.name} ({self.project_id})"
