"""SAML metadata refresh (`identity_provider_refresh_metadata`): an identity provider imported from its
metadata URL learns the signing certificate its identity provider publishes before a rollover, reports
the ones it stopped publishing and keeps them until an operator removes them, never drops the last one,
follows moved SSO/SLO URLs, and refuses (nothing written) when the metadata cannot be had. Against the
pysaml2 test identity provider (tests/idp/saml_provider.py) and published metadata served locally."""

import socket
from pathlib import Path

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError

from providers.identity import services as identity_services
from providers.identity.discovery import certificate_info, certificates_expire_at, certificates_info
from providers.models import AuditEvent, IdentityProvider, Provider
from tests.certificates import pem, self_signed
from tests.factories import IdentityProviderFactory
from tests.idp.saml_provider import NAMEID_PERSISTENT
from tests.signin.test_saml_login import ACS, SP_ENTITY, begin, post_back

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "saml"
HEP_VAUD = "https://aai-login-int.hepl.ch/idp/shibboleth"


def fingerprint(certificate_pem: str) -> str:
    return certificate_info(certificate_pem).fingerprint_sha256


def saml_identity(idp, **overrides) -> IdentityProvider:
    """A SAML identity provider imported from the test identity provider's metadata URL, trusting its key 0."""
    fields = {
        "alias": "corp-saml",
        "entity_id": idp.entity_id,
        "metadata_url": idp.metadata_url,
        "single_sign_on_service_url": idp.sso_url,
        "single_logout_service_url": idp.slo_url,
        "signing_certificate": idp.certificate_pem(0),
        **overrides,
    }
    return IdentityProviderFactory(saml=True, **fields)


def stored(identity: IdentityProvider) -> dict:
    """What a refresh may write: the identity provider's row, its provider's, history and audit."""
    return {
        "identity": IdentityProvider.objects.filter(pk=identity.pk).values().get(),
        "provider": Provider.objects.filter(pk=identity.provider_id).values().get(),
        "history": LogEntry.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def refresh(identity: IdentityProvider, actor=None, **kwargs):
    return identity_services.identity_provider_refresh_metadata(identity=identity, actor=actor, **kwargs)


def test_a_rollover_certificate_is_added_and_the_change_recorded(fresh_saml_provider, operator):
    idp = fresh_saml_provider
    identity = saml_identity(idp)
    before = Provider.objects.get(pk=identity.provider_id).updated_at
    idp.publish_both_keys()

    report = refresh(identity, operator)

    old, new = fingerprint(idp.certificate_pem(0)), fingerprint(idp.certificate_pem(1))
    assert report.added == (new,)
    assert report.removed == report.kept == ()
    assert report.trusted == (old, new)
    assert report.changed_urls == ()
    assert report.changed
    assert report.summary == "1 certificate added"
    identity.refresh_from_db()
    assert [info.fingerprint_sha256 for info in certificates_info(identity.signing_certificate)] == [old, new]
    assert identity.certificate_expires_at == certificates_expire_at(idp.certificate_pem(0) + idp.certificate_pem(1))
    assert report.certificate_expires_at == identity.certificate_expires_at
    provider = Provider.objects.get(pk=identity.provider_id)
    assert provider.updated_at > before
    assert provider.updated_by == operator
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE, object_id="corp-saml")
    assert event.fields == ["signing certificate"]
    assert event.actor == operator
    assert event.detail == f"metadata refresh from {idp.metadata_url}: 1 certificate added"
    entry = LogEntry.objects.get(action_flag=CHANGE, object_id=str(identity.provider_id))
    assert entry.get_change_message() == "Changed signing certificate."


def test_a_certificate_no_longer_listed_is_reported_and_kept(fresh_saml_provider):
    idp = fresh_saml_provider
    identity = saml_identity(idp, signing_certificate=idp.certificate_pem(0) + idp.certificate_pem(1))
    idp.use_key(1)  # the metadata now lists only key 1
    before = stored(identity)

    report = refresh(identity)

    assert report.kept == (fingerprint(idp.certificate_pem(0)),)
    assert report.added == report.removed == ()
    assert report.trusted == (fingerprint(idp.certificate_pem(0)), fingerprint(idp.certificate_pem(1)))
    assert not report.changed
    assert report.summary == "1 certificate no longer in the metadata, kept"
    # Nothing to save: no write, no new ETag, no history, no audit entry.
    assert stored(identity) == before


def test_remove_missing_removes_the_certificates_no_longer_listed(fresh_saml_provider, operator):
    idp = fresh_saml_provider
    identity = saml_identity(idp, signing_certificate=idp.certificate_pem(0) + idp.certificate_pem(1))
    idp.use_key(1)

    report = refresh(identity, operator, remove_missing=True)

    assert report.removed == (fingerprint(idp.certificate_pem(0)),)
    assert report.kept == report.added == ()
    assert report.trusted == (fingerprint(idp.certificate_pem(1)),)
    assert report.summary == "1 certificate no longer in the metadata, removed"
    identity.refresh_from_db()
    assert identity.signing_certificate.strip() == idp.certificate_pem(1).strip()
    assert identity.certificate_expires_at == certificate_info(idp.certificate_pem(1)).not_after
    assert AuditEvent.objects.get(action="update").fields == ["signing certificate"]


