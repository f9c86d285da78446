"""`POST /api/identity-providers/import-config`: an OIDC discovery document or SAML metadata read
from the outside world (a local HTTP server here) or sent inline, parsed without saving anything.
The lower-level parsing and fetching have their own tests (test_discovery.py, test_fetch.py); these
check the endpoint: shapes, field names in errors, the outbound policy and permissions."""

import base64
import datetime
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import IDENTITY_VIEWERS
from providers.models import IdentityProvider, IdentityProviderMapper, Provider
from tests.certificates import self_signed
from tests.conftest import client_for
from tests.factories import UserFactory

from .oidc_documents import keycloak_discovery_document, keycloak_oidc_config

IMPORT = "/api/identity-providers/import-config"
IDPS = "/api/identity-providers"
DISCOVERY_PATH = "/realms/acme/.well-known/openid-configuration"
METADATA_PATH = "/saml/metadata"
ENTITY_ID = "https://idp.acme.test/realms/acme"
SSO_BASE = "https://idp.acme.test/realms/acme/protocol/saml"
POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"


@pytest.fixture(scope="session")
def httpserver_listen_address():
    # The IPv4 loopback the test settings allow, whatever "localhost" resolves to on this host.
    return ("127.0.0.1", 0)


@pytest.fixture(scope="session")
def signing_certificate() -> x509.Certificate:
    """A self-signed RSA 2048 certificate, as an IdP would publish for signing its assertions."""
    return self_signed("idp.acme.test signing", days=365)[0]


def der_base64(certificate: x509.Certificate) -> str:
    """The certificate the way metadata carries it: base64 DER, wrapped at 64 columns."""
    encoded = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()
    return "\n".join(encoded[i : i + 64] for i in range(0, len(encoded), 64))


def idp_metadata(certificate: x509.Certificate) -> str:
    """IdP metadata shaped like Keycloak's export: Redirect listed before POST on purpose."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
                     xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
                     entityID="{ENTITY_ID}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="true"
                       protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo>
        <ds:KeyName>acme-rsa</ds:KeyName>
        <ds:X509Data>
          <ds:X509Certificate>{der_base64(certificate)}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleLogoutService Binding="{REDIRECT_BINDING}" Location="{SSO_BASE}/logout-redirect"/>
    <md:SingleLogoutService Binding="{POST_BINDING}" Location="{SSO_BASE}/logout"/>
    <md:NameIDFormat>{EMAIL_FORMAT}</md:NameIDFormat>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:SingleSignOnService Binding="{REDIRECT_BINDING}" Location="{SSO_BASE}/redirect"/>
    <md:SingleSignOnService Binding="{POST_BINDING}" Location="{SSO_BASE}/post"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""


def expected_saml_import(certificate: x509.Certificate) -> dict:
    return {
        "protocol": "saml",
        "entity_id": ENTITY_ID,
        "saml_config": {
            "entity_id": ENTITY_ID,
            "single_sign_on_service_url": f"{SSO_BASE}/post",
            "single_logout_service_url": f"{SSO_BASE}/logout",
            "name_id_policy_format": EMAIL_FORMAT,
            "signing_certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
            "want_authn_requests_signed": True,
            "post_binding_authn_request": True,
            "post_binding_response": True,
        },
    }


def billion_laughs() -> str:
    entities = "\n".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    return f"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol0 "lol">
  {entities}
]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&lol9;"/>"""


def external_entity(path) -> str:
    return f"""<?xml version="1.0"?>
<!DOCTYPE md [<!ENTITY xxe SYSTEM "file://{path}">]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&xxe;"/>"""


def upload(xml: str | bytes, name: str = "idp-metadata.xml") -> SimpleUploadedFile:
    content = xml.encode() if isinstance(xml, str) else xml
    return SimpleUploadedFile(name, content, content_type="application/samlmetadata+xml")


def assert_nothing_saved() -> None:
    assert not Provider.objects.exists()
    assert not IdentityProvider.objects.exists()
    assert not IdentityProviderMapper.objects.exists()
    assert not LogEntry.objects.exists()


def assert_refused(response, field: str) -> list[str]:
    """A 400 JSON body whose only key is `field`; returns its messages."""
    assert response.status_code == 400, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == [field], body
    assert body[field] and all(isinstance(message, str) and message for message in body[field])
    return body[field]


def requested_paths(httpserver) -> list[str]:
    return [request.path for request, _ in httpserver.log]


