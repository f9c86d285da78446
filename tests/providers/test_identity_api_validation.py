"""What the identity-provider API accepts on create: SAML and OIDC rules, bad input named by
field, the known-provider presets, the metadata nesting limit and the display name's default."""

import json

import pytest
from django.core.exceptions import ValidationError

from providers.identity import services as identity_services
from providers.models import IdentityProvider, Provider
from tests.providers.identity_api_helpers import saml_body

from .dialects import CANONICAL as IDPS
from .dialects import oidc_body


def test_saml_provider_shows_certificate_expiry(operator_client, certificate_pem):
    response = operator_client.post(IDPS, saml_body(certificate_pem), format="json")

    assert response.status_code == 201, response.content
    config = response.json()["saml_config"]
    assert config["single_sign_on_service_url"] == "https://idp.corp.test/sso"
    assert config["certificate_expires_at"].startswith(str(IdentityProvider.objects.get().certificate_expires_at.year))
    assert response.json()["oidc_config"] is None
    assert Provider.objects.get(provider_id="corp-saml").type == "saml"


@pytest.mark.parametrize(
    "saml_changes,field",
    [
        ({"signing_certificate": ""}, "saml_config.signing_certificate"),
        ({"signing_certificate": "CERT"}, "saml_config.signing_certificate"),
        (
            {"signing_certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"},
            "saml_config.signing_certificate",
        ),
        ({"single_sign_on_service_url": ""}, "saml_config.single_sign_on_service_url"),
        ({"single_sign_on_service_url": "not a url"}, "saml_config.single_sign_on_service_url"),
    ],
)
def test_saml_rules(operator_client, certificate_pem, saml_changes, field):
    body = saml_body(certificate_pem)
    body["saml_config"].update(saml_changes)

    response = operator_client.post(IDPS, body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Provider.objects.exists()


def test_oidc_needs_endpoints_or_an_issuer(operator_client):
    body = oidc_body(oidc_config={"client_id": "x"})

    response = operator_client.post(IDPS, body, format="json")

    assert response.status_code == 400
    assert "oidc_config.issuer" in response.json()


def test_oidc_with_issuer_only_is_accepted(operator_client):
    body = oidc_body(oidc_config={"issuer": "https://sso.corp.test/realms/main", "client_id": "registry"})

    assert operator_client.post(IDPS, body, format="json").status_code == 201


@pytest.mark.parametrize(
    "change,field",
    [
        ({"provider_id": "ldap"}, "provider_id"),
        ({"known_provider": "myspace"}, "known_provider"),
        ({"known_provider": "custom_saml"}, "known_provider"),
        ({"oidc_config": {"issuer": "https://x.test", "pkce_method": "S512"}}, "oidc_config.pkce_method"),
        ({"oidc_config": {"issuer": "https://x.test", "sync_mode": "SOMETIMES"}}, "oidc_config.sync_mode"),
        ({"oidc_config": {"issuer": "https://x.test", "client_auth_method": "none"}}, "oidc_config.client_auth_method"),
        ({"oidc_config": {"issuer": "https://x.test", "token_url": "ftp://x.test"}}, "oidc_config.token_url"),
        ({"oidc_config": {"issuer": "javascript:alert(1)"}}, "oidc_config.issuer"),
        ({"oidc_config": {"issuer": "https://x.test", "validate_signature": "yes"}}, "oidc_config.validate_signature"),
        ({"oidc_config": {"issuer": "https://x.test", "client_secret": "s"}}, "oidc_config.client_id"),
        ({"update_profile_first_login_mode": "always"}, "update_profile_first_login_mode"),
        ({"alias": "has space"}, "alias"),
        ({"alias": "a" * 65}, "alias"),
        ({"display_name": ""}, "display_name"),
        ({"metadata": ["not", "an", "object"]}, "metadata"),
        ({"metadata": {"blob": "x" * 20_000}}, "metadata"),
        ({"domains": ["not a domain"]}, "domains"),
        ({"domains": "corp.test"}, "domains"),
        ({"trust_email": 1}, "trust_email"),
        (
            {"mappers": [{"name": "m", "identity_provider_mapper": "no-such-mapper"}]},
            "mappers.0.identity_provider_mapper",
        ),
        (
            {"mappers": [{"name": "m", "identity_provider_mapper": "oidc-user-attribute-idp-mapper", "config": {}}]},
            "mappers.0.config.claim",
        ),
        ({"unknown_option": True}, "unknown_option"),
    ],
)
def test_bad_identity_provider_input_names_the_field(operator_client, change, field):
    body = oidc_body()
    body.update(change)

    response = operator_client.post(IDPS, body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not IdentityProvider.objects.exists()
    assert not Provider.objects.exists()


@pytest.mark.parametrize(
    "known,issuer,expected",
    [
        ("google", "", {"token_url": "https://oauth2.googleapis.com/token", "issuer": "https://accounts.google.com"}),
        (
            "keycloak",
            "https://sso.test/realms/acme",
            {
                "authorization_url": "https://sso.test/realms/acme/protocol/openid-connect/auth",
                "jwks_url": "https://sso.test/realms/acme/protocol/openid-connect/certs",
            },
        ),
        (
            "entra_id",
            "https://login.microsoftonline.com/tenant-1/v2.0",
            {"token_url": "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token"},
        ),
        ("auth0", "https://acme.eu.auth0.com/", {"token_url": "https://acme.eu.auth0.com/oauth/token"}),
        (
            "okta",
            "https://acme.okta.com/oauth2/default",
            {"authorization_url": "https://acme.okta.com/oauth2/default/v1/authorize"},
        ),
    ],
)
def test_known_provider_presets_fill_endpoints_and_scope(operator_client, known, issuer, expected):
    config = {"client_id": "c"}
    if issuer:
        config["issuer"] = issuer
    body = {
        "alias": known.replace("_", "-"),
        "display_name": known,
        "provider_id": "oidc",
        "known_provider": known,
        "oidc_config": config,
    }

    response = operator_client.post(IDPS, body, format="json")

    assert response.status_code == 201, response.content
    oidc = response.json()["oidc_config"]
    assert oidc["default_scope"] == "openid email profile"
    for name, value in expected.items():
        assert oidc[name] == value


def test_github_preset_is_oauth2_with_its_scopes(operator_client):
    body = {
        "alias": "gh-login",
        "display_name": "GitHub",
        "provider_id": "oauth2",
        "known_provider": "github",
        "oidc_config": {"client_id": "Iv1.abc", "client_secret": "s"},
    }

    response = operator_client.post(IDPS, body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["oidc_config"]["default_scope"] == "read:user user:email"
    assert response.json()["oidc_config"]["token_url"] == "https://github.com/login/oauth/access_token"


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_metadata_nested_past_the_limit_is_a_400_not_a_crash(operator_client):
    body = json.dumps({**oidc_body(), "metadata": nested(890)})

    response = operator_client.generic("POST", IDPS, body, content_type="application/json")

    assert response.status_code == 400
    assert "nested more than 32 levels" in response.json()["detail"]
    assert not IdentityProvider.objects.exists()


def test_metadata_depth_is_checked_by_the_service_too(operator):
    with pytest.raises(ValidationError) as excinfo:
        identity_services.identity_provider_create(
            actor=operator,
            alias="deep",
            display_name="Deep",
            protocol="oidc",
            data={"issuer": "https://deep.test", "metadata": nested(33)},
        )

    assert "metadata" in excinfo.value.message_dict
    identity_services.identity_provider_create(
        actor=operator,
        alias="ok",
        display_name="OK",
        protocol="oidc",
        data={"metadata": nested(32), "issuer": "https://ok.test"},
    )


def test_display_name_defaults_to_the_alias_on_create_only(operator_client):
    body = oidc_body()
    body.pop("display_name")
    assert operator_client.post(IDPS, body, format="json").json()["display_name"] == body["alias"]
    operator_client.patch(f"{IDPS}/{body['alias']}", {"display_name": "Corporate"}, format="json")

    patched = operator_client.patch(f"{IDPS}/{body['alias']}", {"enabled": False}, format="json")

    assert patched.json()["display_name"] == "Corporate"