def test_a_certificate_replaced_outright_is_added_and_the_old_one_kept(fresh_saml_provider):
    idp = fresh_saml_provider
    identity = saml_identity(idp)
    idp.use_key(1)  # no rollover period: the metadata swaps key 0 for key 1

    report = refresh(identity)

    assert report.added == (fingerprint(idp.certificate_pem(1)),)
    assert report.kept == (fingerprint(idp.certificate_pem(0)),)
    identity.refresh_from_db()
    assert identity.signing_certificate.count("BEGIN CERTIFICATE") == 2


def test_nothing_changed_writes_nothing(fresh_saml_provider):
    idp = fresh_saml_provider
    identity = saml_identity(idp)
    before = stored(identity)

    report = refresh(identity, remove_missing=True)

    assert not report.changed
    assert report.summary == "unchanged"
    assert report.trusted == (fingerprint(idp.certificate_pem(0)),)
    assert stored(identity) == before


def test_moved_sso_and_slo_urls_are_saved_and_reported(fresh_saml_provider, operator):
    idp = fresh_saml_provider
    identity = saml_identity(idp, single_sign_on_service_url="https://old.idp.test/sso", single_logout_service_url="")

    report = refresh(identity, operator)

    assert [(change.field, change.old, change.new) for change in report.changed_urls] == [
        ("single_sign_on_service_url", "https://old.idp.test/sso", idp.sso_url),
        ("single_logout_service_url", "", idp.slo_url),
    ]
    assert report.summary == "SSO URL changed; SLO URL changed"
    identity.refresh_from_db()
    assert identity.single_sign_on_service_url == idp.sso_url
    assert identity.single_logout_service_url == idp.slo_url
    assert AuditEvent.objects.get(action="update").fields == [
        "single sign on service url",
        "single logout service url",
    ]


def test_an_sso_url_too_long_to_store_is_refused_and_nothing_written(fresh_saml_provider, httpserver):
    idp = fresh_saml_provider
    long_url = "https://idp.corp.test/" + "sso/" * 150
    httpserver.expect_request("/metadata").respond_with_data(
        idp.metadata().replace(f'Location="{idp.sso_url}"', f'Location="{long_url}"')
    )
    identity = saml_identity(idp, metadata_url=httpserver.url_for("/metadata"))
    idp.publish_both_keys()
    before = stored(identity)

    with pytest.raises(ValidationError) as exc:
        refresh(identity)

    assert exc.value.message_dict == {
        "metadata_url": [
            "The metadata's single sign on service url: Ensure this value has at most 500 characters (it has 622)."
        ]
    }
    assert stored(identity) == before


def test_the_identity_providers_own_entity_is_refreshed_from_an_aggregate(httpserver):
    httpserver.expect_request("/federation.xml").respond_with_data(
        (SAMPLES / "switch-aaitest-extract.xml").read_bytes()
    )
    trusted = pem(self_signed("hep-vaud old", days=30)[0])
    identity = IdentityProviderFactory(
        saml=True,
        alias="hep-vaud",
        entity_id=HEP_VAUD,
        metadata_url=httpserver.url_for("/federation.xml"),
        single_sign_on_service_url="https://aai-login-int.hepl.ch/idp/profile/SAML2/POST/SSO",
        signing_certificate=trusted,
    )

    report = refresh(identity)

    # That entity lists two signing certificates (a key rollover), the other entities' are not taken.
    assert len(report.added) == 2
    assert report.kept == (fingerprint(trusted),)
    assert report.changed_urls == ()
    identity.refresh_from_db()
    assert identity.signing_certificate.count("BEGIN CERTIFICATE") == 3


def test_an_entity_missing_from_the_aggregate_is_refused_and_nothing_written(httpserver):
    httpserver.expect_request("/federation.xml").respond_with_data(
        (SAMPLES / "switch-aaitest-extract.xml").read_bytes()
    )
    identity = IdentityProviderFactory(
        saml=True, entity_id="https://idp.gone.test/idp", metadata_url=httpserver.url_for("/federation.xml")
    )
    before = stored(identity)

    with pytest.raises(ValidationError) as exc:
        refresh(identity, remove_missing=True)

    assert exc.value.message_dict == {
        "metadata_url": ["No identity provider in the metadata has the entityID https://idp.gone.test/idp."]
    }
    assert stored(identity) == before


def test_metadata_describing_another_entity_is_refused(fresh_saml_provider):
    identity = saml_identity(fresh_saml_provider, entity_id="https://idp.other.test/metadata")

    with pytest.raises(ValidationError) as exc:
        refresh(identity)

    assert exc.value.message_dict == {
        "metadata_url": [
            f"The metadata describes the identity provider {fresh_saml_provider.entity_id}, "
            "not https://idp.other.test/metadata."
        ]
    }


