"""The test SAML identity provider itself (tests/idp/saml_provider.py through its fixture): what the SAML
sign-in tests rely on, checked with python3-saml as a service provider (its AuthnRequests, its metadata
parser, its response and logout validation). No Django here, beyond the product's metadata import."""

import base64
import re
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.logout_request import OneLogin_Saml2_Logout_Request
from onelogin.saml2.logout_response import OneLogin_Saml2_Logout_Response
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from providers.identity.discovery import certificates_info, saml_parse_metadata
from tests.certificates import pem, self_signed

from .saml_provider import NAMEID_PERSISTENT, SamlProvider, SamlProviderError, redirect_request_xml

SP_HOST, SP_PORT = "127.0.0.1", 9  # never requested: sign_in stops before posting
SP_BASE = f"http://{SP_HOST}:{SP_PORT}"
SP_ENTITY_ID = f"{SP_BASE}/saml/metadata"
ACS_URL = f"{SP_BASE}/saml/acs"
SLS_URL = f"{SP_BASE}/saml/sls"
ACS_REQUEST = {"http_host": f"{SP_HOST}:{SP_PORT}", "script_name": "/saml/acs", "https": "off"}
MAIL, GIVEN_NAME = "urn:oid:0.9.2342.19200300.100.1.3", "urn:oid:2.5.4.42"
PROTOCOL, ASSERTION = "urn:oasis:names:tc:SAML:2.0:protocol", "urn:oasis:names:tc:SAML:2.0:assertion"


@pytest.fixture(scope="module")
def sp_key():
    """The service provider's key pair (signed requests, encrypted assertions)."""
    certificate, key = self_signed("sp.example.test", days=30)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem(certificate), private


@pytest.fixture
def idp(fresh_saml_provider: SamlProvider, sp_key) -> SamlProvider:
    fresh_saml_provider.register_sp(entity_id=SP_ENTITY_ID, acs_url=ACS_URL, sls_url=SLS_URL, certificate=sp_key[0])
    return fresh_saml_provider


