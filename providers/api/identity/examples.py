"""Example requests of `/api/identity-providers` shown in the API portal: the reference documents' requests first."""

from drf_spectacular.utils import OpenApiExample

REFERENCE_EXAMPLE = {
    "alias": "okta-corp",
    "display_name": "Okta (corporate)",
    "provider_id": "oidc",
    "enabled": True,
    "known_provider": "okta",
    "oidc_config": {
        "authorization_url": "https://acme.okta.com/oauth2/default/v1/authorize",
        "token_url": "https://acme.okta.com/oauth2/default/v1/token",
        "client_id": "0oa1b2c3d4Example",
        "client_secret": "client-secret-value",
        "user_info_url": "https://acme.okta.com/oauth2/default/v1/userinfo",
        "issuer": "https://acme.okta.com/oauth2/default",
        "default_scope": "openid email profile",
        "sync_mode": "INHERIT",
        "validate_signature": True,
        "use_jwks_url": True,
        "pkce_enabled": False,
        "pkce_method": "S256",
    },
    "mappers": [
        {
            "name": "email",
            "identity_provider_mapper": "oidc-user-attribute-idp-mapper",
            "config": {"claim": "email", "user_attribute": "email"},
        }
    ],
}


EXAMPLE_CERTIFICATE = (  # a self-signed public certificate for idp.example.com, valid until 2036
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBIDCBx6ADAgECAgEBMAoGCCqGSM49BAMCMBoxGDAWBgNVBAMMD2lkcC5leGFt\n"
    "cGxlLmNvbTAeFw0yNjEyMDEwMDAwMDBaFw0zNjExMjgwMDAwMDBaMBoxGDAWBgNV\n"
    "BAMMD2lkcC5leGFtcGxlLmNvbTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBPu\n"
    "uNUSXgfvH3M0Exifx8MSQ5Ixs55x4L30TQN+HXO6j0v7deVlcIpX1EM1ROuswf1I\n"
    "fIVGCj75ARuLSCL54DcwCgYIKoZIzj0EAwIDSAAwRQIhAJaMVro+eDOBkvMNLgBl\n"
    "7Sh+cmq9MUxfUF8KNBZjV3jlAiAYRNpAIAfhVPmUsrf0xwYLaV4cfUQrBEi/42XC\n"
    "vOHMlg==\n"
    "-----END CERTIFICATE-----\n"
)


EXAMPLE_SAML_METADATA = (
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
    'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.com/metadata">'
    '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
    '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
    + "".join(EXAMPLE_CERTIFICATE.splitlines()[1:-1])
    + "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
    "<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>"
    '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
    'Location="https://idp.example.com/sso"/>'
    "</md:IDPSSODescriptor></md:EntityDescriptor>"
)


OKTA_EXAMPLE = OpenApiExample(
    "Okta over OIDC (reference request)",
    value=REFERENCE_EXAMPLE,
    request_only=True,
    description="The create request of the OIDC/SAML/mappers reference, with its placeholders filled in.",
)


BROKER_OPTIONS_EXAMPLE = {
    "alias": "keycloak-oidc-2",
    "providerId": "keycloak-oidc",
    "enabled": True,
    "updateProfileFirstLoginMode": "on",
    "trustEmail": False,
    "storeToken": False,
    "addReadTokenRoleOnCreate": False,
    "authenticateByDefault": False,
    "linkOnly": False,
    "firstBrokerLoginFlowAlias": "first broker login",
    "config": {"issuer": "https://sso.example.com/realms/acme"},
}


MAPPER_EXAMPLES = [
    OpenApiExample(
        "Copy the email claim (reference mapper)",
        request_only=True,
        value={
            "name": "email",
            "identity_provider_mapper": "oidc-user-attribute-idp-mapper",
            "config": {"claim": "email", "user_attribute": "email"},
        },
    ),
    OpenApiExample(
        "Admins group from a claim",
        request_only=True,
        value={
            "name": "admins",
            "identity_provider_mapper": "oidc-advanced-group-idp-mapper",
            "sync_mode": "FORCE",
            "config": {"claim": "groups", "claim_value": "admins", "group": "access_token_manager"},
        },
    ),
]