# OpenID Connect


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


# SAML


def test_import_maps_saml_metadata_from_its_url(operator_client, httpserver, signing_certificate):
    httpserver.expect_request(METADATA_PATH).respond_with_data(
        idp_metadata(signing_certificate), content_type="application/samlmetadata+xml"
    )

    response = operator_client.post(IMPORT, {"url": httpserver.url_for(METADATA_PATH)}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == expected_saml_import(signing_certificate)
    [(request, _)] = httpserver.log
    assert "application/samlmetadata+xml" in request.headers["Accept"]
    assert_nothing_saved()


def test_import_with_protocol_saml_reads_metadata_from_any_path(operator_client, httpserver, signing_certificate):
    httpserver.expect_request("/app/exk1abc/sso").respond_with_data(idp_metadata(signing_certificate))

    response = operator_client.post(
        IMPORT, {"url": httpserver.url_for("/app/exk1abc/sso"), "protocol": "saml"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json() == expected_saml_import(signing_certificate)


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


# Refusals: a 400 naming the field, never a 500, nothing saved.


@pytest.mark.parametrize("path", [DISCOVERY_PATH, METADATA_PATH])
def test_import_refuses_a_redirect_without_requesting_its_target(operator_client, httpserver, path):
    httpserver.expect_request(path).respond_with_data("", status=302, headers={"Location": "/elsewhere"})
    httpserver.expect_request("/elsewhere").respond_with_json({"issuer": "https://evil.test"})

    response = operator_client.post(IMPORT, {"url": httpserver.url_for(path)}, format="json")

    [message] = assert_refused(response, "url")
    assert "redirect" in message
    assert requested_paths(httpserver) == [path]
    assert_nothing_saved()


@pytest.mark.parametrize("path", [DISCOVERY_PATH, METADATA_PATH])
def test_import_refuses_a_404(operator_client, httpserver, path):
    httpserver.expect_request(path).respond_with_data("Not Found: private detail", status=404)

    response = operator_client.post(IMPORT, {"url": httpserver.url_for(path)}, format="json")

    [message] = assert_refused(response, "url")
    assert "HTTP 404" in message
    assert "private detail" not in response.content.decode()


def test_import_refuses_a_discovery_document_that_is_not_json(operator_client, httpserver):
    httpserver.expect_request(DISCOVERY_PATH).respond_with_data(
        "<html><body>Sign in</body></html>", content_type="text/html"
    )

    response = operator_client.post(IMPORT, {"url": httpserver.url_for(DISCOVERY_PATH)}, format="json")

    assert assert_refused(response, "url") == ["The discovery document is not valid JSON."]


def test_import_refuses_a_discovery_document_without_jwks_uri(operator_client, httpserver):
    document = keycloak_discovery_document(httpserver.url_for("/realms/acme"))
    del document["jwks_uri"]
    httpserver.expect_request(DISCOVERY_PATH).respond_with_json(document)

    response = operator_client.post(IMPORT, {"url": httpserver.url_for(DISCOVERY_PATH)}, format="json")

    assert assert_refused(response, "url") == ["The discovery document has no jwks_uri."]
    assert_nothing_saved()


@pytest.mark.parametrize("channel", ["url", "metadata_xml", "metadata"])
@pytest.mark.parametrize("attack", ["billion laughs", "external entity"])
def test_import_refuses_xml_with_a_doctype_on_every_channel(operator_client, httpserver, tmp_path, channel, attack):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-FILE-CONTENT")
    xml = billion_laughs() if attack == "billion laughs" else external_entity(secret)
    if channel == "url":
        httpserver.expect_request(METADATA_PATH).respond_with_data(xml, content_type="application/xml")
        request, fmt = {"url": httpserver.url_for(METADATA_PATH)}, "json"
    elif channel == "metadata_xml":
        request, fmt = {"metadata_xml": xml}, "json"
    else:
        request, fmt = {"metadata": upload(xml)}, "multipart"

    started = time.monotonic()
    response = operator_client.post(IMPORT, request, format=fmt)

    assert time.monotonic() - started < 2
    assert assert_refused(response, channel) == [
        "Metadata must not contain a DOCTYPE, entity declarations or external references."
    ]
    assert "TOPSECRET" not in response.content.decode()
    assert "lol" not in response.content.decode()
    assert_nothing_saved()


@pytest.mark.parametrize(
    ("channel", "bad"),
    [
        ("metadata_xml", "<md:EntityDescriptor"),
        ("metadata_xml", "<html><body>not metadata</body></html>"),
        ("metadata", "<md:EntityDescriptor"),
        ("metadata", b"\xff\xfe\x00garbage"),
    ],
)
def test_import_refuses_malformed_metadata_naming_its_field(operator_client, channel, bad):
    if channel == "metadata":
        response = operator_client.post(IMPORT, {"metadata": upload(bad)}, format="multipart")
    else:
        response = operator_client.post(IMPORT, {"metadata_xml": bad}, format="json")

    assert_refused(response, channel)


def test_import_refuses_an_upload_over_one_megabyte(operator_client, signing_certificate):
    xml = idp_metadata(signing_certificate).replace("</md:EntityDescriptor>", "<!--" + "x" * 1_000_001 + "-->\n")
    xml += "</md:EntityDescriptor>"

    response = operator_client.post(IMPORT, {"metadata": upload(xml)}, format="multipart")

    assert assert_refused(response, "metadata") == ["At most 1 MB."]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"protocol": "oidc"},
        {"url": "", "metadata_xml": ""},
        {"url": "https://idp.acme.test/realms/acme", "metadata_xml": "<md:EntityDescriptor/>"},
        {"url": "https://idp.acme.test/saml/metadata", "metadata_xml": "<x/>", "protocol": "saml"},
    ],
    ids=["nothing", "protocol only", "blanks", "url and metadata_xml", "url, metadata_xml and protocol"],
)
def test_import_needs_exactly_one_source(operator_client, httpserver, body):
    response = operator_client.post(IMPORT, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["url"]  # blanks also name `metadata_xml`
    assert httpserver.log == []


def test_import_refuses_an_upload_together_with_a_url(operator_client, httpserver, signing_certificate):
    response = operator_client.post(
        IMPORT,
        {"url": httpserver.url_for(METADATA_PATH), "metadata": upload(idp_metadata(signing_certificate))},
        format="multipart",
    )

    assert_refused(response, "url")
    assert httpserver.log == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://idp.acme.test/realms/acme",
        "ftp://idp.acme.test/saml/metadata",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://",
        "not a url",
        "http://127.0.0.1:99999/.well-known/openid-configuration",
        "http://user:pw@127.0.0.1/saml/metadata",
    ],
)
def test_import_refuses_urls_it_cannot_fetch(operator_client, connect_attempts, url):
    response = operator_client.post(IMPORT, {"url": url}, format="json")

    assert_refused(response, "url")
    assert connect_attempts == []


