"""The catalogue of provider types and credential types: which capability each type has, its
default URLs and which credential types it accepts. One place for these rules; models, services,
serializers and the admin read them from here."""

from dataclasses import dataclass, field

GIT = "git"
IDENTITY = "identity"
CAPABILITIES = {GIT: "Git provider", IDENTITY: "Identity provider"}


@dataclass(frozen=True)
class CredentialType:
    key: str
    label: str
    fields: tuple[str, ...]
    secret_fields: tuple[str, ...]
    help: str = ""
    optional_fields: tuple[str, ...] = ()
    url_fields: tuple[str, ...] = ()
    numeric_fields: tuple[str, ...] = ()
    pem_private_key_fields: tuple[str, ...] = ()

    @property
    def all_fields(self) -> tuple[str, ...]:
        return self.fields + self.optional_fields


CREDENTIAL_TYPES: dict[str, CredentialType] = {
    c.key: c
    for c in (
        CredentialType(
            "token",
            "Access token",
            fields=("accessToken",),
            secret_fields=("accessToken",),
            help="A personal access token or service-account token.",
        ),
        CredentialType(
            "userPass",
            "User name and password",
            fields=("userName", "password"),
            secret_fields=("password",),
            help="A service account's user name and password (or app password).",
        ),
        CredentialType(
            "oauth2ClientCredentials",
            "OAuth 2.0 client credentials",
            fields=("tokenUrl", "clientId", "clientSecret"),
            optional_fields=("scope",),
            secret_fields=("clientSecret",),
            url_fields=("tokenUrl",),
            help="A service principal / machine-to-machine client: token URL, client id and secret, optional scope.",
        ),
        CredentialType(
            "githubApp",
            "GitHub App",
            fields=("appId", "privateKey", "installationId"),
            secret_fields=("privateKey",),
            numeric_fields=("appId", "installationId"),
            pem_private_key_fields=("privateKey",),
            help="A GitHub App: its numeric app id, its PEM private key and the installation id.",
        ),
    )
}
CREDENTIAL_VALUE_MAX_LENGTH = 16_384


OIDC = "oidc"
OAUTH2 = "oauth2"
SAML = "saml"
PROTOCOLS = {OIDC: "OpenID Connect", OAUTH2: "OAuth 2.0", SAML: "SAML 2.0"}
PROTOCOL_CHOICES = list(PROTOCOLS.items())


@dataclass(frozen=True)
class ProviderType:
    key: str
    label: str
    capabilities: tuple[str, ...]
    base_url: str = ""
    api_base_url: str = ""
    credential_types: tuple[str, ...] = field(default=("token", "oauth2ClientCredentials"))
    protocols: tuple[str, ...] = ()

    @property
    def capability(self) -> str:
        return self.capabilities[0]


PROVIDER_TYPES: dict[str, ProviderType] = {
    t.key: t
    for t in (
        ProviderType(
            "github",
            "GitHub",
            (GIT,),
            "https://github.com",
            "https://api.github.com",
            credential_types=("token", "userPass", "githubApp"),
        ),
        ProviderType(
            "gitlab",
            "GitLab",
            (GIT,),
            "https://gitlab.com",
            "https://gitlab.com/api/v4",
            credential_types=("token", "userPass"),
        ),
        ProviderType(
            "bitbucket",
            "Bitbucket",
            (GIT,),
            "https://bitbucket.org",
            "https://api.bitbucket.org/2.0",
            credential_types=("token", "userPass", "oauth2ClientCredentials"),
        ),
        ProviderType(
            "azure-devops",
            "Azure DevOps",
            (GIT,),
            "https://dev.azure.com",
            "https://dev.azure.com",
            credential_types=("token", "userPass", "oauth2ClientCredentials"),
        ),
        ProviderType("okta", "Okta", (IDENTITY,), protocols=(OIDC, SAML)),
        ProviderType("oidc", "OpenID Connect", (IDENTITY,), protocols=(OIDC,)),
        ProviderType("oauth2", "OAuth 2.0", (IDENTITY,), protocols=(OAUTH2,)),
        ProviderType("saml", "SAML 2.0", (IDENTITY,), protocols=(SAML,)),
        ProviderType(
            "keycloak",
            "Keycloak",
            (IDENTITY,),
            protocols=(OIDC, SAML),
            credential_types=("token", "userPass", "oauth2ClientCredentials"),
        ),
        ProviderType(
            "entra-id", "Microsoft Entra ID", (IDENTITY,), "https://login.microsoftonline.com", protocols=(OIDC, SAML)
        ),
        ProviderType("auth0", "Auth0", (IDENTITY,), protocols=(OIDC, SAML)),
        ProviderType(
            "google",
            "Google",
            (IDENTITY,),
            "https://accounts.google.com",
            "https://www.googleapis.com",
            protocols=(OIDC, SAML),
        ),
    )
}

PROVIDER_TYPE_CHOICES = [(t.key, t.label) for t in PROVIDER_TYPES.values()]
CREDENTIAL_TYPE_CHOICES = [(c.key, c.label) for c in CREDENTIAL_TYPES.values()]
CAPABILITY_CHOICES = list(CAPABILITIES.items())


def types_with_capability(capability: str) -> list[str]:
    return [t.key for t in PROVIDER_TYPES.values() if capability in t.capabilities]


