"""Test connection for identity providers: an OIDC issuer's discovery document and JWKS
fetched without credentials, a SAML single sign-on URL reached, and nothing to test without an
identity configuration."""

import json

from providers.models import Provider
from providers.services import provider_test_connection
from tests.factories import IdentityProviderFactory, ProviderFactory
from tests.providers.connection_helpers import PROVIDERS

from .oidc_documents import keycloak_discovery_document


def oidc_issuer(httpserver, keys: list | None = None) -> str:
    issuer = httpserver.url_for("/realms/acme")
    httpserver.expect_request("/realms/acme/.well-known/openid-configuration").respond_with_json(
        keycloak_discovery_document(issuer)
    )
    default_keys = [{"kid": "k1", "kty": "RSA", "alg": "RS256", "use": "sig", "n": "sXch", "e": "AQAB"}]
    httpserver.expect_request("/realms/acme/protocol/openid-connect/certs").respond_with_json(
        {"keys": default_keys if keys is None else keys}
    )
    return issuer


def oidc_provider(operator, issuer: str) -> Provider:
    """An OIDC provider with only its issuer: the endpoints come from the discovery document."""
    return IdentityProviderFactory(
        alias="corp-oidc",
        client_secret="oidc-client-secret-value",
        issuer=issuer,
        authorization_url="",
        token_url="",
    ).provider


def test_oidc_fetches_discovery_document_and_jwks_without_credentials(httpserver, operator, operator_client):
    oidc_provider(operator, oidc_issuer(httpserver))

    body = operator_client.post(f"{PROVIDERS}/corp-oidc/test").json()

    assert body["ok"] is True
    assert body["status"] == 200
    assert body["message"] == "Discovery document and JWKS fetched (1 key)."
    assert [request.path for request, _ in httpserver.log] == [
        "/realms/acme/.well-known/openid-configuration",
        "/realms/acme/protocol/openid-connect/certs",
    ]
    assert all("Authorization" not in request.headers for request, _ in httpserver.log)
    assert "oidc-client-secret-value" not in json.dumps(body)


def test_oidc_with_an_empty_jwks_fails(httpserver, operator):
    provider = oidc_provider(operator, oidc_issuer(httpserver, keys=[]))

    result = provider_test_connection(provider=provider, actor=operator)

    assert (result.ok, result.message) == (False, "The JWKS has no keys.")


def test_oidc_discovery_failure_is_reported(httpserver, operator):
    httpserver.expect_request("/realms/gone/.well-known/openid-configuration").respond_with_data("gone", status=404)
    provider = oidc_provider(operator, httpserver.url_for("/realms/gone"))

    result = provider_test_connection(provider=provider, actor=operator)

    assert result.ok is False
    assert result.message == "The discovery document URL returned HTTP 404; expected 200."


def test_saml_single_sign_on_url_is_reachable(httpserver, operator):
    httpserver.expect_request("/saml/sso").respond_with_data("SAMLRequest missing", status=400)
    provider = IdentityProviderFactory(saml=True, single_sign_on_service_url=httpserver.url_for("/saml/sso")).provider

    result = provider_test_connection(provider=provider, actor=operator)

    assert (result.ok, result.status) == (True, 400)
    assert result.message == "The single sign-on URL is reachable (HTTP 400)."


def test_identity_type_without_identity_configuration_has_nothing_to_test(httpserver, operator_client):
    ProviderFactory(provider_id="okta-bare", type="okta", api_base_url=httpserver.url_for("/api/v1"))

    body = operator_client.post(f"{PROVIDERS}/okta-bare/test").json()

    assert body["ok"] is False
    assert body["message"] == "Nothing to test for this provider type without identity configuration."
    assert httpserver.log == []