def metadata(idp: SamlProvider) -> str:
    with urllib.request.urlopen(idp.metadata_url, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("application/samlmetadata+xml")
        return response.read().decode()


def sp_settings(idp: SamlProvider, sp_key=None, *, certificates: list[str] | None = None, **security) -> dict:
    """python3-saml settings for the test service provider, the IdP read from its published metadata
    (`certificates`: trust these signing certificates instead)."""
    parsed = OneLogin_Saml2_IdPMetadataParser.parse(metadata(idp))
    idp_settings = parsed["idp"]
    if certificates is not None:
        idp_settings.pop("x509cert", None)
        idp_settings["x509certMulti"] = {"signing": list(certificates)}
    sp = {
        "entityId": SP_ENTITY_ID,
        "assertionConsumerService": {"url": ACS_URL},
        "singleLogoutService": {"url": SLS_URL},
        "NameIDFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    }
    if sp_key:
        sp |= {"x509cert": sp_key[0], "privateKey": sp_key[1]}
    return {
        "strict": True,
        "sp": sp,
        "idp": idp_settings,
        "security": {"wantAssertionsSigned": True, "wantMessagesSigned": True, "rejectDeprecatedAlgorithm": True}
        | security,
    }


def start(settings: dict, *, relay_state: str = "relay-1") -> tuple[str, str]:
    """A login as python3-saml starts it: the Redirect-binding URL and the request's ID."""
    auth = OneLogin_Saml2_Auth(ACS_REQUEST | {"get_data": {}, "post_data": {}}, settings)
    url = auth.login(return_to=relay_state)
    return url, auth.get_last_request_id()


def validate(settings: dict, fields: dict[str, str], request_id: str | None) -> OneLogin_Saml2_Response:
    response = OneLogin_Saml2_Response(
        OneLogin_Saml2_Settings(settings, sp_validation_only=True), fields["SAMLResponse"]
    )
    response.is_valid(ACS_REQUEST, request_id, raise_exceptions=True)
    return response


def refusal(settings: dict, fields: dict[str, str], request_id: str | None) -> str:
    """python3-saml's reason for refusing the response (it must refuse it)."""
    response = OneLogin_Saml2_Response(
        OneLogin_Saml2_Settings(settings, sp_validation_only=True), fields["SAMLResponse"]
    )
    assert response.is_valid(ACS_REQUEST, request_id) is False
    return response.get_error()


def response_xml(fields: dict[str, str]) -> etree._Element:
    return etree.fromstring(base64.b64decode(fields["SAMLResponse"]))


def test_the_metadata_describes_the_identity_provider(idp):
    document = metadata(idp)

    parsed = OneLogin_Saml2_IdPMetadataParser.parse(document)["idp"]
    assert idp.entity_id == idp.metadata_url
    assert parsed["entityId"] == idp.entity_id
    assert parsed["singleSignOnService"]["url"] == idp.sso_url
    assert parsed["singleLogoutService"]["url"] == idp.slo_url
    assert parsed["x509cert"] == "".join(idp.certificate_pem(0).strip().splitlines()[1:-1])
    # Both bindings of the SSO service, and the product's own import reads it.
    root = etree.fromstring(document.encode())
    bindings = root.xpath(
        "//md:SingleSignOnService/@Binding", namespaces={"md": "urn:oasis:names:tc:SAML:2.0:metadata"}
    )
    assert sorted(bindings) == [
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
    ]
    imported = saml_parse_metadata(document)
    assert imported["entity_id"] == idp.entity_id
    assert imported["saml_config"]["single_sign_on_service_url"] == idp.sso_url
    assert imported["saml_config"]["single_logout_service_url"] == idp.slo_url
    assert imported["saml_config"]["signing_certificate"] == idp.certificate_pem(0)


def test_the_metadata_publishes_both_signing_certificates_during_a_rollover(idp):
    idp.publish_both_keys()

    parsed = OneLogin_Saml2_IdPMetadataParser.parse(metadata(idp))["idp"]
    imported = saml_parse_metadata(metadata(idp))["saml_config"]["signing_certificate"]

    bare = ["".join(idp.certificate_pem(i).strip().splitlines()[1:-1]) for i in (0, 1)]
    assert parsed["x509certMulti"]["signing"] == bare
    assert imported == idp.certificate_pem(0) + idp.certificate_pem(1)
    assert idp.certificate_pem(0) != idp.certificate_pem(1)


def test_a_redirect_binding_login_is_answered_with_a_response_python3_saml_accepts(idp):
    idp.set_user(
        "ana@example.test",
        attributes={"mail": "ana@example.test", "givenName": "Ana", "groups": ["admins", "staff"]},
    )
    settings = sp_settings(idp)
    url, request_id = start(settings)

    acs_url, fields = idp.sign_in(url)

    assert acs_url == ACS_URL
    assert fields["RelayState"] == "relay-1"
    response = validate(settings, fields, request_id)
    assert response.get_nameid() == "ana@example.test"
    assert response.get_nameid_format() == "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
    attributes = response.get_attributes()
    assert attributes[MAIL] == ["ana@example.test"]  # by Name (an OID) ...
    assert attributes[GIVEN_NAME] == ["Ana"]
    assert attributes["groups"] == ["admins", "staff"]  # no known OID: its name alone
    assert response.get_friendlyname_attributes() == {"mail": ["ana@example.test"], "givenName": ["Ana"]}
    assert [request.id for request in idp.requests] == [request_id]
    # Both the response and the assertion signed (RSA-SHA256), by key 0.
    root = response_xml(fields)
    methods = root.xpath("//ds:SignatureMethod/@Algorithm", namespaces={"ds": "http://www.w3.org/2000/09/xmldsig#"})
    assert methods == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"] * 2


def test_a_post_binding_login_is_answered_too(idp):
    idp.set_user("1234-5678", attributes={"mail": "bo@example.test"}, name_id_format=NAMEID_PERSISTENT)
    settings = sp_settings(idp)
    request_xml = redirect_request_xml(start(settings)[0])
    request_id = etree.fromstring(request_xml.encode()).get("ID")
    form = {"SAMLRequest": base64.b64encode(request_xml.encode()).decode(), "RelayState": "posted"}

    acs_url, fields = idp.sign_in(form)

    assert (acs_url, fields["RelayState"]) == (ACS_URL, "posted")
    response = validate(settings, fields, request_id)
    assert response.get_nameid() == "1234-5678"
    assert response.get_nameid_format() == NAMEID_PERSISTENT


def test_the_signing_key_switches_and_only_its_certificate_verifies(idp):
    idp.use_key(1)
    old_only = sp_settings(idp, certificates=[idp.certificate_pem(0)])
    url, request_id = start(old_only)

    _, fields = idp.sign_in(url)

    assert "Signature validation failed" in refusal(old_only, fields, request_id)
    validate(sp_settings(idp, certificates=[idp.certificate_pem(1)]), fields, request_id)
    validate(sp_settings(idp, certificates=[idp.certificate_pem(0), idp.certificate_pem(1)]), fields, request_id)
    assert idp.signing_key == 1
    assert saml_parse_metadata(metadata(idp))["saml_config"]["signing_certificate"] == idp.certificate_pem(1)


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"sign_response": False, "sign_assertion": False}, "The Assertion of the Response is not signed"),
        ({"sign_response": False}, "The Message of the Response is not signed"),
        # NotOnOrAfter of both the SubjectConfirmationData and the Conditions, past any clock drift the
        # service provider allows (python3-saml's 300 s, or the product's SIGNIN_CLOCK_SKEW).
        ({"not_on_or_after": -600}, "Could not validate timestamp: expired"),
        ({"audience": "https://someone-else.example/sp"}, "is not a valid audience"),
        ({"in_response_to": "_not-the-request"}, "does not match the ID of the AuthNRequest"),
        ({"destination": "https://someone-else.example/acs"}, "The response was received at"),
        ({"recipient": "https://someone-else.example/acs"}, "A valid SubjectConfirmation was not found"),
        ({"issuer": "https://impostor.example/idp"}, "Invalid issuer in the Assertion/Response"),
        ({"cancel": True}, "The status code of the Response was not Success"),
    ],
)
def test_each_crafted_fault_is_refused_by_a_service_provider(idp, options, reason):
    settings = sp_settings(idp)
    url, request_id = start(settings)

    _, fields = idp.sign_in(url, **options)

    assert reason.lower() in refusal(settings, fields, request_id).lower()