@dataclass(frozen=True)
class KnownProvider:
    """A preset: which provider type and protocol it is, and the defaults it pre-fills. Endpoint
    templates use `{issuer}` (the issuer without its trailing slash) or `{root}` (the issuer
    without a trailing `/v2.0`, for Entra ID), so only the issuer is needed."""

    key: str
    label: str
    provider_type: str
    protocol: str
    default_scope: str = ""
    issuer: str = ""
    endpoints: tuple[tuple[str, str], ...] = ()
    issuer_example: str = ""

    def defaults(self, issuer: str = "") -> dict[str, str]:
        """Field values this preset fills when the request leaves them empty."""
        values = {"default_scope": self.default_scope} if self.default_scope else {}
        base = (issuer or self.issuer).rstrip("/")
        if self.issuer and not issuer:
            values["issuer"] = self.issuer
        templated = any("{" in template for _, template in self.endpoints)
        if base or not templated:
            for name, template in self.endpoints:
                values[name] = template.format(issuer=base, root=base.removesuffix("/v2.0"))
        return values


OIDC_SCOPE = "openid email profile"
KNOWN_PROVIDERS: dict[str, KnownProvider] = {
    k.key: k
    for k in (
        KnownProvider(
            "okta",
            "Okta",
            "okta",
            OIDC,
            OIDC_SCOPE,
            endpoints=(
                ("authorization_url", "{issuer}/v1/authorize"),
                ("token_url", "{issuer}/v1/token"),
                ("user_info_url", "{issuer}/v1/userinfo"),
                ("jwks_url", "{issuer}/v1/keys"),
            ),
            issuer_example="https://acme.okta.com/oauth2/default",
        ),
        KnownProvider(
            "entra_id",
            "Microsoft Entra ID",
            "entra-id",
            OIDC,
            OIDC_SCOPE,
            endpoints=(
                ("authorization_url", "{root}/oauth2/v2.0/authorize"),
                ("token_url", "{root}/oauth2/v2.0/token"),
                ("user_info_url", "https://graph.microsoft.com/oidc/userinfo"),
                ("jwks_url", "{root}/discovery/v2.0/keys"),
            ),
            issuer_example="https://login.microsoftonline.com/<tenant-id>/v2.0",
        ),
        KnownProvider(
            "auth0",
            "Auth0",
            "auth0",
            OIDC,
            OIDC_SCOPE,
            endpoints=(
                ("authorization_url", "{issuer}/authorize"),
                ("token_url", "{issuer}/oauth/token"),
                ("user_info_url", "{issuer}/userinfo"),
                ("jwks_url", "{issuer}/.well-known/jwks.json"),
            ),
            issuer_example="https://acme.eu.auth0.com/",
        ),
        KnownProvider(
            "google",
            "Google",
            "google",
            OIDC,
            OIDC_SCOPE,
            issuer="https://accounts.google.com",
            endpoints=(
                ("authorization_url", "https://accounts.google.com/o/oauth2/v2/auth"),
                ("token_url", "https://oauth2.googleapis.com/token"),
                ("user_info_url", "https://openidconnect.googleapis.com/v1/userinfo"),
                ("jwks_url", "https://www.googleapis.com/oauth2/v3/certs"),
            ),
        ),
        KnownProvider(
            "github",
            "GitHub",
            "oauth2",
            OAUTH2,
            "read:user user:email",
            endpoints=(
                ("authorization_url", "https://github.com/login/oauth/authorize"),
                ("token_url", "https://github.com/login/oauth/access_token"),
                ("user_info_url", "https://api.github.com/user"),
            ),
        ),
        KnownProvider(
            "ping_identity",
            "Ping Identity",
            "oidc",
            OIDC,
            OIDC_SCOPE,
            endpoints=(
                ("authorization_url", "{issuer}/authorize"),
                ("token_url", "{issuer}/token"),
                ("user_info_url", "{issuer}/userinfo"),
                ("jwks_url", "{issuer}/jwks"),
            ),
            issuer_example="https://auth.pingone.com/<environment-id>/as",
        ),
        KnownProvider(
            "onelogin",
            "OneLogin",
            "oidc",
            OIDC,
            OIDC_SCOPE,
            endpoints=(
                ("authorization_url", "{issuer}/auth"),
                ("token_url", "{issuer}/token"),
                ("user_info_url", "{issuer}/me"),
                ("jwks_url", "{issuer}/certs"),
            ),
            issuer_example="https://acme.onelogin.com/oidc/2",
        ),
        KnownProvider(
            "keycloak",
            "Keycloak",
            "keycloak",
            OIDC,
            OIDC_SCOPE,
            endpoints=(
                ("authorization_url", "{issuer}/protocol/openid-connect/auth"),
                ("token_url", "{issuer}/protocol/openid-connect/token"),
                ("user_info_url", "{issuer}/protocol/openid-connect/userinfo"),
                ("jwks_url", "{issuer}/protocol/openid-connect/certs"),
            ),
            issuer_example="https://sso.example.com/realms/acme",
        ),
        KnownProvider("custom_oidc", "Custom OpenID Connect", "oidc", OIDC, OIDC_SCOPE),
        KnownProvider("custom_saml", "Custom SAML 2.0", "saml", SAML),
    )
}
KNOWN_PROVIDER_CHOICES = [(k.key, k.label) for k in KNOWN_PROVIDERS.values()]


def identity_provider_type(*, protocol: str, known_provider: str | None) -> str:
    """The provider type an identity provider gets: its preset's, or the bare protocol's."""
    if known_provider:
        return KNOWN_PROVIDERS[known_provider].provider_type
    return protocol
