"""The field catalogue of identity providers: each OIDC, OAuth 2.0 and SAML setting, broker option and
lifecycle field declared once, with its model attribute, its name in each API dialect, the key
Keycloak writes in a realm export, its kind, whether it is secret, its default and its help text.

The model's columns (`IdentityProvider`), the API dialects' serializers, the admin's fieldsets,
Keycloak's representation in and out and the OpenAPI schema are built from `FIELDS`. Adding a field
is an entry here, a migration and tests.

`providers.identity.keycloak_keys` maps Keycloak's keys onto these fields and lists the keys
Keycloak 26 defines that the registry does not act on."""

from dataclasses import dataclass
from typing import Any

from django.core.validators import MaxLengthValidator
from django.db import models
from fernet_fields import EncryptedTextField

from providers.validation import http_url_validator

BROKER = "broker"  # Keycloak's top-level broker options
GENERAL = "general"  # protocol-independent settings in Keycloak's `config`
OIDC_SECTION = "oidc"  # OpenID Connect and OAuth 2.0: `oidc_config` in the canonical API
SAML_SECTION = "saml"  # SAML 2.0: `saml_config` in the canonical API
LIFECYCLE = "lifecycle"  # the registry's own bookkeeping (JSON:API's attributes); no Keycloak key

STRING, URL, BOOLEAN, CHOICE, TEXT, SECRET, JSON = "string", "url", "boolean", "choice", "text", "secret", "json"


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


class Prompt(models.TextChoices):
    UNSPECIFIED = "", "Unspecified"
    NONE = "none", "none"
    CONSENT = "consent", "consent"
    LOGIN = "login", "login"
    SELECT_ACCOUNT = "select_account", "select_account"


class PrincipalType(models.TextChoices):
    SUBJECT = "SUBJECT", "Subject NameID"
    ATTRIBUTE = "ATTRIBUTE", "Attribute [Name]"
    FRIENDLY_ATTRIBUTE = "FRIENDLY_ATTRIBUTE", "Attribute [Friendly Name]"


class FirstLoginMode(models.TextChoices):
    ON = "on", "On"
    OFF = "off", "Off"
    MISSING = "missing", "Only when information is missing"


@dataclass(frozen=True)
class IdpField:
    """One setting. `keycloak` is its key in a realm export: at the top level for broker options,
    inside `config` for the rest. `verbose_name` is left empty where Django's default (the name with
    spaces) reads well."""

    name: str
    section: str
    kind: str
    help: str = ""
    keycloak: str = ""
    verbose_name: str = ""
    max_length: int = 0
    default: Any = ""
    choices: type[models.TextChoices] | None = None

    @property
    def secret(self) -> bool:
        return self.kind == SECRET

    def model_field(self) -> models.Field:
        """The column, built anew for each model that gets it."""
        options: dict[str, Any] = {"verbose_name": self.verbose_name or None}
        if self.help:
            options["help_text"] = self.help
        if self.kind == BOOLEAN:
            return models.BooleanField(default=self.default, **options)
        if self.kind == SECRET:
            return EncryptedTextField(null=True, blank=True, **options)
        if self.kind == JSON:
            return models.JSONField(default=dict, blank=True, **options)
        if self.kind == TEXT:
            return models.TextField(blank=True, validators=[MaxLengthValidator(self.max_length)], **options)
        if self.choices is not None:
            options["choices"] = self.choices.choices
        if self.default != "":
            options["default"] = self.default
        if self.kind == URL:
            options["validators"] = [http_url_validator]
        blank = self.kind != CHOICE or (self.choices is not None and "" in self.choices.values)
        return models.CharField(max_length=self.max_length, blank=blank, **options)


URL_LENGTH = 500
# What reads show of a stored secret, and what a write may send back to keep it.
SECRET_MASK = "**********"


def masked_secret(identity) -> str | None:
    """The client secret as every read shows it: the mask once one is stored, else None."""
    return SECRET_MASK if identity.client_secret_updated_at else None


