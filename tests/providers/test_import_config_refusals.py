"""What `POST /api/identity-providers/import-config` refuses, always as a 400 naming the field
(never a 500) with nothing saved: redirects, 404s, bad documents, XML with a doctype, oversized or
doubled sources, and URLs outside the outbound policy; and who may make the server fetch a URL.
The lower-level parsing and fetching have their own tests (test_discovery.py, test_fetch.py)."""

import time

import pytest

from accounts.roles import IDENTITY_VIEWERS
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.providers.import_config_helpers import (
    DISCOVERY_PATH,
    IDPS,
    IMPORT,
    METADATA_PATH,
    assert_nothing_saved,
    idp_metadata,
    requested_paths,
    upload,
)

from .oidc_documents import keycloak_discovery_document


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


def assert_refused(response, field: str) -> list[str]:
    """A 400 JSON body whose only key is `field`; returns its messages."""
    assert response.status_code == 400, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == [field], body
    assert body[field] and all(isinstance(message, str) and message for message in body[field])
    return body[field]


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
