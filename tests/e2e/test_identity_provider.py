"""An operator creates an OIDC identity provider by importing a discovery document from a local
server, adds two mappers, runs them on sample claims and disables the provider; the public login
list follows each step. Another imports one SAML identity provider from a federation aggregate, and
another imports one from the test identity provider's metadata URL and follows its key rollover with
the "Refresh metadata" buttons."""

import json
import urllib.request
from pathlib import Path

import pytest

from providers.models import IdentityProvider, IdentityProviderMapper
from tests.e2e.conftest import document, sign_in
from tests.factories import OperatorFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(scope="session")
def httpserver_listen_address():
    return ("127.0.0.1", 0)


def public_names(live_server) -> list[str]:
    with urllib.request.urlopen(f"{live_server.url}/api/idps", timeout=10) as response:
        return [item["name"] for item in json.loads(response.read())["providers"]]


def serve_discovery(httpserver) -> str:
    issuer = httpserver.url_for("/realms/acme").rstrip("/")
    httpserver.expect_request("/realms/acme/.well-known/openid-configuration").respond_with_json(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/protocol/openid-connect/auth",
            "token_endpoint": f"{issuer}/protocol/openid-connect/token",
            "userinfo_endpoint": f"{issuer}/protocol/openid-connect/userinfo",
            "jwks_uri": f"{issuer}/protocol/openid-connect/certs",
            "end_session_endpoint": f"{issuer}/protocol/openid-connect/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }
    )
    return f"{issuer}/.well-known/openid-configuration"


def test_operator_imports_an_oidc_provider_adds_mappers_tries_them_and_disables_it(page, live_server, httpserver):
    OperatorFactory(username="idp-admin")
    discovery = serve_discovery(httpserver)
    sign_in(page, "idp-admin")
    assert public_names(live_server) == []

    page.goto("/admin/providers/identityprovider/add/")
    page.fill("#id_alias", "acme-sso")
    page.fill("#id_display_name", "Sign in with ACME")
    page.select_option("#id_protocol", "oidc")
    page.fill("#import-url", discovery)
    page.select_option("#import-protocol", "oidc")
    page.click("#import-url-button")
    page.wait_for_selector("#import-status:has-text('Imported')")
    assert page.input_value("#id_issuer") == discovery.removesuffix("/.well-known/openid-configuration")
    assert page.input_value("#id_token_url").endswith("/protocol/openid-connect/token")
    page.fill("#id_client_id", "registry")
    page.fill("#id_client_secret", "acme-client-secret-e2e")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    assert public_names(live_server) == ["acme-sso"]

    for row, (name, mapper_type, config) in enumerate(
        [
            ("email", "oidc-user-attribute-idp-mapper", {"claim": "email", "user_attribute": "email"}),
            ("owners", "oidc-hardcoded-group-idp-mapper", {"group": "project_owner"}),
        ]
    ):
        page.click(".inline-group .add-row a")
        page.fill(f"#id_mappers-{row}-name", name)
        page.select_option(f"#id_mappers-{row}-mapper_type", mapper_type)
        page.fill(f"#id_mappers-{row}-config", json.dumps(config))
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    assert sorted(IdentityProviderMapper.objects.values_list("name", flat=True)) == ["email", "owners"]

    page.fill("#dry-run-claims", json.dumps({"email": "jane@acme.test", "sub": "42"}))
    page.click("#dry-run-button")
    page.wait_for_selector("#dry-run-status:has-text('2 mapper(s) applied')")
    result = json.loads(page.inner_text("#dry-run-result"))
    assert result["attributes"]["email"] == "jane@acme.test"
    assert result["groups"] == ["project_owner"]
    page.locator("#mapper-dry-run").scroll_into_view_if_needed()
    document(page, "identity-provider-dry-run")

    page.click("button.lifecycle-disable")
    page.wait_for_selector(".messagelist li:has-text('1 identity provider(s) disabled')")
    assert IdentityProvider.objects.get(provider__provider_id="acme-sso").provider.enabled is False
    assert public_names(live_server) == []
    assert "acme-client-secret-e2e" not in page.content()


