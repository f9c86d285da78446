"""Published SAML metadata (tests/data/saml/, sources in SOURCES.md) through
`POST /api/identity-providers/import-config`: each vendor's document imports with its entity ID, SSO
URL, binding and every signing certificate, and the result creates an identity provider; a federation
aggregate listing several identity providers is a 400 naming the candidates unless `entity_id`
chooses one."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from providers.identity.discovery import certificates_info
from providers.models import IdentityProvider
from tests.providers.import_config_helpers import IDPS, IMPORT, assert_nothing_saved, upload

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "saml"
UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
ENTRA_TENANT = "8b966979-910b-487c-a604-69229b1ac75c"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# file: (entity ID, SSO URL, SLO URL, NameID format, [(signing certificate subject, not after)])
VENDORS = {
    "entra-id-federationmetadata.xml": (
        f"https://sts.windows.net/{ENTRA_TENANT}/",
        f"https://login.microsoftonline.com/{ENTRA_TENANT}/saml2",
        f"https://login.microsoftonline.com/{ENTRA_TENANT}/saml2",
        UNSPECIFIED,
        [
            ("CN=accounts.accesscontrol.windows.net", at("2019-01-04T00:00:00")),
            ("CN=accounts.accesscontrol.windows.net", at("2019-02-14T00:00:00")),
            ("CN=login.microsoftonline.us", at("2018-11-16T08:00:00")),
        ],
    ),
    "okta-metadata.xml": (
        "http://www.okta.com/exkppsa1qwuFV4D7z0h7",
        "https://dev-513394.oktapreview.com/app/rstudioincdev513394_dev_1/exkppsa1qwuFV4D7z0h7/sso/saml",
        "",
        UNSPECIFIED,
        [
            (
                "1.2.840.113549.1.9.1=info@okta.com,CN=dev-513394,OU=SSOProvider,O=Okta,L=San Francisco,"
                "ST=California,C=US",
                at("2028-09-07T14:33:59"),
            )
        ],
    ),
    "adfs-federationmetadata.xml": (
        "https://sts.ucar.edu/adfs/services/trust",
        "https://sts.ucar.edu/adfs/ls/",
        "https://sts.ucar.edu/adfs/ls/",
        EMAIL,
        # The encryption certificate ("ADFS Encryption - sts.ucar.edu") is not a signing one.
        [("CN=ADFS Signing - sts.ucar.edu", at("2018-10-01T06:24:30"))],
    ),
    "shibboleth-samltest-id-metadata.xml": (
        "https://samltest.id/saml/idp",
        "https://samltest.id/idp/profile/SAML2/POST/SSO",
        # Its HTTP-Redirect SLO endpoint (the registry's single logout redirects), not the POST one.
        "https://samltest.id/idp/profile/SAML2/Redirect/SLO",
        UNSPECIFIED,
        # Two signing keys (front and back channel), the encryption key left out.
        [("CN=samltest.id", at("2038-08-24T21:14:10")), ("CN=samltest.id", at("2038-08-24T21:14:09"))],
    ),
}

AGGREGATE = "switch-aaitest-extract.xml"
# The extract's identity providers in document order; its service provider (fsso-qa1.springer.com) is none.
CANDIDATES = [
    {"entity_id": "https://aai-demo-idp.switch.ch/idp/shibboleth", "display_name": "AAI Demo Home Organisation"},
    {
        "entity_id": "https://aai-login-int.hepl.ch/idp/shibboleth",
        "display_name": "HEP Vaud - TEST - Haute école pédagogique du canton de Vaud",
    },
    {
        "entity_id": "https://engine.elixir-czech.org/authentication/idp/metadata",
        "display_name": "ELIXIR research infrastructure AAI",
    },
]


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def signing_certificates(config: dict) -> list[tuple[str, datetime]]:
    return [(info.subject, info.not_after) for info in certificates_info(config["signing_certificate"])]


@pytest.mark.parametrize("name", list(VENDORS))
def test_a_vendors_published_metadata_imports_with_every_signing_certificate(operator_client, name):
    entity_id, sso_url, slo_url, name_id_format, certificates = VENDORS[name]

    response = operator_client.post(IMPORT, {"metadata_xml": sample(name)}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["protocol"] == "saml"
    assert body["entity_id"] == entity_id
    config = body["saml_config"]
    assert config["entity_id"] == entity_id
    assert config["single_sign_on_service_url"] == sso_url
    assert config["post_binding_authn_request"] is True  # each lists HTTP-POST beside HTTP-Redirect
    assert config["single_logout_service_url"] == slo_url
    assert config["name_id_policy_format"] == name_id_format
    assert config["want_authn_requests_signed"] is False
    assert signing_certificates(config) == certificates
    assert_nothing_saved()


@pytest.mark.parametrize("name", list(VENDORS))
def test_a_vendors_imported_configuration_creates_an_identity_provider(operator_client, name):
    entity_id, sso_url, _, _, certificates = VENDORS[name]
    imported = operator_client.post(IMPORT, {"metadata": upload(sample(name), name)}, format="multipart").json()

    response = operator_client.post(
        IDPS, {"alias": "corp-saml", "provider_id": "saml", "saml_config": imported["saml_config"]}, format="json"
    )

    assert response.status_code == 201, response.content
    identity = IdentityProvider.objects.get(provider__provider_id="corp-saml")
    assert identity.entity_id == entity_id
    assert identity.single_sign_on_service_url == sso_url
    assert identity.post_binding_authn_request is True
    assert signing_certificates({"signing_certificate": identity.signing_certificate}) == certificates
    # The expiry report tracks the first certificate to lapse.
    assert identity.certificate_expires_at == min(not_after for _, not_after in certificates)


@pytest.mark.parametrize("channel", ["metadata_xml", "metadata", "url"])
def test_an_aggregate_without_entity_id_is_refused_naming_the_candidates(operator_client, httpserver, channel):
    if channel == "url":
        httpserver.expect_request("/metadata.aaitest.xml").respond_with_data(sample(AGGREGATE))
        request, fmt = {"url": httpserver.url_for("/metadata.aaitest.xml"), "protocol": "saml"}, "json"
    elif channel == "metadata":
        request, fmt = {"metadata": upload(sample(AGGREGATE))}, "multipart"
    else:
        request, fmt = {"metadata_xml": sample(AGGREGATE)}, "json"

    response = operator_client.post(IMPORT, request, format=fmt)

    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {channel, "candidates"}
    assert body["candidates"] == CANDIDATES
    [message] = body[channel]
    assert message.startswith("The metadata lists 3 identity providers: send `entity_id`")
    for candidate in CANDIDATES:
        assert f"{candidate['entity_id']} ({candidate['display_name']})" in message
    assert "springer" not in message  # a service provider is no candidate
    assert_nothing_saved()


def test_an_aggregate_with_entity_id_imports_that_identity_provider(operator_client):
    chosen = "https://aai-login-int.hepl.ch/idp/shibboleth"

    response = operator_client.post(IMPORT, {"metadata_xml": sample(AGGREGATE), "entity_id": chosen}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["entity_id"] == chosen
    config = body["saml_config"]
    assert config["single_sign_on_service_url"] == "https://aai-login-int.hepl.ch/idp/profile/SAML2/POST/SSO"
    assert config["post_binding_authn_request"] is True
    # HEP Vaud was rolling its key over: both signing certificates are kept.
    assert signing_certificates(config) == [
        ("CN=aai-login-int.hepl.ch", at("2021-08-07T09:59:26")),
        (
            "CN=aai-login-int.hepl.ch,OU=UI,O=Haute ecole pedagogique du canton de Vaud,L=Lausanne,ST=Vaud,C=CH",
            at("2020-07-23T06:45:00"),
        ),
    ]
    assert_nothing_saved()


def test_an_aggregate_chosen_from_a_url_imports_that_identity_provider(operator_client, httpserver):
    # No protocol, and a path without a SAML hint: choosing an entity_id says it is SAML metadata.
    httpserver.expect_request("/federation/feed").respond_with_data(sample(AGGREGATE))
    chosen = "https://engine.elixir-czech.org/authentication/idp/metadata"

    response = operator_client.post(
        IMPORT, {"url": httpserver.url_for("/federation/feed"), "entity_id": chosen}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["entity_id"] == chosen
    assert response.json()["saml_config"]["post_binding_authn_request"] is False  # Redirect only


@pytest.mark.parametrize(
    ("entity_id", "message"),
    [
        (
            "https://fsso-qa1.springer.com",
            "No identity provider in the metadata has the entityID https://fsso-qa1.springer.com.",
        ),
        (
            "https://idp.example.org/idp",
            "No identity provider in the metadata has the entityID https://idp.example.org/idp.",
        ),
    ],
)
def test_an_entity_id_naming_no_identity_provider_of_the_aggregate_is_refused(operator_client, entity_id, message):
    response = operator_client.post(IMPORT, {"metadata_xml": sample(AGGREGATE), "entity_id": entity_id}, format="json")

    assert response.status_code == 400, response.content
    assert response.json() == {"entity_id": [message], "candidates": CANDIDATES}
    assert_nothing_saved()


def test_an_entity_id_other_than_the_one_described_is_refused(operator_client):
    response = operator_client.post(
        IMPORT, {"metadata_xml": sample("okta-metadata.xml"), "entity_id": "http://www.okta.com/other"}, format="json"
    )

    assert response.status_code == 400, response.content
    assert response.json() == {
        "entity_id": [
            "The metadata describes the identity provider http://www.okta.com/exkppsa1qwuFV4D7z0h7, "
            "not http://www.okta.com/other."
        ],
        "candidates": [{"entity_id": "http://www.okta.com/exkppsa1qwuFV4D7z0h7", "display_name": ""}],
    }


def test_the_entity_id_it_describes_is_accepted_for_a_single_identity_provider(operator_client):
    response = operator_client.post(
        IMPORT,
        {"metadata_xml": sample("okta-metadata.xml"), "entity_id": "http://www.okta.com/exkppsa1qwuFV4D7z0h7"},
        format="json",
    )

    assert response.status_code == 200, response.content


@pytest.mark.parametrize(("path", "protocol"), [("/.well-known/openid-configuration", None), ("/realms/acme", "oidc")])
def test_entity_id_is_refused_for_an_oidc_discovery_url(operator_client, httpserver, path, protocol):
    body = {"url": httpserver.url_for(path), "entity_id": "https://idp.example.org"}
    if protocol:
        body["protocol"] = protocol

    response = operator_client.post(IMPORT, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json() == {"entity_id": ["Only SAML metadata lists entities to choose from."]}
    assert httpserver.log == []
