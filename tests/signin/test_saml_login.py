"""Signing in through a real SAML 2.0 identity provider (pysaml2 in-process on 127.0.0.1,
tests/idp/saml_provider.py): the AuthnRequest, the ACS and its same-site finish, the Response's
checks, replay, rollover, IdP-initiated sign-in, SP metadata and keys."""

import base64
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from lxml import etree

from providers.identity.services import sp_keys
from providers.models import FederatedIdentity, IdentityProvider
from tests.factories import IdentityProviderFactory, OperatorFactory
from tests.idp.saml_provider import NAMEID_PERSISTENT

from .helpers import HOST, last_signin_event

User = get_user_model()
pytestmark = pytest.mark.django_db
SP_ENTITY = f"{HOST}/signin/default/corp/saml/metadata"
ACS = f"{HOST}/signin/default/corp/saml/acs"
FINISH = "/signin/default/corp/saml/finish"


@pytest.fixture
def idp(fresh_saml_provider):
    fresh_saml_provider.set_user(
        "ana-persistent-id",
        attributes={"mail": "ana@acme.test", "givenName": "Ana", "sn": "Lima", "groups": ["staff", "dev"]},
        name_id_format=NAMEID_PERSISTENT,
    )
    fresh_saml_provider.register_sp(entity_id=SP_ENTITY, acs_url=ACS)
    return fresh_saml_provider


def saml_identity(idp, **fields):
    values = {
        "alias": "corp",
        "entity_id": idp.entity_id,
        "single_sign_on_service_url": idp.sso_url,
        "signing_certificate": idp.certificate_pem(0),
        "post_binding_authn_request": False,
        "update_profile_first_login_mode": "off",
        "name_id_policy_format": NAMEID_PERSISTENT,
        **fields,
    }
    return IdentityProviderFactory(saml=True, **values)


def begin(client, query: str = "") -> str:
    response = client.get("/signin/default/corp/" + (f"?{query}" if query else ""))
    assert response.status_code == 302, response.content[:500]
    assert response["Location"].startswith(idp_sso_prefix(response["Location"]))
    return response["Location"]


def idp_sso_prefix(url: str) -> str:
    return url.split("?")[0]


def post_back(client, acs_url: str, fields: dict):
    """The provider's form to the ACS, then the ACS's own form to the finish, as the browser does
    (with the Origin header a browser sends with a POST from this site's page)."""
    assert acs_url == ACS
    relay = client.post(acs_url.removeprefix(HOST), fields)
    assert relay.status_code == 200 and f'action="{FINISH}"'.encode() in relay.content
    return client.post(FINISH, fields, HTTP_ORIGIN=HOST)


def refused(response, status: int, text: str, code: str) -> None:
    assert response.status_code == status, response.content[:800]
    assert text in response.content.decode(), response.content.decode()[:1500]
    event = last_signin_event()
    assert not event.ok and f"] {code}:" in event.detail, event.detail
    assert FederatedIdentity.objects.count() == 0 and User.objects.count() == 0


def test_sign_in_creates_the_account_from_the_attributes(client, idp):
    saml_identity(idp)
    acs_url, fields = idp.sign_in(begin(client))
    response = post_back(client, acs_url, fields)

    assert response.status_code == 302, response.content[:800]
    user = User.objects.get()
    assert (user.email, user.first_name, user.last_name) == ("ana@acme.test", "Ana", "Lima")
    federated = FederatedIdentity.objects.get()
    assert federated.subject == "ana-persistent-id" and federated.email == "ana@acme.test"
    assert last_signin_event().ok


def test_the_authn_request_is_what_the_identity_provider_is_configured_for(client, idp):
    saml_identity(idp, force_authn=True, allow_create=False)
    location = begin(client)
    query = parse_qs(urlsplit(location).query)
    xml = base64.b64decode(query["SAMLRequest"][0])
    import zlib

    request = etree.fromstring(zlib.decompress(xml, -15))
    assert request.get("ForceAuthn") == "true"
    assert request.get("AssertionConsumerServiceURL") == ACS
    policy = request.find("{urn:oasis:names:tc:SAML:2.0:protocol}NameIDPolicy")
    assert policy.get("AllowCreate") == "false" and policy.get("Format") == NAMEID_PERSISTENT
    assert query["RelayState"][0] and "Signature" not in query


