"""Keycloak's keys against the field catalogue: which key of a realm export's identity provider
maps to which setting, Keycloak's provider ids, and the keys Keycloak 26 defines that the registry
does not act on (`KEYCLOAK_KEPT_*`): accepted, stored as they were sent and returned unchanged, so
a realm export round-trips. Listed as kept, not acted on, in docs/api.md."""

from .catalogue import BROKER, FIELDS, GENERAL, OIDC_SECTION, SAML_SECTION, IdpField

KEYCLOAK_TOP_LEVEL = {f.keycloak: f for f in FIELDS if f.section == BROKER and f.keycloak}
KEYCLOAK_CONFIG = {f.keycloak: f for f in FIELDS if f.section != BROKER and f.keycloak}

# Keycloak's provider id → (protocol, known provider). `providerId` names both in Keycloak.
KEYCLOAK_PROVIDER_IDS: dict[str, tuple[str, str | None]] = {
    "oidc": ("oidc", None),
    "keycloak-oidc": ("oidc", "keycloak"),
    "google": ("oidc", "google"),
    "microsoft": ("oidc", "entra_id"),
    "okta": ("oidc", "okta"),
    "github": ("oauth2", "github"),
    "oauth2": ("oauth2", None),
    "saml": ("saml", None),
}
KEYCLOAK_PROVIDER_ID_OF = {value: key for key, value in KEYCLOAK_PROVIDER_IDS.items()}

# From IdentityProviderRepresentation, IdentityProviderModel and the OAuth 2.0, OIDC, SAML and
# social configs of Keycloak 26.
KEYCLOAK_KEPT_TOP_LEVEL = frozenset(
    {"internalId", "postBrokerLoginFlowAlias", "organizationId", "types", "updateProfileFirstLogin"}
)
KEYCLOAK_KEPT_CONFIG = frozenset(
    {
        "acceptsPromptNoneForwardFromClient", "addExtensionsElementWithKeyInfo", "allowedClockSkew",
        "apiUrl", "artifactBindingResponse", "artifactResolutionServiceUrl", "attributeConsumingServiceIndex",
        "attributeConsumingServiceName", "authnContextClassRefs", "authnContextComparisonType", "authnContextDeclRefs",
        "backchannelSupported", "baseUrl", "caseSensitiveOriginalUsername", "claimFilterName", "claimFilterValue",
        "clientAssertionAudience", "clientAssertionSigningAlg", "descriptorCacheSeconds", "disableNonce",
        "disableTypeClaimCheck", "disableUserInfo", "doNotStoreUsers", "emailClaim", "emailUrl",
        "enabledFromMetadata", "encryptionAlgorithm", "encryptionPublicKey", "familyNameClaim",
        "fetchedFields", "filteredByClaim", "forwardParameters", "fullNameClaim", "givenNameClaim",
        "guiOrder", "hideOnLoginPage", "hostedDomain", "isAccessTokenJWT", "jwtAuthorizationGrantAllowedClockSkew",
        "jwtAuthorizationGrantAssertionReuseAllowed", "jwtAuthorizationGrantAssertionSignatureAlg",
        "jwtAuthorizationGrantEnabled", "jwtAuthorizationGrantMaxAllowedAssertionExpiration",
        "jwtX509HeadersEnabled", "kc.org", "kc.org.broker.public", "kc.org.broker.redirect.mode.email-matches",
        "kc.org.domain", "key", "minValidityToken", "offlineAccess",
        "passMaxAge", "postBindingLogout",
        "publicKeySignatureVerifier", "publicKeySignatureVerifierKeyId", "requiresShortStateParameter", "sandbox",
        "sendClientIdOnLogout", "sendIdTokenOnLogout", "showInAccountConsole", "signSpMetadata",
        "signatureAlgorithm", "supportsClientAssertionReuse", "supportsClientAssertions", "tenantId",
        "tokenIntrospectionUrl", "uiLocales", "useMetadataDescriptorUrl", "userIDClaim", "userIp", "userNameClaim",
        "xmlSigKeyInfoKeyNameTransformer",
    }
)  # fmt: skip
KEYCLOAK_KEPT_MAX_BYTES = 16_384


def keycloak_config_fields(protocol: str) -> dict[str, IdpField]:
    """Keycloak config key → the setting it maps to for a provider of `protocol`. The other
    protocol's keys (e.g. `validateSignature` on a SAML provider) are kept, not acted on."""
    section = SAML_SECTION if protocol == "saml" else OIDC_SECTION
    return {key: f for key, f in KEYCLOAK_CONFIG.items() if f.section in (GENERAL, section)}


def keycloak_knows(key: str) -> bool:
    return key in KEYCLOAK_CONFIG or key in KEYCLOAK_KEPT_CONFIG


# Mapper config keys Keycloak 26's mappers define that no mapper type here acts on: kept as sent.
KEYCLOAK_KEPT_MAPPER_CONFIG = frozenset(
    {
        "attribute.friendly.name", "attribute.name.format", "target", "claims", "are.claim.values.regex",
        "attributes", "are.attribute.values.regex", "role", "external.role", "jsonField", "userAttribute",
        "attribute.xpath",
    }
)  # fmt: skip
