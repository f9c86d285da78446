"""What the identity-provider API tests (tests/providers/test_identity_api_*.py) share: a canonical
create body for a SAML provider, next to the OIDC one in dialects.py."""


def saml_body(certificate_pem: str, **overrides) -> dict:
    """A canonical create body: a custom SAML provider with its single sign-on URL and certificate."""
    body = {
        "alias": "corp-saml",
        "display_name": "Corporate SAML",
        "provider_id": "saml",
        "known_provider": "custom_saml",
        "saml_config": {
            "single_sign_on_service_url": "https://idp.corp.test/sso",
            "signing_certificate": certificate_pem,
            "name_id_policy_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        },
    }
    body.update(overrides)
    return body
