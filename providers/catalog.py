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
    )
}
CREDENTIAL_VALUE_MAX_LENGTH = 16_384


@dataclass(frozen=True)
class ProviderType:
    key: str
    label: str
    capabilities: tuple[str, ...]
    base_url: str = ""
    api_base_url: str = ""
    credential_types: tuple[str, ...] = field(default=("token", "userPass"))

    @property
    def capability(self) -> str:
        return self.capabilities[0]


PROVIDER_TYPES: dict[str, ProviderType] = {
    t.key: t
    for t in (
        ProviderType("github", "GitHub", (GIT,), "https://github.com", "https://api.github.com"),
        ProviderType("gitlab", "GitLab", (GIT,), "https://gitlab.com", "https://gitlab.com/api/v4"),
        ProviderType("bitbucket", "Bitbucket", (GIT,), "https://bitbucket.org", "https://api.bitbucket.org/2.0"),
        ProviderType("azure-devops", "Azure DevOps", (GIT,), "https://dev.azure.com", "https://dev.azure.com"),
        ProviderType("okta", "Okta", (IDENTITY,)),
        ProviderType("oidc", "OpenID Connect", (IDENTITY,)),
        ProviderType("oauth2", "OAuth 2.0", (IDENTITY,)),
        ProviderType("saml", "SAML 2.0", (IDENTITY,)),
        ProviderType("keycloak", "Keycloak", (IDENTITY,)),
        ProviderType("entra-id", "Microsoft Entra ID", (IDENTITY,), "https://login.microsoftonline.com"),
        ProviderType("auth0", "Auth0", (IDENTITY,)),
        ProviderType("google", "Google", (IDENTITY,), "https://accounts.google.com", "https://www.googleapis.com"),
    )
}

PROVIDER_TYPE_CHOICES = [(t.key, t.label) for t in PROVIDER_TYPES.values()]
CREDENTIAL_TYPE_CHOICES = [(c.key, c.label) for c in CREDENTIAL_TYPES.values()]
CAPABILITY_CHOICES = list(CAPABILITIES.items())


def types_with_capability(capability: str) -> list[str]:
    return [t.key for t in PROVIDER_TYPES.values() if capability in t.capabilities]
