"""`POST /api/identity-providers/import-config` for OpenID Connect: a discovery document read
from its URL (or the issuer's well-known one, a local HTTP server here), mapped without saving
anything, and the imported configuration creating an identity provider."""

import pytest

from tests.providers.import_config_helpers import DISCOVERY_PATH, IDPS, IMPORT, assert_nothing_saved, requested_paths

from .oidc_documents import keycloak_discovery_document, keycloak_oidc_config


def test_import_maps_an_oidc_discovery_document_from_its_url(operator_client, httpserver):
    issuer = httpserver.url_for("/realms/acme")
    httpserver.expect_request(DISCOVERY_PATH).respond_with_json(keycloak_discovery_document(issuer))
    url = httpserver.url_for(DISCOVERY_PATH)

    response = operator_client.post(IMPORT, {"url": url}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"protocol": "oidc", "oidc_config": keycloak_oidc_config(issuer), "source_url": url}
    [(request, _)] = httpserver.log
    assert request.method == "GET"
    assert request.headers["Accept"] == "application/json"
    assert "Authorization" not in request.headers  # the caller's API token is never forwarded
    assert_nothing_saved()


@pytest.mark.parametrize("suffix", ["", "/"])
def test_import_accepts_the_issuer_and_fetches_its_well_known_document(operator_client, httpserver, suffix):
    issuer = httpserver.url_for("/realms/acme")
    httpserver.expect_request(DISCOVERY_PATH).respond_with_json(keycloak_discovery_document(issuer))

    response = operator_client.post(IMPORT, {"url": issuer + suffix}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["protocol"] == "oidc"
    assert body["oidc_config"] == keycloak_oidc_config(issuer)
    assert body["source_url"] == httpserver.url_for(DISCOVERY_PATH)
    assert requested_paths(httpserver) == [DISCOVERY_PATH]
    assert_nothing_saved()


def test_imported_oidc_config_creates_an_identity_provider(operator_client, httpserver):
    issuer = httpserver.url_for("/realms/acme")
    httpserver.expect_request(DISCOVERY_PATH).respond_with_json(keycloak_discovery_document(issuer))
    imported = operator_client.post(IMPORT, {"url": issuer}, format="json").json()

    body = {
        "alias": "acme-oidc",
        "display_name": "Acme (OIDC)",
        "provider_id": imported["protocol"],
        "oidc_config": {**imported["oidc_config"], "client_id": "registry", "client_secret": "imported-secret"},
    }
    response = operator_client.post(IDPS, body, format="json")

    assert response.status_code == 201, response.content
    config = response.json()["oidc_config"]
    assert {name: config[name] for name in imported["oidc_config"]} == imported["oidc_config"]
    assert len(httpserver.log) == 1  # creating does not fetch again
