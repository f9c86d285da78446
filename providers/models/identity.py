"""An identity provider's login configuration, with the domains it serves and its mappers."""

import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from fernet_fields import EncryptedTextField

from providers.catalog import KNOWN_PROVIDER_CHOICES, PROTOCOL_CHOICES, PROTOCOLS

from .common import http_url_validator
from .provider import Provider


class IdentityProvider(models.Model):
    """The login configuration of a provider whose type has the identity capability: protocol
    (OIDC, OAuth 2.0 or SAML), its endpoints and client, broker options and lifecycle. The
    provider row holds the alias (`provider_id`), display name (`label`) and `enabled`."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending domain verification"
        ACTIVE = "active", "Active"

    class SyncMode(models.TextChoices):
        INHERIT = "INHERIT", "Inherit"
        IMPORT = "IMPORT", "Import"
        LEGACY = "LEGACY", "Legacy"
        FORCE = "FORCE", "Force"

    class ClientAuthMethod(models.TextChoices):
        BASIC = "client_secret_basic", "Client secret as basic auth"
        POST = "client_secret_post", "Client secret sent in the body"
        SECRET_JWT = "client_secret_jwt", "JWT signed with the client secret"
        PRIVATE_KEY_JWT = "private_key_jwt", "JWT signed with a private key"

    class PkceMethod(models.TextChoices):
        S256 = "S256", "S256"
        PLAIN = "plain", "plain"

    class FirstLoginMode(models.TextChoices):
        ON = "on", "On"
        OFF = "off", "Off"
        MISSING = "missing", "Only when information is missing"

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
    sync_mode = models.CharField(
        "sync mode",
        max_length=10,
        choices=SyncMode.choices,
        default=SyncMode.INHERIT,
        help_text="When mapped attributes are written to the user: e.g. “Force” on every login, “Import” on the first.",
    )

    # Broker options
    trust_email = models.BooleanField(
        default=False, help_text="Trust the e-mail addresses this provider asserts (no re-verification)."
    )
    store_token = models.BooleanField(default=False, help_text="Keep the tokens obtained at login.")
    add_read_token_role_on_create = models.BooleanField(
        default=False, help_text="New users may read the stored tokens (broker.read-token role)."
    )
    authenticate_by_default = models.BooleanField(
        default=False, help_text="Redirect to this provider as soon as the login page loads."
    )
    link_only = models.BooleanField(default=False, help_text="Users may only link accounts, not log in with it.")
    hide_on_login = models.BooleanField(default=False, help_text="Leave it out of the public login list.")
    first_broker_login_flow_alias = models.CharField(
        "first broker login flow",
        max_length=100,
        default="first broker login",
        blank=True,
        help_text="Flow run when a user signs in through it for the first time, e.g. “first broker login”.",
    )
    update_profile_first_login_mode = models.CharField(
        "update profile on first login",
        max_length=10,
        choices=FirstLoginMode.choices,
        default=FirstLoginMode.ON,
        help_text="Whether users review their profile on their first login, e.g. “on”.",
    )

    # OpenID Connect / OAuth 2.0
    client_id = models.CharField(
        "client id", max_length=255, blank=True, help_text="The OAuth 2.0 client id, e.g. “0oa1b2c3d4Example”."
    )
    client_secret = EncryptedTextField("client secret", null=True, blank=True)
    client_secret_updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    issuer = models.CharField(
        max_length=500,
        blank=True,
        validators=[http_url_validator],
        help_text="The provider's issuer URL, e.g. https://acme.okta.com/oauth2/default.",
    )
    authorization_url = models.CharField(
        "authorization URL",
        max_length=500,
        blank=True,
        validators=[http_url_validator],
        help_text="Where users are sent to sign in, e.g. https://acme.okta.com/oauth2/default/v1/authorize.",
    )
    token_url = models.CharField(
        "token URL",
        max_length=500,
        blank=True,
        validators=[http_url_validator],
        help_text="Where codes are exchanged for tokens, e.g. https://acme.okta.com/oauth2/default/v1/token.",
    )
    user_info_url = models.CharField(
        "user info URL",
        max_length=500,
        blank=True,
        validators=[http_url_validator],
        help_text="Returns the user's claims, e.g. https://acme.okta.com/oauth2/default/v1/userinfo.",
    )
    jwks_url = models.CharField(
        "JWKS URL",
        max_length=500,
        blank=True,
        validators=[http_url_validator],
        help_text="The provider's signing keys, e.g. https://acme.okta.com/oauth2/default/v1/keys.",
    )
    logout_url = models.CharField(
        "logout URL",
        max_length=500,
        blank=True,
        validators=[http_url_validator],
        help_text="Optional end-session endpoint, e.g. https://acme.okta.com/oauth2/default/v1/logout.",
    )
    default_scope = models.CharField(
        "default scope", max_length=500, blank=True, help_text="Space-separated, e.g. “openid email profile”."
    )
    client_auth_method = models.CharField(
        "client authentication",
        max_length=32,
        choices=ClientAuthMethod.choices,
        default=ClientAuthMethod.BASIC,
        help_text="How the client secret is sent to the token URL, e.g. HTTP Basic (client_secret_basic).",
    )
    validate_signature = models.BooleanField(
        "validate signatures", default=True, help_text="Check the signature of the ID tokens it issues."
    )
    use_jwks_url = models.BooleanField(
        "use JWKS URL", default=True, help_text="Fetch the signing keys from the JWKS URL (and follow key rollover)."
    )
    pkce_enabled = models.BooleanField(
        "PKCE", default=False, help_text="Protect the authorization code with PKCE (RFC 7636)."
    )
    pkce_method = models.CharField(
        "PKCE method",
        max_length=5,
        choices=PkceMethod.choices,
        default=PkceMethod.S256,
        help_text="e.g. S256 (recommended) or plain.",
    )

    # SAML 2.0
    entity_id = models.CharField(
        "IdP entity id",
        max_length=500,
        blank=True,
        help_text="The identity provider's SAML entity id, e.g. http://www.okta.com/exk1a2b3c4Example.",
    )
    single_sign_on_service_url = models.CharField(
        "single sign-on URL",
        max_length=500,
        blank=True,
        validators=[http_url_validator],
        help_text="Where AuthnRequests are sent, e.g. https://acme.okta.com/app/acme_registry/exk1a2b3c4/sso/saml.",
    )
    single_logout_service_url = models.CharField(
        "single logout URL",
        max_length=500,
        blank=True,
        validators=[http_url_validator],
        help_text="Optional, e.g. https://acme.okta.com/app/acme_registry/exk1a2b3c4/slo/saml.",
    )
    name_id_policy_format = models.CharField(
        "NameID policy format",
        max_length=200,
        blank=True,
        default="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        help_text="The NameID format requested, e.g. urn:oasis:names:tc:SAML:2.0:nameid-format:persistent.",
    )
    signing_certificate = models.TextField(
        "signing certificate",
        blank=True,
        validators=[MaxLengthValidator(20_000)],
        help_text="The provider's PEM X.509 certificate, e.g. the one in its metadata "
        "(“-----BEGIN CERTIFICATE-----…”); its expiry is tracked.",
    )
    certificate_expires_at = models.DateTimeField("certificate expires at", null=True, blank=True, editable=False)
    want_authn_requests_signed = models.BooleanField(
        "sign AuthnRequests", default=False, help_text="Sign the requests sent (when the provider requires it)."
    )
    post_binding_authn_request = models.BooleanField(
        "HTTP-POST binding for requests", default=True, help_text="Send AuthnRequests by POST (else by redirect)."
    )
    post_binding_response = models.BooleanField(
        "HTTP-POST binding for responses", default=True, help_text="The provider answers by POST (else by redirect)."
    )

    # Lifecycle and bookkeeping
    verification_token = models.CharField(max_length=64, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    organization = models.CharField(max_length=200, blank=True, help_text="Optional, e.g. “org_76gsfs5gd”.")
    reference = models.CharField(max_length=200, blank=True, help_text="An id of yours, e.g. from another system.")
    reference_origin = models.CharField(
        "reference origin", max_length=200, blank=True, help_text="Where the reference comes from, e.g. “crm”."
    )
    metadata = models.JSONField(
        default=dict, blank=True, help_text='Free-form JSON object (up to 16 KB), e.g. {"team": "identity"}.'
    )

    class Meta:
        verbose_name = "identity provider"
        ordering = ["provider__provider_id"]
        constraints = [
            models.UniqueConstraint(fields=["internal_id"], name="identity_provider_internal_id_unique"),
            models.CheckConstraint(
                condition=models.Q(protocol__in=list(PROTOCOLS)), name="identity_provider_protocol_known"
            ),
        ]

    def __str__(self) -> str:
        return str(self.provider)

    @property
    def txt_record(self) -> str:
        """The DNS TXT value that proves control of the provider's domains."""
        return f"{settings.IDP_TXT_RECORD_PREFIX}-verification={self.verification_token}"


class IdentityProviderDomain(models.Model):
    """A domain the identity provider serves; proven by a DNS TXT record before the provider is active."""

    identity = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253)
    verified_at = models.DateTimeField(null=True, blank=True)

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

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["identity", "name"], name="identity_mapper_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name