def without_signing_certificates(metadata: str) -> str:
    start, end = metadata.index("<md:KeyDescriptor"), metadata.rindex("</md:KeyDescriptor>")
    return metadata[:start] + metadata[end + len("</md:KeyDescriptor>") :]


def test_metadata_without_a_signing_certificate_never_removes_the_last_one(fresh_saml_provider, httpserver):
    idp = fresh_saml_provider
    httpserver.expect_request("/metadata").respond_with_data(without_signing_certificates(idp.metadata()))
    identity = saml_identity(idp, metadata_url=httpserver.url_for("/metadata"))
    before = stored(identity)

    with pytest.raises(ValidationError) as exc:
        refresh(identity, remove_missing=True)

    assert exc.value.message_dict == {
        "metadata_url": ['The IDPSSODescriptor has no signing certificate (KeyDescriptor use="signing").']
    }
    assert stored(identity) == before
    identity.refresh_from_db()
    assert identity.signing_certificate == idp.certificate_pem(0)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    "serve,message",
    [
        (None, "127.0.0.1 refused the connection."),
        (
            lambda server: server.respond_with_data("gone", status=404),
            "The metadata URL returned HTTP 404; expected 200.",
        ),
        (lambda server: server.respond_with_data("<html><body>login</body>"), "Metadata is not well-formed XML."),
        (
            lambda server: server.respond_with_data('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'),
            "Metadata must not contain a DOCTYPE, entity declarations or external references.",
        ),
    ],
    ids=["unreachable", "http-404", "not-xml", "doctype"],
)
def test_metadata_that_cannot_be_had_is_refused_and_nothing_written(httpserver, certificate_pem, serve, message):
    if serve is None:
        url = f"http://127.0.0.1:{closed_port()}/metadata"
    else:
        serve(httpserver.expect_request("/metadata"))
        url = httpserver.url_for("/metadata")
    identity = IdentityProviderFactory(saml=True, metadata_url=url, signing_certificate=certificate_pem)
    before = stored(identity)

    with pytest.raises(ValidationError) as exc:
        refresh(identity)

    assert exc.value.message_dict == {"metadata_url": [message]}
    assert stored(identity) == before


def test_a_private_address_is_refused_without_connecting(connect_attempts):
    identity = IdentityProviderFactory(saml=True, metadata_url="http://10.20.30.40/metadata")

    with pytest.raises(ValidationError) as exc:
        refresh(identity)

    assert list(exc.value.message_dict) == ["metadata_url"]
    assert "10.20.30.40" in exc.value.message_dict["metadata_url"][0]
    assert connect_attempts == []


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"metadata_url": ""}, "No metadata URL is set: set the URL the provider publishes its metadata at."),
        ({"entity_id": ""}, "The identity provider has no entity ID to find in the metadata: set it first."),
    ],
)
def test_a_saml_identity_provider_without_its_url_or_entity_id_is_refused(fields, message):
    identity = IdentityProviderFactory(saml=True, **{"metadata_url": "https://idp.corp.test/metadata", **fields})

    with pytest.raises(ValidationError) as exc:
        refresh(identity)

    assert exc.value.message_dict == {"metadata_url": [message]}


def test_an_oidc_identity_provider_has_no_metadata_to_refresh():
    with pytest.raises(ValidationError) as exc:
        refresh(IdentityProviderFactory())

    assert exc.value.message_dict == {"metadata_url": ["Only a SAML identity provider has metadata to refresh."]}


def test_a_rollover_by_refreshes_alone_has_no_failed_login(fresh_saml_provider, client):
    """The identity provider publishes its next key, a refresh trusts it, the provider signs with it, a
    refresh with `remove_missing` drops the old one: a sign-in succeeds at every step."""
    idp = fresh_saml_provider
    idp.set_user("ana-persistent-id", attributes={"mail": "ana@acme.test"}, name_id_format=NAMEID_PERSISTENT)
    idp.register_sp(entity_id=SP_ENTITY, acs_url=ACS)
    identity = saml_identity(
        idp,
        alias="corp",
        post_binding_authn_request=False,
        update_profile_first_login_mode="off",
        name_id_policy_format=NAMEID_PERSISTENT,
    )
    steps = {
        "published": (idp.publish_both_keys, {}),
        "switched": (lambda: idp.use_key(1), {}),
        "old removed": (lambda: None, {"remove_missing": True}),
    }
    for step, (change_idp, options) in {"before": (lambda: None, {}), **steps}.items():
        change_idp()
        refresh(identity, **options)
        acs_url, fields = idp.sign_in(begin(client))
        assert post_back(client, acs_url, fields).status_code == 302, step
        client.logout()

    identity.refresh_from_db()
    assert [info.fingerprint_sha256 for info in certificates_info(identity.signing_certificate)] == [
        fingerprint(idp.certificate_pem(1))
    ]