def test_signed_authn_request_by_post_binding(client, idp):
    identity = saml_identity(idp, post_binding_authn_request=True, want_authn_requests_signed=True)
    sp_keys.sp_key_generate(identity=identity, actor=None)
    identity.refresh_from_db()
    idp.register_sp(entity_id=SP_ENTITY, acs_url=ACS, certificate=identity.sp_certificate)
    idp.require_signed_requests()
    page = client.get("/signin/default/corp/")
    assert page.status_code == 200
    body = page.content.decode()
    assert f'action="{idp.sso_url}"' in body
    fields = dict(re.findall(r'name="(SAMLRequest|RelayState)" value="([^"]*)"', body))
    assert b"<ds:Signature" in base64.b64decode(fields["SAMLRequest"])
    assert idp.sso_url.split("/sso")[0] in page["Content-Security-Policy"]  # the form may go there
    acs_url, answer = idp.sign_in(fields)
    assert post_back(client, acs_url, answer).status_code == 302


def test_attribute_principal_and_mappers_by_name_or_friendly_name(client, idp):
    identity = saml_identity(idp, principal_type="FRIENDLY_ATTRIBUTE", principal_attribute="mail")
    identity.mappers.create(
        name="staff",
        mapper_type="saml-advanced-group-idp-mapper",
        config={"attribute_name": "groups", "attribute_value": "staff", "group": "access_token_manager"},
    )
    identity.mappers.create(
        name="mail by oid",
        mapper_type="saml-user-attribute-idp-mapper",
        config={"attribute_name": "urn:oid:0.9.2342.19200300.100.1.3", "user_attribute": "work_mail"},
    )
    acs_url, fields = idp.sign_in(begin(client))
    response = post_back(client, acs_url, fields)
    assert response["Location"] == "/admin/"
    user = User.objects.get()
    assert FederatedIdentity.objects.get().subject == "ana@acme.test"
    assert user.groups.filter(name="access_token_manager").exists()
    assert user.attributes == {"work_mail": "ana@acme.test"}


@pytest.mark.parametrize(
    ("options", "text", "code"),
    [
        ({"sign_response": False, "sign_assertion": False}, "No Signature found", "unsigned"),
        ({"not_on_or_after": -600}, "expired", "expired"),
        ({"audience": "https://someone-else.test/sp"}, "not a valid audience", "audience"),
        ({"destination": "https://someone-else.test/acs"}, "refused", "destination"),
        ({"in_response_to": "_not-our-request"}, "refused", "in_response_to"),
        ({"cancel": True}, "refused", "invalid"),
    ],
)
def test_response_checks(client, idp, options, text, code):
    saml_identity(idp)
    acs_url, fields = idp.sign_in(begin(client), **options)
    refused(post_back(client, acs_url, fields), 400, text, code)


def test_assertion_must_be_signed_when_required(client, idp):
    saml_identity(idp, want_assertions_signed=True)
    acs_url, fields = idp.sign_in(begin(client), sign_response=True, sign_assertion=False)
    refused(post_back(client, acs_url, fields), 400, "is not signed", "unsigned")


def test_a_host_with_its_default_port_written_out(client, idp):
    """A Host header of "host:80" (some proxies send it): the ACS URL the request names keeps the
    port, and so must the URL python3-saml compares the Response's Destination with."""
    base = "http://testserver:80/signin/default/corp/saml"
    idp.register_sp(entity_id=f"{base}/metadata", acs_url=f"{base}/acs")
    saml_identity(idp)
    started = client.get("/signin/default/corp/", HTTP_HOST="testserver:80")
    acs_url, fields = idp.sign_in(started["Location"])
    assert acs_url == f"{base}/acs"
    client.post("/signin/default/corp/saml/acs", fields, HTTP_HOST="testserver:80")
    response = client.post(FINISH, fields, HTTP_HOST="testserver:80")
    assert response.status_code == 302, response.content.decode()[:1500]


