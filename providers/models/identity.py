"""An identity provider's login configuration, with the domains it serves and its mappers."""

import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from fernet_fields import EncryptedTextField

from providers.catalog import KNOWN_PROVIDER_CHOICES, KNOWN_PROVIDERS, OAUTH2, OIDC, PROTOCOL_CHOICES, PROTOCOLS, SAML
from providers.identity import catalogue

from .common import IdentityPartWorkspaceManager, ProviderPartWorkspaceManager
from .provider import Provider


class IdentityProvider(models.Model):
    """The login configuration of a provider whose type has the identity capability: protocol
    (OIDC, OAuth 2.0 or SAML), its endpoints and client, broker options and lifecycle. The
    provider row holds the alias (`provider_id`), display name (`label`) and `enabled`.

    The settings themselves (endpoints, client, broker options, SAML, lifecycle) are the columns of
    the field catalogue, added below the class: `providers.identity.catalogue.FIELDS`."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending domain verification"
        ACTIVE = "active", "Active"

    SyncMode = catalogue.SyncMode
    ClientAuthMethod = catalogue.ClientAuthMethod
    PkceMethod = catalogue.PkceMethod
    FirstLoginMode = catalogue.FirstLoginMode
    PrincipalType = catalogue.PrincipalType

    provider = models.OneToOneField(Provider, on_delete=models.CASCADE, related_name="identity")
    internal_id = models.UUIDField(
        "internal id", default=uuid.uuid4, editable=False, help_text="Opaque id used by the public login list."
    )
    protocol = models.CharField(
        max_length=10,
        choices=PROTOCOL_CHOICES,
        help_text="How users sign in through it, e.g. “OpenID Connect” for Okta. Cannot be changed later.",
    )
    known_provider = models.CharField(
        "known provider",
        max_length=32,
        choices=KNOWN_PROVIDER_CHOICES,
        blank=True,
        help_text="Preset it is based on, e.g. “Okta”: fills the endpoints from the issuer.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, editable=False)
    client_secret_updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    certificate_expires_at = models.DateTimeField("certificate expires at", null=True, blank=True, editable=False)
    verification_token = models.CharField(max_length=64, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    keycloak_kept = models.JSONField(
        "kept Keycloak keys",
        default=dict,
        blank=True,
        editable=False,
        help_text="Keys of Keycloak's representation the registry keeps without acting on them "
        '(top level, and `config` inside), returned as they were sent, e.g. {"config": {"guiOrder": "1"}}.',
    )

    sp_private_key = EncryptedTextField("service provider key", null=True, blank=True, editable=False)
    sp_certificate = models.TextField("service provider certificate", blank=True, editable=False)
    sp_certificate_expires_at = models.DateTimeField(
        "service provider certificate expires at", null=True, blank=True, editable=False
    )
    sp_next_private_key = EncryptedTextField("next service provider key", null=True, blank=True, editable=False)
    sp_next_certificate = models.TextField(
        "next service provider certificate",
        blank=True,
        editable=False,
        help_text="Published in the metadata before it signs: the rollover's next key.",
    )
    # The pair the last activation replaced: it still decrypts (an identity provider may encrypt for
    # it until it refreshes this registry's metadata) but never signs and is not published, until
    # `sp_key_forget_previous`.
    sp_previous_private_key = EncryptedTextField("previous service provider key", null=True, blank=True, editable=False)
    sp_previous_certificate = models.TextField(
        "previous service provider certificate",
        blank=True,
        editable=False,
        help_text="Replaced by the last rollover: still decrypts assertions encrypted for it until forgotten.",
    )

    objects = ProviderPartWorkspaceManager()

    # The encrypted columns: reads that show identity providers never load (nor decrypt) them.
    SECRET_COLUMNS = ("client_secret", "sp_private_key", "sp_next_private_key", "sp_previous_private_key")

    class Meta:
        verbose_name = "identity provider"
        ordering = ["provider__provider_id"]
        constraints = [
            models.UniqueConstraint(fields=["internal_id"], name="identity_provider_internal_id_unique"),
            models.CheckConstraint(
                condition=models.Q(protocol__in=list(PROTOCOLS)), name="identity_provider_protocol_known"
            ),
        ]

    if TYPE_CHECKING:
        # The catalogue's columns, added below the class, which type checkers cannot see.
        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...

    def __str__(self) -> str:
        return str(self.provider)

    def fill_from_preset(self) -> None:
        """Endpoints and scope left empty take the known provider's defaults (OIDC and OAuth 2.0)."""
        preset = KNOWN_PROVIDERS.get(self.known_provider)
        if preset is None or self.protocol not in (OIDC, OAUTH2):
            return
        for name, value in preset.defaults(self.issuer).items():
            if not getattr(self, name):
                setattr(self, name, value)

    def clean(self) -> None:
        """What each protocol needs to be usable for a login, once the preset has filled what was
        left empty. A stored client secret needs its client id."""
        self.fill_from_preset()
        errors: dict[str, list[str]] = {}
        if self.protocol == OIDC and not self.issuer and not (self.authorization_url and self.token_url):
            errors["issuer"] = ["Give the issuer (to discover the endpoints) or the authorization and token URLs."]
        if self.protocol == OAUTH2:
            for name in ("authorization_url", "token_url"):
                if not getattr(self, name):
                    errors[name] = ["This field is required for OAuth 2.0."]
        if self.protocol in (OIDC, OAUTH2) and self.client_secret_updated_at and not self.client_id:
            errors["client_id"] = ["A client secret needs its client id."]
        if self.protocol == SAML:
            if not self.single_sign_on_service_url:
                errors["single_sign_on_service_url"] = ["This field is required for SAML."]
            if not self.signing_certificate:
                errors["signing_certificate"] = ["This field is required for SAML."]
        if errors:
            raise ValidationError(errors)

    @property
    def txt_record(self) -> str:
        """The DNS TXT value that proves control of the provider's domains."""
        return f"{settings.IDP_TXT_RECORD_PREFIX}-verification={self.verification_token}"


