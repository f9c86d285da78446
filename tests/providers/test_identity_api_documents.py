"""The identity-provider API (`/api/identity-providers`) against its reference documents: the
documented create example and response shape, a read body sent back verbatim, and Keycloak's broker
options accepted as the document gives them."""

import copy

import pytest

from providers.api.identity import examples
from providers.identity.services import SECRET_MASK
from providers.models import IdentityProvider, Provider
from tests.providers.identity_api_helpers import saml_body

from .dialects import CANONICAL as IDPS
from .dialects import oidc_body


# The reference document's example (identity-providers-oidc-saml-mappers.txt) with its
# "<string>" placeholders filled with real values; every key it names is sent: the portal's example
# with the document's SAML section and the mapper's id (ignored on input).
def reference_body(certificate_pem: str) -> dict:
    body = copy.deepcopy(examples.REFERENCE_EXAMPLE)
    body["saml_config"] = {
        "single_sign_on_service_url": "https://acme.okta.com/app/sso/saml",
        "single_logout_service_url": "https://acme.okta.com/app/slo/saml",
        "name_id_policy_format": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        "signing_certificate": certificate_pem,
        "want_authn_requests_signed": True,
        "post_binding_authn_request": True,
        "post_binding_response": True,
        "sync_mode": "INHERIT",
    }
    body["mappers"][0]["id"] = "ignored-on-input"
    return body


def test_reference_create_example(operator_client, certificate_pem):
    response = operator_client.post(IDPS, reference_body(certificate_pem), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert {key: body[key] for key in ("alias", "display_name", "provider_id", "enabled", "known_provider")} == {
        "alias": "okta-corp",
        "display_name": "Okta (corporate)",
        "provider_id": "oidc",
        "enabled": True,
        "known_provider": "okta",
    }
    assert body["mapper_count"] == 1
    assert body["internal_id"]
    assert body["config"]["client_secret"] == SECRET_MASK
    assert body["config"]["token_url"] == "https://acme.okta.com/oauth2/default/v1/token"
    assert "client-secret-value" not in response.content.decode()
    identity = IdentityProvider.objects.get(provider__provider_id="okta-corp")
    assert identity.client_secret == "client-secret-value"
    assert identity.provider.type == "okta"
    assert identity.mappers.get().config == {"claim": "email", "user_attribute": "email"}


def test_reference_response_shape_lists_document_fields(operator_client, certificate_pem):
    body = operator_client.post(IDPS, reference_body(certificate_pem), format="json").json()

    for key in (
        "alias",
        "display_name",
        "provider_id",
        "enabled",
        "internal_id",
        "known_provider",
        "config",
        "mapper_count",
    ):
        assert key in body
    for key in (
        "trust_email",
        "store_token",
        "add_read_token_role_on_create",
        "authenticate_by_default",
        "link_only",
        "hide_on_login",
        "first_broker_login_flow_alias",
        "update_profile_first_login_mode",
        "status",
        "domains",
        "txt_record",
        "disabled_at",
        "reference",
        "reference_origin",
        "metadata",
    ):
        assert key in body


def test_a_read_body_can_be_sent_back_verbatim(operator_client, certificate_pem):
    operator_client.post(IDPS, saml_body(certificate_pem), format="json")
    operator_client.post(IDPS, oidc_body(), format="json")

    for alias in ("corp-saml", "corp-oidc"):
        read = operator_client.get(f"{IDPS}/{alias}").json()
        body = {key: read[key] for key in ("alias", "display_name", "provider_id", "oidc_config", "saml_config")}
        body = {key: value for key, value in body.items() if value is not None}

        response = operator_client.put(f"{IDPS}/{alias}", body, format="json")

        assert response.status_code == 200, response.content
    assert IdentityProvider.objects.get(provider__provider_id="corp-oidc").client_secret == "corp-oidc-secret"


# identity-provider-broker-options.txt, "Sample Request Body", verbatim (Keycloak's representation):
# the portal's example without its issuer.
BROKER_OPTIONS_EXAMPLE = {**examples.BROKER_OPTIONS_EXAMPLE, "config": {}}


def test_broker_options_example_verbatim_is_understood_and_asks_for_the_issuer(operator_client):
    response = operator_client.post(IDPS, BROKER_OPTIONS_EXAMPLE, format="json")

    # Every field is accepted; an OIDC provider with an empty config cannot be used for a login.
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"config.issuer"}  # as Keycloak names it: the example is its representation
    assert not Provider.objects.exists()


def test_broker_options_with_a_keycloak_config_create_the_provider(operator_client):
    config = {
        "issuer": "https://sso.example.test/realms/main",
        "clientId": "registry",
        "clientSecret": "keycloak-style-secret",
        "pkceEnabled": "true",
        "syncMode": "FORCE",
    }
    response = operator_client.post(IDPS, {**BROKER_OPTIONS_EXAMPLE, "trustEmail": True, "config": config})

    assert response.status_code == 201, response.content
    read = response.json()
    assert (read["alias"], read["display_name"], read["provider_id"]) == ("keycloak-oidc-2",) * 2 + ("oidc",)
    assert read["known_provider"] == "keycloak"
    assert read["trust_email"] is True
    assert read["update_profile_first_login_mode"] == "on"
    assert read["first_broker_login_flow_alias"] == "first broker login"
    assert read["oidc_config"]["pkce_enabled"] is True
    assert read["oidc_config"]["sync_mode"] == "FORCE"
    assert read["oidc_config"]["client_secret"] == SECRET_MASK
    assert IdentityProvider.objects.get().client_secret == "keycloak-style-secret"


@pytest.mark.parametrize(
    "change,field",
    [
        ({"providerId": "myspace"}, "providerId"),
        ({"trustEmail": "yes"}, "trustEmail"),
        ({"config": {"clientSecretz": "x"}}, "config.clientSecretz"),
        ({"config": {"issuer": "ftp://x.test"}}, "config.issuer"),
        ({"config": []}, "config"),
        ({"trustEmail": True, "trust_email": False}, "trustEmail"),
    ],
)
def test_bad_broker_options_name_the_field_as_sent(operator_client, change, field):
    response = operator_client.post(IDPS, {**BROKER_OPTIONS_EXAMPLE, **change}, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