def test_a_response_signed_only_on_its_assertion_passes_where_messages_need_no_signature(idp):
    settings = sp_settings(idp, wantMessagesSigned=False)
    url, request_id = start(settings)

    _, fields = idp.sign_in(url, sign_response=False)

    validate(settings, fields, request_id)
    root = response_xml(fields)
    assert root.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is None
    assert root.find(f"{{{ASSERTION}}}Assertion/{{http://www.w3.org/2000/09/xmldsig#}}Signature") is not None


def test_an_assertion_encrypted_with_the_sp_certificate_is_decrypted_by_the_sp(idp, sp_key):
    settings = sp_settings(idp, sp_key, wantAssertionsEncrypted=True)
    url, request_id = start(settings)

    _, fields = idp.sign_in(url, encrypt_assertion=True)

    assert response_xml(fields).find(f"{{{ASSERTION}}}EncryptedAssertion") is not None
    assert b"ana@example.test" not in base64.b64decode(fields["SAMLResponse"])
    response = validate(settings, fields, request_id)
    assert response.get_nameid() == "ana@example.test"
    assert response.get_friendlyname_attributes()["mail"] == ["ana@example.test"]


def test_an_unsolicited_response_has_no_in_response_to(idp):
    settings = sp_settings(idp)

    fields = idp.unsolicited_response(ACS_URL, relay_state="/landing")

    assert fields["RelayState"] == "/landing"
    assert response_xml(fields).get("InResponseTo") is None
    validate(settings, fields, None)