def test_signed_by_a_certificate_not_trusted(client, idp):
    saml_identity(idp)
    idp.use_key(1)
    acs_url, fields = idp.sign_in(begin(client))
    refused(post_back(client, acs_url, fields), 400, "Signature validation failed", "signature")


def test_certificate_rollover_without_a_failed_login(client, idp):
    identity = saml_identity(idp)
    for step in ("old", "both", "switched", "new only"):
        if step == "both":
            identity.signing_certificate = idp.certificate_pem(0) + "\n" + idp.certificate_pem(1)
            identity.save()
        if step == "switched":
            idp.use_key(1, publish_both=True)
        if step == "new only":
            identity.signing_certificate = idp.certificate_pem(1)
            identity.save()
        acs_url, fields = idp.sign_in(begin(client))
        assert post_back(client, acs_url, fields).status_code == 302, step
        client.logout()


def test_a_response_used_twice_is_a_replay(client, idp):
    saml_identity(idp, allow_idp_initiated=True, idp_initiated_page="/account/linked/")
    fields = idp.unsolicited_response(ACS)
    first = post_back(client, ACS, fields)
    assert first.status_code == 302 and first["Location"] == "/account/linked/"
    client.logout()
    User.objects.all().delete()
    refused(post_back(client, ACS, fields), 400, "used already", "replay")


def test_idp_initiated_is_off_by_default(client, idp):
    saml_identity(idp)
    refused(post_back(client, ACS, idp.unsolicited_response(ACS)), 400, "has no state", "state_missing")


def test_a_response_for_another_browser_is_refused(client, idp):
    from django.test import Client

    saml_identity(idp)
    acs_url, fields = idp.sign_in(begin(client))
    refused(post_back(Client(), acs_url, fields), 400, "not started in this browser", "state_unknown")


@pytest.mark.parametrize(
    "document",
    [
        b"not xml at all",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "boom">]>'
        b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:Response>',
    ],
)
def test_malformed_or_hostile_xml(client, idp, document):
    saml_identity(idp)
    location = begin(client)
    relay_state = parse_qs(urlsplit(location).query)["RelayState"][0]
    fields = {"SAMLResponse": base64.b64encode(document).decode(), "RelayState": relay_state}
    response = post_back(client, ACS, fields)
    assert response.status_code == 400 and b"Reference" in response.content
    assert User.objects.count() == 0


def test_an_acs_post_without_a_response_is_refused_and_recorded(client, idp):
    saml_identity(idp)
    response = client.post(ACS.removeprefix(HOST), {"RelayState": "anything"})
    refused(response, 400, "carries no SAML response", "malformed")


def test_signature_wrapping_is_refused(client, idp):
    """XSW: a forged, unsigned assertion for another user placed before the signed one."""
    saml_identity(idp)
    acs_url, fields = idp.sign_in(begin(client), sign_response=False, sign_assertion=True)
    tree = etree.fromstring(base64.b64decode(fields["SAMLResponse"]))
    ns = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion", "ds": "http://www.w3.org/2000/09/xmldsig#"}
    signed = tree.find("saml:Assertion", ns)
    forged = etree.fromstring(etree.tostring(signed))
    forged.remove(forged.find("ds:Signature", ns))
    forged.set("ID", "_forged")
    forged.find("saml:Subject/saml:NameID", ns).text = "mallory"
    signed.addprevious(forged)
    fields = {**fields, "SAMLResponse": base64.b64encode(etree.tostring(tree)).decode()}
    refused(post_back(client, acs_url, fields), 400, "refused", "invalid")


def test_encrypted_assertion_is_decrypted_with_the_sp_key(client, idp):
    identity = saml_identity(idp, want_assertions_encrypted=True)
    sp_keys.sp_key_generate(identity=identity, actor=None)
    identity.refresh_from_db()
    idp.register_sp(entity_id=SP_ENTITY, acs_url=ACS, certificate=identity.sp_certificate)
    acs_url, fields = idp.sign_in(begin(client), encrypt_assertion=True)
    assert b"EncryptedAssertion" in base64.b64decode(fields["SAMLResponse"])
    assert post_back(client, acs_url, fields).status_code == 302
    assert FederatedIdentity.objects.get().subject == "ana-persistent-id"