FIELDS: tuple[IdpField, ...] = (
    IdpField(
        "sync_mode",
        GENERAL,
        CHOICE,
        "When mapped attributes are written to the user: e.g. “Force” on every login, “Import” on the first.",
        keycloak="syncMode",
        verbose_name="sync mode",
        max_length=10,
        default=SyncMode.INHERIT,
        choices=SyncMode,
    ),
    IdpField(
        "trust_email",
        BROKER,
        BOOLEAN,
        "Trust the e-mail addresses this provider asserts (no re-verification).",
        keycloak="trustEmail",
        default=False,
    ),
    IdpField(
        "store_token", BROKER, BOOLEAN, "Keep the tokens obtained at login.", keycloak="storeToken", default=False
    ),
    IdpField(
        "add_read_token_role_on_create",
        BROKER,
        BOOLEAN,
        "New users may read the stored tokens (broker.read-token role).",
        keycloak="addReadTokenRoleOnCreate",
        default=False,
    ),
    IdpField(
        "authenticate_by_default",
        BROKER,
        BOOLEAN,
        "Redirect to this provider as soon as the login page loads.",
        keycloak="authenticateByDefault",
        default=False,
    ),
    IdpField(
        "link_only",
        BROKER,
        BOOLEAN,
        "Users may only link accounts, not log in with it.",
        keycloak="linkOnly",
        default=False,
    ),
    IdpField(
        "hide_on_login",
        BROKER,
        BOOLEAN,
        "Leave it out of the public login list.",
        keycloak="hideOnLogin",
        default=False,
    ),
    IdpField(
        "logout_at_provider",
        BROKER,
        BOOLEAN,
        "Logging out also ends the session at the provider: its logout URL (OIDC end_session_endpoint) "
        "or single logout service (SAML).",
        verbose_name="log out at the provider",
        default=False,
    ),
    IdpField(
        "first_broker_login_flow_alias",
        BROKER,
        STRING,
        "Flow run when a user signs in through it for the first time, e.g. “first broker login”.",
        keycloak="firstBrokerLoginFlowAlias",
        verbose_name="first broker login flow",
        max_length=100,
        default="first broker login",
    ),
    IdpField(
        "update_profile_first_login_mode",
        BROKER,
        CHOICE,
        "Whether users review their profile on their first login, e.g. “on”.",
        keycloak="updateProfileFirstLoginMode",
        verbose_name="update profile on first login",
        max_length=10,
        default=FirstLoginMode.ON,
        choices=FirstLoginMode,
    ),
    IdpField(
        "client_id",
        OIDC_SECTION,
        STRING,
        "The OAuth 2.0 client id, e.g. “0oa1b2c3d4Example”.",
        keycloak="clientId",
        verbose_name="client id",
        max_length=255,
    ),
    IdpField("client_secret", OIDC_SECTION, SECRET, keycloak="clientSecret", verbose_name="client secret"),
    IdpField(
        "issuer",
        OIDC_SECTION,
        URL,
        "The provider's issuer URL, e.g. https://acme.okta.com/oauth2/default.",
        keycloak="issuer",
        max_length=URL_LENGTH,
    ),
    IdpField(
        "authorization_url",
        OIDC_SECTION,
        URL,
        "Where users are sent to sign in, e.g. https://acme.okta.com/oauth2/default/v1/authorize.",
        keycloak="authorizationUrl",
        verbose_name="authorization URL",
        max_length=URL_LENGTH,
    ),
    IdpField(
        "token_url",
        OIDC_SECTION,
        URL,
        "Where codes are exchanged for tokens, e.g. https://acme.okta.com/oauth2/default/v1/token.",
        keycloak="tokenUrl",
        verbose_name="token URL",
        max_length=URL_LENGTH,
    ),
    IdpField(
        "user_info_url",
        OIDC_SECTION,
        URL,
        "Returns the user's claims, e.g. https://acme.okta.com/oauth2/default/v1/userinfo.",
        keycloak="userInfoUrl",
        verbose_name="user info URL",
        max_length=URL_LENGTH,
    ),
    IdpField(
        "jwks_url",
        OIDC_SECTION,
        URL,
        "The provider's signing keys, e.g. https://acme.okta.com/oauth2/default/v1/keys.",
        keycloak="jwksUrl",
        verbose_name="JWKS URL",
        max_length=URL_LENGTH,
    ),
    IdpField(
        "logout_url",
        OIDC_SECTION,
        URL,
        "Optional end-session endpoint, e.g. https://acme.okta.com/oauth2/default/v1/logout.",
        keycloak="logoutUrl",
        verbose_name="logout URL",
        max_length=URL_LENGTH,
    ),
    IdpField(
        "default_scope",
        OIDC_SECTION,
        STRING,
        "Space-separated, e.g. “openid email profile”.",
        keycloak="defaultScope",
        verbose_name="default scope",
        max_length=500,
    ),
    IdpField(
        "client_auth_method",
        OIDC_SECTION,
        CHOICE,
        "How the client secret is sent to the token URL, e.g. HTTP Basic (client_secret_basic).",
        keycloak="clientAuthMethod",
        verbose_name="client authentication",
        max_length=32,
        default=ClientAuthMethod.BASIC,
        choices=ClientAuthMethod,
    ),
    IdpField(
        "validate_signature",
        OIDC_SECTION,
        BOOLEAN,
        "Check the signature of the ID tokens it issues.",
        keycloak="validateSignature",
        verbose_name="validate signatures",
        default=True,
    ),
    IdpField(
        "use_jwks_url",
        OIDC_SECTION,
        BOOLEAN,
        "Fetch the signing keys from the JWKS URL (and follow key rollover).",
        keycloak="useJwksUrl",
        verbose_name="use JWKS URL",
        default=True,
    ),
    IdpField(
        "pkce_enabled",
        OIDC_SECTION,
        BOOLEAN,
        "Protect the authorization code with PKCE (RFC 7636).",
        keycloak="pkceEnabled",
        verbose_name="PKCE",
        default=False,
    ),
    IdpField(
        "pkce_method",
        OIDC_SECTION,
        CHOICE,
        "e.g. S256 (recommended) or plain.",
        keycloak="pkceMethod",
        verbose_name="PKCE method",
        max_length=5,
        default=PkceMethod.S256,
        choices=PkceMethod,
    ),
    IdpField(
        "prompt",
        OIDC_SECTION,
        CHOICE,
        "The `prompt` sent with each sign-in, e.g. “login” to ask for the password every time.",
        keycloak="prompt",
        max_length=20,
        choices=Prompt,
    ),
    IdpField(
        "login_hint",
        OIDC_SECTION,
        BOOLEAN,
        "Pass the address typed on the login page on as `login_hint`.",
        keycloak="loginHint",
        verbose_name="pass login_hint",
        default=False,
    ),
    IdpField(
        "allowed_tenants",
        OIDC_SECTION,
        STRING,
        "Multi-tenant Entra ID issuers (`{tenantid}`) only: the tenant ids (`tid`) allowed to sign in, "
        "separated by spaces, e.g. “9188040d-6c67-4c5b-b112-36a304b66dad”; empty allows every tenant.",
        verbose_name="allowed tenants",
        max_length=1000,
    ),
    IdpField(
        "entity_id",
        SAML_SECTION,
        STRING,
        "The identity provider's SAML entity id, e.g. http://www.okta.com/exk1a2b3c4Example.",
        keycloak="idpEntityId",
        verbose_name="IdP entity id",
        max_length=500,
    ),
    IdpField(
        "single_sign_on_service_url",
        SAML_SECTION,
        URL,
        "Where AuthnRequests are sent, e.g. https://acme.okta.com/app/acme_registry/exk1a2b3c4/sso/saml.",
        keycloak="singleSignOnServiceUrl",
        verbose_name="single sign-on URL",
        max_length=URL_LENGTH,
    ),
    IdpField(
        "single_logout_service_url",
        SAML_SECTION,
        URL,
        "Optional, e.g. https://acme.okta.com/app/acme_registry/exk1a2b3c4/slo/saml.",
        keycloak="singleLogoutServiceUrl",
        verbose_name="single logout URL",
        max_length=URL_LENGTH,
    ),
    IdpField(
        "name_id_policy_format",
        SAML_SECTION,
        STRING,
        "The NameID format requested, e.g. urn:oasis:names:tc:SAML:2.0:nameid-format:persistent.",
        keycloak="nameIDPolicyFormat",
        verbose_name="NameID policy format",
        max_length=200,
        default="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    ),
    IdpField(
        "signing_certificate",
        SAML_SECTION,
        TEXT,
        "The provider's PEM X.509 certificate, e.g. the one in its metadata "
        "(“-----BEGIN CERTIFICATE-----…”); its expiry is tracked.",
        keycloak="signingCertificate",
        verbose_name="signing certificate",
        max_length=20_000,
    ),
    IdpField(
        "want_assertions_signed",
        SAML_SECTION,
        BOOLEAN,
        "Require each assertion to be signed (else a signed response is enough).",
        keycloak="wantAssertionsSigned",
        verbose_name="require signed assertions",
        default=False,
    ),
    IdpField(
        "want_assertions_encrypted",
        SAML_SECTION,
        BOOLEAN,
        "Require encrypted assertions (with the service provider's certificate).",
        keycloak="wantAssertionsEncrypted",
        verbose_name="require encrypted assertions",
        default=False,
    ),
    IdpField(
        "force_authn",
        SAML_SECTION,
        BOOLEAN,
        "Ask the provider to authenticate the user again on every sign-in (ForceAuthn).",
        keycloak="forceAuthn",
        verbose_name="force authentication",
        default=False,
    ),
    IdpField(
        "allow_create",
        SAML_SECTION,
        BOOLEAN,
        "Let the provider create a new identifier for the user (NameIDPolicy AllowCreate).",
        keycloak="allowCreate",
        verbose_name="allow create",
        default=True,
    ),
    IdpField(
        "principal_type",
        SAML_SECTION,
        CHOICE,
        "What identifies the user: the NameID (“Subject NameID”) or an attribute, e.g. “Attribute [Name]”.",
        keycloak="principalType",
        verbose_name="principal type",
        max_length=20,
        default=PrincipalType.SUBJECT,
        choices=PrincipalType,
    ),
    IdpField(
        "principal_attribute",
        SAML_SECTION,
        STRING,
        "With an attribute principal: its Name or FriendlyName, e.g. “urn:oid:0.9.2342.19200300.100.1.1”.",
        keycloak="principalAttribute",
        verbose_name="principal attribute",
        max_length=200,
    ),
    IdpField(
        "sp_entity_id",
        SAML_SECTION,
        STRING,
        "This registry's entity ID at the provider; empty for its metadata URL, e.g. "
        "“https://registry.example.com/signin/acme/okta/saml/metadata”.",
        keycloak="entityId",
        verbose_name="service provider entity ID",
        max_length=500,
    ),
    IdpField(
        "allow_idp_initiated",
        SAML_SECTION,
        BOOLEAN,
        "Accept sign-ins the provider starts (unsolicited responses), landing on the page below.",
        verbose_name="allow IdP-initiated sign-in",
        default=False,
    ),
    IdpField(
        "idp_initiated_page",
        SAML_SECTION,
        STRING,
        "Where an IdP-initiated sign-in lands: a path of this registry, e.g. “/account/linked/”.",
        verbose_name="IdP-initiated landing page",
        max_length=200,
    ),
    IdpField(
        "metadata_url",
        SAML_SECTION,
        URL,
        "Where its metadata was imported from, to refresh it, e.g. https://idp.example.com/metadata.",
        keycloak="metadataDescriptorUrl",
        verbose_name="metadata URL",
        max_length=URL_LENGTH,
    ),
    IdpField(
        "want_authn_requests_signed",
        SAML_SECTION,
        BOOLEAN,
        "Sign the requests sent (when the provider requires it).",
        keycloak="wantAuthnRequestsSigned",
        verbose_name="sign AuthnRequests",
        default=False,
    ),
    IdpField(
        "post_binding_authn_request",
        SAML_SECTION,
        BOOLEAN,
        "Send AuthnRequests by POST (else by redirect).",
        keycloak="postBindingAuthnRequest",
        verbose_name="HTTP-POST binding for requests",
        default=True,
    ),
    IdpField(
        "post_binding_response",
        SAML_SECTION,
        BOOLEAN,
        "The provider answers by POST (else by redirect).",
        keycloak="postBindingResponse",
        verbose_name="HTTP-POST binding for responses",
        default=True,
    ),
    IdpField("organization", LIFECYCLE, STRING, "Optional, e.g. “org_76gsfs5gd”.", max_length=200),
    IdpField("reference", LIFECYCLE, STRING, "An id of yours, e.g. from another system.", max_length=200),
    IdpField(
        "reference_origin",
        LIFECYCLE,
        STRING,
        "Where the reference comes from, e.g. “crm”.",
        verbose_name="reference origin",
        max_length=200,
    ),
    IdpField("metadata", LIFECYCLE, JSON, 'Free-form JSON object (up to 16 KB), e.g. {"team": "identity"}.'),
)

BY_NAME: dict[str, IdpField] = {field.name: field for field in FIELDS}


def names(*sections: str, secrets: bool = False) -> tuple[str, ...]:
    """The model attributes of the given sections, in catalogue order; secrets only when asked."""
    return tuple(f.name for f in FIELDS if f.section in sections and (secrets or not f.secret))


BROKER_FIELDS = names(BROKER)
OIDC_FIELDS = names(OIDC_SECTION)
SAML_FIELDS = names(SAML_SECTION)
LIFECYCLE_FIELDS = names(LIFECYCLE)
# Every setting a write may give, secrets apart (they have their own argument).
SETTINGS = names(GENERAL, BROKER, OIDC_SECTION, SAML_SECTION, LIFECYCLE)
