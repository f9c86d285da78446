"""OIDC discovery documents as identity providers publish them, and what the registry maps them to."""


def keycloak_discovery_document(issuer):
    """A discovery document shaped like Keycloak 24's, trimmed of the claims and alg lists."""
    oidc = f"{issuer}/protocol/openid-connect"
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{oidc}/auth",
        "token_endpoint": f"{oidc}/token",
        "introspection_endpoint": f"{oidc}/token/introspect",
        "userinfo_endpoint": f"{oidc}/userinfo",
        "end_session_endpoint": f"{oidc}/logout",
        "frontchannel_logout_session_supported": True,
        "jwks_uri": f"{oidc}/certs",
        "check_session_iframe": f"{oidc}/login-status-iframe.html",
        "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "password", "client_credentials"],
        "response_types_supported": ["code", "none", "id_token", "token", "id_token token", "code id_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["PS384", "RS384", "EdDSA", "ES384", "HS256", "RS256"],
        "scopes_supported": ["openid", "address", "microprofile-jwt", "email", "phone", "offline_access", "profile"],
        "token_endpoint_auth_methods_supported": [
            "private_key_jwt",
            "client_secret_basic",
            "client_secret_post",
            "tls_client_auth",
            "client_secret_jwt",
        ],
        "code_challenge_methods_supported": ["plain", "S256"],
        "claims_parameter_supported": True,
        "request_uri_parameter_supported": True,
    }


def keycloak_oidc_config(issuer):
    """The OIDC settings `keycloak_discovery_document(issuer)` is mapped to: each endpoint from its
    field of the document, the rest from what the document says Keycloak supports."""
    document = keycloak_discovery_document(issuer)
    return {
        "issuer": issuer,
        "authorization_url": document["authorization_endpoint"],
        "token_url": document["token_endpoint"],
        "user_info_url": document["userinfo_endpoint"],
        "jwks_url": document["jwks_uri"],
        "logout_url": document["end_session_endpoint"],
        "default_scope": "openid email profile",
        "pkce_enabled": True,
        "pkce_method": "S256",
        "client_auth_method": "client_secret_basic",
        "validate_signature": True,
        "use_jwks_url": True,
    }


def minimal_discovery_document(issuer):
    """Only the fields a discovery document must have."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks",
    }