def test_during_an_sp_key_rollover_an_assertion_encrypted_for_the_next_key_is_decrypted(client, idp):
    """The next SP key is in the metadata: a provider may encrypt for it from then on (Okta keeps
    the one certificate uploaded last) before the operator makes it the one that signs."""
    identity = saml_identity(idp, want_assertions_encrypted=True)
    sp_keys.sp_key_generate(identity=identity, actor=None)
    sp_keys.sp_key_generate(identity=identity, actor=None)
    identity.refresh_from_db()
    idp.register_sp(entity_id=SP_ENTITY, acs_url=ACS, certificate=identity.sp_next_certificate)
    acs_url, fields = idp.sign_in(begin(client), encrypt_assertion=True)
    assert post_back(client, acs_url, fields).status_code == 302
    assert FederatedIdentity.objects.get().subject == "ana-persistent-id"


def test_an_assertion_encrypted_for_a_key_this_registry_does_not_have(client, idp):
    from tests.certificates import pem, self_signed

    saml_identity(idp, want_assertions_encrypted=True)
    sp_keys.sp_key_generate(identity=IdentityProvider.objects.get(), actor=None)
    other, _ = self_signed("someone-else.test", days=30)
    idp.register_sp(entity_id=SP_ENTITY, acs_url=ACS, certificate=pem(other))
    acs_url, fields = idp.sign_in(begin(client), encrypt_assertion=True)
    refused(post_back(client, acs_url, fields), 400, "encrypted for a key", "decryption")


