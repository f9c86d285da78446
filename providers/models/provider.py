"""A provider and its credentials: the current set and the replaced versions kept for rollback."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from fernet_fields import EncryptedTextField

from providers.catalog import CAPABILITIES, CREDENTIAL_TYPE_CHOICES, PROVIDER_TYPE_CHOICES, PROVIDER_TYPES

from .common import (
    SLUG_REGEX,
    ProviderPartWorkspaceManager,
    WorkspaceManager,
    http_url_validator,
    slug_validator,
    workspace_field,
)


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
    description = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(2000)],
        help_text="Optional notes for operators, e.g. “Service account owned by the platform team”.",
    )
    type = models.CharField(
        max_length=32,
        choices=PROVIDER_TYPE_CHOICES,
        help_text="The system it is, e.g. “GitHub”: sets the default URLs and the credential types accepted.",
    )
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
    enabled = models.BooleanField(
        default=True, help_text="Disabled providers stay registered but are not offered to projects or logins."
    )
    last_tested_at = models.DateTimeField("last tested at", null=True, blank=True, editable=False)
    last_test_ok = models.BooleanField("last test passed", null=True, blank=True, editable=False)
    last_test_message = models.CharField("last test result", max_length=500, blank=True, editable=False)
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

    managed_by = models.CharField(
        "managed by",
        max_length=100,
        blank=True,
        editable=False,
        help_text="The configuration file that manages it (its `managedBy`), e.g. “platform-prod”; "
        "empty when it is managed by hand.",
    )

    workspace = workspace_field(related_name="providers")

    objects = WorkspaceManager()

    class Meta:
        ordering = ["provider_id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "provider_id"], name="provider_id_unique"),
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


class CredentialMetadataManager(models.Manager):
    """Related lookups and deletion collection load credentials without decrypting them. Not
    scoped (it is the base manager Django's own lookups use): the selectors reading through it
    scope their querysets (`providers.selectors`)."""

    def get_queryset(self):
        return super().get_queryset().defer("secret")


class Credential(models.Model):
    """A provider's service-account credentials. `secret` holds the JSON content, Fernet-encrypted
    with the first of FERNET_KEYS; everything else is metadata that reads may show."""

    provider = models.OneToOneField(Provider, on_delete=models.CASCADE, related_name="credential")
    type = models.CharField(max_length=32, choices=CREDENTIAL_TYPE_CHOICES)
    secret = EncryptedTextField()
    fingerprint = models.CharField(
        max_length=80, help_text="Keyed hash of the content: tells two secrets apart without revealing them."
    )
    expires_at = models.DateTimeField(
        "expires at", null=True, blank=True, help_text="When the provider stops accepting these credentials."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="credentials_updated",
    )

    objects = ProviderPartWorkspaceManager()
    metadata = CredentialMetadataManager()

    class Meta:
        ordering = ["provider_id"]
        base_manager_name = "metadata"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(type__in=[key for key, _ in CREDENTIAL_TYPE_CHOICES]),
                name="credential_type_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} for {self.provider.provider_id}"


class CredentialVersion(models.Model):
    """A replaced set of credentials, kept encrypted (never readable through the API) so operators
    can see the rotation history and roll back within the configured window."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="credential_versions")
    type = models.CharField(max_length=32, choices=CREDENTIAL_TYPE_CHOICES)
    secret = EncryptedTextField()
    fingerprint = models.CharField(max_length=80)
    expires_at = models.DateTimeField(null=True, blank=True)
    set_at = models.DateTimeField(help_text="When these credentials became current.")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    replaced_at = models.DateTimeField(auto_now_add=True)
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ProviderPartWorkspaceManager()
    metadata = CredentialMetadataManager()

    class Meta:
        ordering = ["-replaced_at", "-id"]
        base_manager_name = "metadata"
        indexes = [models.Index(fields=["provider", "-replaced_at"], name="credential_version_recent")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.fingerprint} (replaced {self.replaced_at:%Y-%m-%d})"
