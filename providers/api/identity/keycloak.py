"""Keycloak's IdentityProviderRepresentation accepted as another spelling of the canonical body."""

from typing import Any

from rest_framework import serializers

from providers.catalog import OAUTH2, OIDC, SAML

# Keycloak's IdentityProviderRepresentation (the broker-options reference document): the same
# settings under camelCase names, `providerId` naming protocol and preset, `config` a flat map of
# strings. Accepted as a spelling of the canonical body, so Keycloak-style clients work unchanged.
KEYCLOAK_NAMES = {
    "displayName": "display_name",
    "updateProfileFirstLoginMode": "update_profile_first_login_mode",
    "trustEmail": "trust_email",
    "storeToken": "store_token",
    "addReadTokenRoleOnCreate": "add_read_token_role_on_create",
    "authenticateByDefault": "authenticate_by_default",
    "linkOnly": "link_only",
    "hideOnLogin": "hide_on_login",
    "firstBrokerLoginFlowAlias": "first_broker_login_flow_alias",
}


KEYCLOAK_PROVIDER_IDS = {  # Keycloak provider id → (protocol, known provider)
    "oidc": (OIDC, None),
    "keycloak-oidc": (OIDC, "keycloak"),
    "google": (OIDC, "google"),
    "microsoft": (OIDC, "entra_id"),
    "okta": (OIDC, "okta"),
    "github": (OAUTH2, "github"),
    "oauth2": (OAUTH2, None),
    "saml": (SAML, None),
}


KEYCLOAK_CONFIG_NAMES = {
    "clientId": "client_id", "clientSecret": "client_secret", "authorizationUrl": "authorization_url",
    "tokenUrl": "token_url", "userInfoUrl": "user_info_url", "issuer": "issuer", "jwksUrl": "jwks_url",
    "logoutUrl": "logout_url", "defaultScope": "default_scope", "syncMode": "sync_mode",
    "validateSignature": "validate_signature", "useJwksUrl": "use_jwks_url", "pkceEnabled": "pkce_enabled",
    "pkceMethod": "pkce_method", "clientAuthMethod": "client_auth_method", "entityId": "entity_id",
    "singleSignOnServiceUrl": "single_sign_on_service_url", "singleLogoutServiceUrl": "single_logout_service_url",
    "nameIDPolicyFormat": "name_id_policy_format", "signingCertificate": "signing_certificate",
    "wantAuthnRequestsSigned": "want_authn_requests_signed", "postBindingAuthnRequest": "post_binding_authn_request",
    "postBindingResponse": "post_binding_response",
}  # fmt: skip


def from_keycloak(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A Keycloak-style body in canonical names, and canonical name → the name the client sent
    (so errors name what was sent). Canonical bodies pass through unchanged."""
    body = dict(body)
    sent: dict[str, str] = {}
    for camel, snake in KEYCLOAK_NAMES.items():
        if camel in body:
            if snake in body:
                raise serializers.ValidationError({camel: [f"Send either `{camel}` or `{snake}`."]})
            body[snake] = body.pop(camel)
            sent[snake] = camel
    if "providerId" in body:
        keycloak_id = body.pop("providerId")
        if "provider_id" in body:
            raise serializers.ValidationError({"providerId": ["Send either `providerId` or `provider_id`."]})
        if keycloak_id not in KEYCLOAK_PROVIDER_IDS:
            valid = ", ".join(KEYCLOAK_PROVIDER_IDS)
            raise serializers.ValidationError({"providerId": [f"Not a valid choice (expected one of: {valid})."]})
        protocol, known_provider = KEYCLOAK_PROVIDER_IDS[keycloak_id]
        body["provider_id"] = protocol
        if known_provider and "known_provider" not in body:
            body["known_provider"] = known_provider
        sent["provider_id"] = "providerId"
    if "config" in body:
        config = body.pop("config")
        if not isinstance(config, dict):
            raise serializers.ValidationError({"config": ["Expected an object."]})
        section = "saml_config" if body.get("provider_id") == SAML else "oidc_config"
        translated: dict[str, Any] = {}
        for key, value in config.items():
            if key not in KEYCLOAK_CONFIG_NAMES:
                raise serializers.ValidationError({f"config.{str(key)[:64]}": ["Unknown field."]})
            translated[KEYCLOAK_CONFIG_NAMES[key]] = {"true": True, "false": False}.get(value, value)
        body[section] = {**translated, **(body.get(section) or {})}
        sent[section] = "config"
    return body, sent


def _sent_name(key: str, sent: dict[str, str]) -> str:
    head, _, rest = key.partition(".")
    return sent.get(head, head) + (f".{rest}" if rest else "")