def test_operator_chooses_one_identity_provider_of_a_federation_aggregate(page, live_server, console):
    # The first import answers 400 with the candidates, on purpose.
    console.allow("the server responded with a status of 400")
    OperatorFactory(username="idp-admin")
    aggregate = Path(__file__).resolve().parents[1] / "data" / "saml" / "switch-aaitest-extract.xml"
    chosen = "https://aai-login-int.hepl.ch/idp/shibboleth"
    sign_in(page, "idp-admin")

    page.goto("/admin/providers/identityprovider/add/")
    page.fill("#id_alias", "hep-vaud")
    page.select_option("#id_protocol", "saml")
    page.set_input_files("#import-file", str(aggregate))
    page.click("#import-file-button")
    page.wait_for_selector("#import-status:has-text('lists 3 identity providers')")
    assert page.is_visible("#import-entity-id")
    options = page.locator("#import-entity-id option")
    assert options.all_inner_texts() == [
        "AAI Demo Home Organisation — https://aai-demo-idp.switch.ch/idp/shibboleth",
        f"HEP Vaud - TEST - Haute école pédagogique du canton de Vaud — {chosen}",
        "ELIXIR research infrastructure AAI — https://engine.elixir-czech.org/authentication/idp/metadata",
    ]
    page.select_option("#import-entity-id", chosen)
    page.click("#import-candidate-button")
    page.wait_for_selector("#import-status:has-text('Imported')")
    assert not page.is_visible("#import-entity-id")
    assert page.input_value("#id_entity_id") == chosen
    assert page.input_value("#id_display_name") == "HEP Vaud - TEST - Haute école pédagogique du canton de Vaud"
    assert page.input_value("#id_single_sign_on_service_url") == (
        "https://aai-login-int.hepl.ch/idp/profile/SAML2/POST/SSO"
    )
    assert page.input_value("#id_signing_certificate").count("BEGIN CERTIFICATE") == 2
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    identity = IdentityProvider.objects.get(provider__provider_id="hep-vaud")
    assert identity.entity_id == chosen
    assert identity.signing_certificate.count("BEGIN CERTIFICATE") == 2


def test_operator_imports_saml_metadata_from_its_url_and_refreshes_it_after_a_rollover(
    page, live_server, fresh_saml_provider
):
    idp = fresh_saml_provider
    OperatorFactory(username="idp-admin")
    sign_in(page, "idp-admin")

    page.goto("/admin/providers/identityprovider/add/")
    page.fill("#id_alias", "corp-saml")
    page.fill("#id_display_name", "Corporate SAML")
    page.select_option("#id_protocol", "saml")
    page.fill("#import-url", idp.metadata_url)
    page.select_option("#import-protocol", "saml")
    page.click("#import-url-button")
    page.wait_for_selector("#import-status:has-text('Imported')")
    assert page.input_value("#id_metadata_url") == idp.metadata_url
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    identity = IdentityProvider.objects.get(provider__provider_id="corp-saml")
    assert identity.metadata_url == idp.metadata_url
    assert identity.signing_certificate.count("BEGIN CERTIFICATE") == 1

    idp.publish_both_keys()
    page.click("button.lifecycle-refresh-metadata")
    page.wait_for_selector(".messagelist li.success:has-text('Metadata refreshed: 1 certificate added')")
    identity.refresh_from_db()
    assert identity.signing_certificate.count("BEGIN CERTIFICATE") == 2
    assert page.input_value("#id_signing_certificate").count("BEGIN CERTIFICATE") == 2

    idp.use_key(1)
    page.click("button.lifecycle-refresh-metadata")
    page.wait_for_selector(".messagelist li.warning:has-text('Still trusted though the metadata no longer lists')")
    page.click("button.lifecycle-refresh-metadata-remove")
    page.wait_for_selector(".messagelist li.success:has-text('1 certificate no longer in the metadata, removed')")
    identity.refresh_from_db()
    assert identity.signing_certificate.strip() == idp.certificate_pem(1).strip()