def test_a_browser_signs_in_on_the_page_and_is_sent_to_the_acs_with_a_form(idp):
    settings = sp_settings(idp)
    url, request_id = start(settings)

    with urllib.request.urlopen(url, timeout=10) as page:
        html = page.read().decode()
    assert 'name="login" value="ana@example.test"' in html
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    hidden = {name: value.replace("&amp;", "&").replace("&quot;", '"') for name, value in hidden.items()}
    body = urlencode(hidden | {"login": "ana@example.test", "action": "login"}).encode()
    with urllib.request.urlopen(f"{idp.base_url}/sso/login", data=body, timeout=10) as answer:
        posted = answer.read().decode()

    assert f'<form method="post" action="{ACS_URL}">' in posted
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', posted))
    assert fields["RelayState"] == "relay-1"
    validate(settings, fields, request_id)


def test_a_request_from_a_service_provider_it_does_not_know_is_refused(fresh_saml_provider):
    settings = sp_settings(fresh_saml_provider)

    with pytest.raises(SamlProviderError, match="register_sp"):
        fresh_saml_provider.sign_in(start(settings)[0])


def test_the_sign_in_page_refuses_a_request_it_cannot_read(idp):
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{idp.sso_url}?{urlencode({'SAMLRequest': 'not a request'})}", timeout=10)

    assert caught.value.code == 400


def test_signed_requests_can_be_required(idp, sp_key):
    idp.register_sp(
        entity_id=SP_ENTITY_ID, acs_url=ACS_URL, sls_url=SLS_URL, certificate=sp_key[0], authn_requests_signed=True
    )
    idp.require_signed_requests()
    unsigned = sp_settings(idp)
    signed = sp_settings(idp, sp_key, authnRequestsSigned=True)

    with pytest.raises(SamlProviderError, match="refused"):
        idp.sign_in(start(unsigned)[0])
    url, request_id = start(signed)
    assert "Signature=" in url
    _, fields = idp.sign_in(url)

    validate(signed, fields, request_id)
    assert 'WantAuthnRequestsSigned="true"' in metadata(idp)


def test_a_logout_request_is_answered_with_a_logout_response_redirect(idp):
    settings = sp_settings(idp)
    request = OneLogin_Saml2_Logout_Request(
        OneLogin_Saml2_Settings(settings, sp_validation_only=True), name_id="ana@example.test"
    )
    url = f"{idp.slo_url}?{urlencode({'SAMLRequest': request.get_request(), 'RelayState': 'bye'})}"

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            return None

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.build_opener(NoRedirect).open(url, timeout=10)

    assert caught.value.code == 302
    location = caught.value.headers["Location"]
    assert location.startswith(SLS_URL + "?")
    query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
    assert query["RelayState"] == "bye"
    logout = OneLogin_Saml2_Logout_Response(
        OneLogin_Saml2_Settings(settings, sp_validation_only=True), query["SAMLResponse"]
    )
    assert logout.get_status() == "urn:oasis:names:tc:SAML:2.0:status:Success"
    assert logout.document.get("InResponseTo") == request.id
    assert [message.name_id.text for message in idp.logout_requests] == ["ana@example.test"]


def test_reset_puts_back_the_start_state(saml_provider):
    saml_provider.use_key(1, publish_both=True)
    saml_provider.set_user("someone@example.test")
    saml_provider.register_sp(entity_id="urn:sp:other", acs_url="http://127.0.0.1:9/other/acs")

    saml_provider.reset()

    assert saml_provider.signing_key == 0
    assert [
        info.subject
        for info in certificates_info(
            saml_parse_metadata(metadata(saml_provider))["saml_config"]["signing_certificate"]
        )
    ] == ["CN=saml-idp-0.test"]
    with pytest.raises(SamlProviderError, match="no registered service provider"):
        saml_provider.unsolicited_response("http://127.0.0.1:9/other/acs", sp_entity_id="urn:sp:other")