@pytest.mark.parametrize("path", [DISCOVERY_PATH, METADATA_PATH])
def test_import_refuses_loopback_unless_allowed(operator_client, httpserver, settings, connect_attempts, path):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    httpserver.expect_request(path).respond_with_json({})

    response = operator_client.post(IMPORT, {"url": httpserver.url_for(path)}, format="json")

    [message] = assert_refused(response, "url")
    assert "not allowed" in message
    assert httpserver.log == []
    assert connect_attempts == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/saml/metadata",
        "http://[::ffff:169.254.169.254]/latest/meta-data",
        "http://10.0.0.1/.well-known/openid-configuration",
        "http://100.100.100.200/latest/meta-data",
    ],
)
def test_import_refuses_internal_addresses(operator_client, connect_attempts, url):
    response = operator_client.post(IMPORT, {"url": url}, format="json")

    [message] = assert_refused(response, "url")
    assert "not allowed" in message
    assert connect_attempts == []


# Permissions: only those who may change identity providers may make the server fetch a URL.


def test_import_is_forbidden_to_an_identity_provider_viewer(db, httpserver):
    viewer = UserFactory(groups=[IDENTITY_VIEWERS])
    client = client_for(viewer)
    httpserver.expect_request(DISCOVERY_PATH).respond_with_json({})

    assert client.get(IDPS).status_code == 200  # the viewer can read…
    response = client.post(IMPORT, {"url": httpserver.url_for(DISCOVERY_PATH)}, format="json")

    assert response.status_code == 403, response.content  # …but not import
    assert httpserver.log == []


def test_import_needs_authentication(db, httpserver):
    httpserver.expect_request(DISCOVERY_PATH).respond_with_json({})

    response = client_for(None).post(IMPORT, {"url": httpserver.url_for(DISCOVERY_PATH)}, format="json")

    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert httpserver.log == []