def test_sp_metadata_with_etag_and_the_rollover_key(client, idp):
    identity = saml_identity(idp)
    first = client.get("/signin/default/corp/saml/metadata")
    assert first.status_code == 200 and first["Content-Type"] == "application/samlmetadata+xml"
    document = etree.fromstring(first.content)
    assert document.get("entityID") == SP_ENTITY
    assert ACS in first.content.decode()
    assert client.get("/signin/default/corp/saml/metadata", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    operator = OperatorFactory()
    sp_keys.sp_key_generate(identity=identity, actor=operator)
    sp_keys.sp_key_generate(identity=identity, actor=operator)
    identity.refresh_from_db()
    second = client.get("/signin/default/corp/saml/metadata", HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert second.content.decode().count("<ds:X509Certificate>") >= 2  # the current and the next key
    assert identity.sp_private_key not in second.content.decode()
    sp_keys.sp_key_activate_next(identity=identity, actor=operator)
    identity.refresh_from_db()
    assert not identity.sp_next_certificate and identity.sp_certificate


def test_sp_metadata_is_the_same_document_for_as_long_as_its_etag(client, idp):
    """An identity provider that refreshes the metadata with If-None-Match keeps its copy on a 304:
    the copy must not carry a validUntil that passes while the ETag stays the same."""
    import time
    from unittest import mock

    saml_identity(idp)
    first = client.get("/signin/default/corp/saml/metadata")
    assert first["Cache-Control"] == "no-cache"  # kept, and revalidated: never no-store
    assert b"validUntil" not in first.content
    with mock.patch("onelogin.saml2.metadata.time", return_value=time.time() + 3 * 86400):
        later = client.get("/signin/default/corp/saml/metadata")
    assert later["ETag"] == first["ETag"] and later.content == first.content


def test_sp_keys_are_encrypted_at_rest(idp):
    from django.db import connection

    identity = saml_identity(idp)
    sp_keys.sp_key_generate(identity=identity, actor=None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sp_private_key FROM providers_identityprovider WHERE id = %s", [identity.pk])
        raw = cursor.fetchone()[0]
    raw = raw.decode() if isinstance(raw, bytes | memoryview) else str(raw)
    assert "PRIVATE KEY" not in raw


def test_returning_user_finish_costs_at_most_12_statements_and_no_outbound_call(client, idp):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .test_oidc_login import TRANSACTION_CONTROL

    saml_identity(idp)
    acs_url, fields = idp.sign_in(begin(client))
    assert post_back(client, acs_url, fields).status_code == 302
    client.logout()
    acs_url, fields = idp.sign_in(begin(client))
    client.post(acs_url.removeprefix(HOST), fields)
    answered = len(idp.requests)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(FINISH, fields)
    statements = [q["sql"] for q in captured.captured_queries if not TRANSACTION_CONTROL.match(q["sql"])]
    assert response.status_code == 302
    assert len(statements) <= 12, "\n".join(statements)
    assert len(idp.requests) == answered  # the finish asked the provider nothing


def test_the_sp_certificate_joins_the_expiry_report(client, idp):
    from datetime import timedelta

    from django.utils import timezone

    from providers.identity.selectors import certificates_expiring

    identity = saml_identity(idp)
    identity.certificate_expires_at = timezone.now() + timedelta(days=3000)
    identity.save()
    sp_keys.sp_key_generate(identity=identity, actor=None)
    identity.refresh_from_db()
    assert identity.sp_certificate_expires_at > timezone.now() + timedelta(days=1000)
    assert not certificates_expiring(days=30).exists()
    identity.sp_certificate_expires_at = timezone.now() + timedelta(days=5)
    identity.save()
    [row] = certificates_expiring(days=30)
    assert row.expires_at == identity.sp_certificate_expires_at
    client.force_login(OperatorFactory())
    page = client.get("/admin/").content.decode()
    assert "(this registry's SP certificate)" in page, page[page.find("dashboard-certificates") :][:800]


def test_single_logout_at_the_provider(client, idp, caplog):
    from tests.idp.oidc_provider import http_client, http_request

    sls = f"{HOST}/signin/default/corp/saml/sls"
    idp.register_sp(entity_id=SP_ENTITY, acs_url=ACS, sls_url=sls)
    saml_identity(idp, logout_at_provider=True, single_logout_service_url=idp.slo_url)
    acs_url, fields = idp.sign_in(begin(client))
    assert post_back(client, acs_url, fields).status_code == 302

    logout = client.post("/logout/")
    assert "_auth_user_id" not in client.session
    assert logout.status_code == 302 and logout["Location"].startswith(idp.slo_url + "?SAMLRequest=")
    answer = http_request(http_client(), logout["Location"])
    assert answer.status in (302, 303), answer.body[:300]
    assert len(idp.logout_requests) == 1
    back = answer.headers["Location"]
    assert back.startswith(sls + "?SAMLResponse=")
    finished = client.get(back.removeprefix(HOST))
    assert finished.status_code == 302 and finished["Location"] == "/login/default/?local"
    assert "logout response" not in caplog.text  # the provider's LogoutResponse was valid


def encrypting_identity(idp):
    """A SAML identity provider that wants encrypted assertions, with an SP key the test provider
    encrypts for."""
    identity = saml_identity(idp, want_assertions_encrypted=True)
    sp_keys.sp_key_generate(identity=identity, actor=None)
    identity.refresh_from_db()
    idp.register_sp(entity_id=SP_ENTITY, acs_url=ACS, certificate=identity.sp_certificate)
    return identity


def test_after_a_rollover_an_assertion_encrypted_for_the_previous_key_still_signs_in(client, idp):
    """The provider has not refreshed the SP metadata since the activation: it encrypts for the
    certificate it has, now the previous one, which still decrypts."""
    identity = encrypting_identity(idp)
    old_certificate = identity.sp_certificate
    sp_keys.sp_key_generate(identity=identity, actor=None)
    sp_keys.sp_key_activate_next(identity=identity, actor=None)
    identity.refresh_from_db()
    assert identity.sp_previous_certificate == old_certificate != identity.sp_certificate
    assert identity.sp_previous_private_key and not identity.sp_next_certificate

    acs_url, fields = idp.sign_in(begin(client), encrypt_assertion=True)
    assert b"EncryptedAssertion" in base64.b64decode(fields["SAMLResponse"])
    assert post_back(client, acs_url, fields).status_code == 302
    assert FederatedIdentity.objects.get().subject == "ana-persistent-id"


def test_after_the_previous_key_is_forgotten_an_assertion_encrypted_for_it_is_refused(client, idp):
    from providers.models import AuditEvent

    identity = encrypting_identity(idp)
    sp_keys.sp_key_generate(identity=identity, actor=None)
    sp_keys.sp_key_activate_next(identity=identity, actor=None)
    sp_keys.sp_key_forget_previous(identity=identity, actor=None)
    identity.refresh_from_db()
    assert identity.sp_previous_private_key is None and identity.sp_previous_certificate == ""
    rotation = AuditEvent.objects.filter(action=AuditEvent.Action.ROTATE).order_by("-id").first()
    assert rotation.fields == ["SP key (previous forgotten)"] and rotation.object_id == "corp"

    acs_url, fields = idp.sign_in(begin(client), encrypt_assertion=True)
    refused(post_back(client, acs_url, fields), 400, "encrypted for a key", "decryption")

    # The provider refreshes the metadata and encrypts for the current certificate: signed in.
    idp.register_sp(entity_id=SP_ENTITY, acs_url=ACS, certificate=identity.sp_certificate)
    acs_url, fields = idp.sign_in(begin(client), encrypt_assertion=True)
    assert post_back(client, acs_url, fields).status_code == 302


def test_the_previous_key_decrypts_only_what_is_signed_by_a_trusted_certificate(client, idp):
    """Retrying the decryption with the previous key checks the signature as strictly as ever."""
    identity = encrypting_identity(idp)
    sp_keys.sp_key_generate(identity=identity, actor=None)
    sp_keys.sp_key_activate_next(identity=identity, actor=None)
    idp.use_key(1)  # signs with a certificate this registry does not trust
    acs_url, fields = idp.sign_in(begin(client), encrypt_assertion=True)
    refused(post_back(client, acs_url, fields), 400, "Signature validation failed", "signature")


def test_sp_keys_can_only_be_forgotten_or_activated_when_there_is_one(idp):
    from django.core.exceptions import ValidationError

    identity = saml_identity(idp)
    with pytest.raises(ValidationError) as nothing_to_forget:
        sp_keys.sp_key_forget_previous(identity=identity, actor=None)
    assert nothing_to_forget.value.message_dict == {"sp_key": ["There is no previous key to forget."]}
    oidc = IdentityProviderFactory(alias="oidc-one")
    with pytest.raises(ValidationError) as not_saml:
        sp_keys.sp_key_generate(identity=oidc, actor=None)
    assert list(not_saml.value.message_dict) == ["protocol"]


def test_the_metadata_lists_the_current_and_next_certificates_never_the_previous_one(client, idp):
    identity = saml_identity(idp, want_assertions_encrypted=True)
    for _ in range(3):  # current A, next B → current B, previous A, next C
        sp_keys.sp_key_generate(identity=identity, actor=None)
        if _ == 1:
            sp_keys.sp_key_activate_next(identity=identity, actor=None)
    identity.refresh_from_db()
    assert identity.sp_previous_certificate and identity.sp_next_certificate

    document = etree.fromstring(client.get("/signin/default/corp/saml/metadata").content)
    ns = {"md": "urn:oasis:names:tc:SAML:2.0:metadata", "ds": "http://www.w3.org/2000/09/xmldsig#"}
    listed: dict[str, set[str]] = {"signing": set(), "encryption": set()}
    for descriptor in document.iterfind(".//md:SPSSODescriptor/md:KeyDescriptor", ns):
        body = "".join(descriptor.findtext("ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=ns).split())
        listed[descriptor.get("use")].add(body)

    def bare(pem: str) -> str:
        return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))

    published = {bare(identity.sp_certificate), bare(identity.sp_next_certificate)}
    assert listed["signing"] == published and listed["encryption"] == published
    assert bare(identity.sp_previous_certificate) not in listed["signing"] | listed["encryption"]


def test_the_acs_page_sets_no_csrf_cookie_and_the_finish_needs_no_token(idp):
    """A browser with forms open in other tabs: its CSRF cookie survives the sign-in, and the
    finish, bound to the pending login, takes the Response without a token."""
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.cookies["csrftoken"] = "k" * 32  # the cookie other tabs' forms were rendered against
    saml_identity(idp)
    acs_url, fields = idp.sign_in(begin(browser))
    relay = browser.post(acs_url.removeprefix(HOST), fields)
    assert relay.status_code == 200
    assert "csrftoken" not in relay.cookies and b"csrfmiddlewaretoken" not in relay.content
    assert browser.cookies["csrftoken"].value == "k" * 32
    finished = browser.post(FINISH, fields)  # no token, no Origin: the pending login is the binding
    assert finished.status_code == 302, finished.content.decode()[:800]
    assert "_auth_user_id" in browser.session
    # Signing in rotates the CSRF token, as every Django login does (`login()`): that one stays.
    assert finished.cookies["csrftoken"].value != "k" * 32


def test_a_refused_finish_leaves_the_csrf_cookie_alone(idp):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.cookies["csrftoken"] = "k" * 32
    saml_identity(idp)
    acs_url, fields = idp.sign_in(begin(browser), audience="https://someone-else.test/sp")
    relay = browser.post(acs_url.removeprefix(HOST), fields)
    refused(browser.post(FINISH, fields), 400, "not a valid audience", "audience")
    assert "csrftoken" not in relay.cookies and browser.cookies["csrftoken"].value == "k" * 32


def test_the_finish_refuses_a_relay_state_used_already(idp):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    saml_identity(idp)
    acs_url, fields = idp.sign_in(begin(browser))
    assert post_back(browser, acs_url, fields).status_code == 302
    browser.logout()
    again = browser.post(FINISH, fields, HTTP_ORIGIN=HOST)
    assert again.status_code == 400 and "not started in this browser" in again.content.decode()
    assert "] state_unknown:" in last_signin_event().detail
    assert "_auth_user_id" not in browser.session


def test_the_finish_refuses_a_relay_state_of_another_browser(idp):
    """Login CSRF: a forger posts their own Response and RelayState into the victim's browser."""
    from django.test import Client

    forger, victim = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    saml_identity(idp)
    acs_url, fields = idp.sign_in(begin(forger))
    begin(victim)  # the victim has a sign-in of their own pending
    refused(post_back(victim, acs_url, fields), 400, "not started in this browser", "state_unknown")
    assert "_auth_user_id" not in victim.session


def test_with_idp_initiated_on_a_foreign_relay_state_is_still_refused(idp):
    """The forger's RelayState names no pending login here, so the Response is taken as unsolicited:
    it answers the forger's AuthnRequest, which an unsolicited Response may not."""
    from django.test import Client

    forger, victim = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    saml_identity(idp, allow_idp_initiated=True)
    acs_url, fields = idp.sign_in(begin(forger))
    refused(post_back(victim, acs_url, fields), 400, "answers a request of another sign-in", "in_response_to")


@pytest.mark.parametrize(
    ("headers", "signs_in"),
    [
        ({"HTTP_ORIGIN": HOST}, True),
        ({"HTTP_SEC_FETCH_SITE": "same-origin"}, True),
        ({"HTTP_ORIGIN": "https://forger.test"}, False),
        ({"HTTP_ORIGIN": "null"}, False),
        ({"HTTP_SEC_FETCH_SITE": "cross-site"}, False),
        ({}, False),
    ],
    ids=["origin", "fetch-metadata", "other-origin", "null-origin", "cross-site", "no-header"],
)
def test_an_unsolicited_response_must_come_from_this_sites_page(idp, headers, signs_in):
    """An IdP-initiated Response has no pending login to bind it: posted to the finish straight
    from another site (not through the ACS page), it is refused, as the CSRF check refused it."""
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    saml_identity(idp, allow_idp_initiated=True, idp_initiated_page="/account/linked/")
    fields = idp.unsolicited_response(ACS)
    response = browser.post(FINISH, fields, **headers)
    if signs_in:
        assert response.status_code == 302 and response["Location"] == "/account/linked/"
    else:
        refused(response, 403, "must come through this site", "cross_site")