for _field in catalogue.FIELDS:
    IdentityProvider.add_to_class(_field.name, _field.model_field())


class IdentityProviderDomain(models.Model):
    """A domain the identity provider serves; proven by a DNS TXT record before the provider is active."""

    identity = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253)
    verified_at = models.DateTimeField(null=True, blank=True)

    objects = IdentityPartWorkspaceManager()

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(fields=["identity", "domain"], name="identity_domain_unique"),
        ]

    def __str__(self) -> str:
        return self.domain


class IdentityProviderMapper(models.Model):
    """Maps a claim or attribute of the provider's login to a user attribute, group or username."""

    identity = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="mappers")
    name = models.CharField(max_length=100, help_text="e.g. “email from claim”.")
    mapper_type = models.CharField("mapper type", max_length=64)
    sync_mode = models.CharField(
        "sync mode",
        max_length=10,
        choices=IdentityProvider.SyncMode.choices,
        default=IdentityProvider.SyncMode.INHERIT,
        help_text="e.g. “Inherit” (the provider's).",
    )
    config = models.JSONField(
        default=dict,
        blank=True,
        help_text='Fields of its mapper type, e.g. {"claim": "email", "user_attribute": "email"}.',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IdentityPartWorkspaceManager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["identity", "name"], name="identity_mapper_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class FederatedIdentity(models.Model):
    """A user's account at an identity provider: the provider's subject (`sub`, or a SAML NameID)
    linked to a local user. One per (identity provider, subject) and per (user, identity provider).
    `token` holds the provider's tokens, encrypted, only when the identity provider's `store_token`
    is on; `token_readable` says whether the user may read them through the API
    (`add_read_token_role_on_create` at the link)."""

    identity = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="federated_identities")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="federated_identities")
    subject = models.CharField(max_length=255, help_text="The provider's id of the user (`sub`, NameID).")
    username = models.CharField(max_length=255, blank=True, help_text="The user name the provider gave.")
    email = models.CharField(max_length=254, blank=True, help_text="The email address the provider gave.")
    token = EncryptedTextField(null=True, blank=True, editable=False)
    token_readable = models.BooleanField("token readable by the user", default=False, editable=False)
    first_login_at = models.DateTimeField("first login", auto_now_add=True)
    last_login_at = models.DateTimeField("last login")

    objects = IdentityPartWorkspaceManager()

    class Meta:
        verbose_name = "federated identity"
        verbose_name_plural = "federated identities"
        ordering = ["identity", "subject"]
        constraints = [
            models.UniqueConstraint(fields=["identity", "subject"], name="federated_identity_subject_unique"),
            models.UniqueConstraint(fields=["user", "identity"], name="federated_identity_user_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.username or self.subject} at {self.identity}"


class SamlAssertionUse(models.Model):
    """An assertion ID a SAML sign-in has used: a second use is a replay. Kept in the database so
    the refusal holds across app servers, until the assertion's own NotOnOrAfter."""

    identity = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="used_assertions")
    assertion_id = models.CharField(max_length=255)
    not_on_or_after = models.DateTimeField(db_index=True)

    objects = IdentityPartWorkspaceManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["identity", "assertion_id"], name="saml_assertion_used_once"),
        ]

    def __str__(self) -> str:
        return self.assertion_id
