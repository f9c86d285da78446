"""`POST /api/identity-providers/import-config` for SAML: metadata read from a URL, sent
inline or uploaded as a file, mapped without saving anything, and the imported configuration creating
an identity provider."""

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from providers.models import IdentityProvider
from tests.providers.import_config_helpers import (
    EMAIL_FORMAT,
    ENTITY_ID,
    IDPS,
    IMPORT,
    METADATA_PATH,
    SSO_BASE,
    assert_nothing_saved,
    idp_metadata,
    upload,
)


def expected_saml_import(certificate: x509.Certificate, *, metadata_url: str = "") -> dict:
    """What importing `idp_metadata(certificate)` answers; fetched from `metadata_url`, the config
    names it, so the identity provider saved from it can refresh its metadata."""
    return {
        "protocol": "saml",
        "entity_id": ENTITY_ID,
        "saml_config": {
            "entity_id": ENTITY_ID,
            "single_sign_on_service_url": f"{SSO_BASE}/post",
            "single_logout_service_url": f"{SSO_BASE}/logout-redirect",  # the HTTP-Redirect one: logout redirects
            "name_id_policy_format": EMAIL_FORMAT,
            "signing_certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
            "want_authn_requests_signed": True,
            "post_binding_authn_request": True,
            "post_binding_response": True,
            **({"metadata_url": metadata_url} if metadata_url else {}),
        },
    }


def test_import_maps_saml_metadata_from_its_url(operator_client, httpserver, signing_certificate):
    httpserver.expect_request(METADATA_PATH).respond_with_data(
        idp_metadata(signing_certificate), content_type="application/samlmetadata+xml"
    )

    response = operator_client.post(IMPORT, {"url": httpserver.url_for(METADATA_PATH)}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == expected_saml_import(signing_certificate, metadata_url=httpserver.url_for(METADATA_PATH))
    [(request, _)] = httpserver.log
    assert "application/samlmetadata+xml" in request.headers["Accept"]
    assert_nothing_saved()


def test_import_with_protocol_saml_reads_metadata_from_any_path(operator_client, httpserver, signing_certificate):
    httpserver.expect_request("/app/exk1abc/sso").respond_with_data(idp_metadata(signing_certificate))

    response = operator_client.post(
        IMPORT, {"url": httpserver.url_for("/app/exk1abc/sso"), "protocol": "saml"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json() == expected_saml_import(
        signing_certificate, metadata_url=httpserver.url_for("/app/exk1abc/sso")
    )


def test_import_maps_inline_saml_metadata(operator_client, httpserver, signing_certificate):
    response = operator_client.post(IMPORT, {"metadata_xml": idp_metadata(signing_certificate)}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == expected_saml_import(signing_certificate)
    assert httpserver.log == []
    assert_nothing_saved()


def test_import_maps_an_uploaded_saml_metadata_file(operator_client, httpserver, signing_certificate):
    response = operator_client.post(IMPORT, {"metadata": upload(idp_metadata(signing_certificate))}, format="multipart")

    assert response.status_code == 200, response.content
    assert response.json() == expected_saml_import(signing_certificate)
    assert httpserver.log == []
    assert_nothing_saved()


def test_saml_config_imported_from_a_url_saves_the_url_to_refresh_from(
    operator_client, httpserver, signing_certificate
):
    httpserver.expect_request(METADATA_PATH).respond_with_data(idp_metadata(signing_certificate))
    url = httpserver.url_for(METADATA_PATH)
    imported = operator_client.post(IMPORT, {"url": f"  {url} ", "protocol": "saml"}, format="json").json()

    response = operator_client.post(
        IDPS, {"alias": "acme-saml", "provider_id": "saml", "saml_config": imported["saml_config"]}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["saml_config"]["metadata_url"] == url
    assert IdentityProvider.objects.get(provider__provider_id="acme-saml").metadata_url == url


def test_imported_saml_config_creates_an_identity_provider(operator_client, signing_certificate):
    imported = operator_client.post(IMPORT, {"metadata_xml": idp_metadata(signing_certificate)}, format="json").json()
    body = {
        "alias": "acme-saml",
        "display_name": "Acme (SAML)",
        "provider_id": "saml",
        # The import names the entity id next to `saml_config`; the write API takes it inside.
        "saml_config": imported["saml_config"],
    }

    response = operator_client.post(IDPS, body, format="json")

    assert response.status_code == 201, response.content
    config = response.json()["saml_config"]
    # The write API trims surrounding whitespace, here the PEM's final newline.
    sent = {**imported["saml_config"], "signing_certificate": imported["saml_config"]["signing_certificate"].strip()}
    assert {name: config[name] for name in sent} == sent
    assert config["entity_id"] == ENTITY_ID
    assert config["certificate_expires_at"] is not None
    expires_at = datetime.datetime.fromisoformat(config["certificate_expires_at"])
    assert expires_at == signing_certificate.not_valid_after_utc
    identity = IdentityProvider.objects.get(provider__provider_id="acme-saml")
    assert identity.certificate_expires_at == signing_certificate.not_valid_after_utc
    assert identity.single_sign_on_service_url == f"{SSO_BASE}/post"
