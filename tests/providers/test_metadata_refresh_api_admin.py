"""Metadata refresh on demand: `POST /api/identity-providers/{alias}/refresh-metadata` (and under a
workspace's path) answering the report, and the "Refresh metadata" buttons of the SAML identity
provider's admin page showing it as messages; both need the change permission, and another
workspace's identity provider is a 404."""

import json

import pytest
from django.urls import reverse

from accounts.models import Membership, Workspace
from providers.identity.discovery import certificate_info
from providers.models import AuditEvent, IdentityProvider, Provider
from tests.conftest import client_for
from tests.factories import IdentityProviderFactory, UserFactory

pytestmark = pytest.mark.django_db


def fingerprint(certificate_pem: str) -> str:
    return certificate_info(certificate_pem).fingerprint_sha256


def saml_identity(idp, *, workspace: Workspace | None = None, **overrides) -> IdentityProvider:
    fields = {
        "alias": "corp-saml",
        "entity_id": idp.entity_id,
        "metadata_url": idp.metadata_url,
        "single_sign_on_service_url": idp.sso_url,
        "single_logout_service_url": idp.slo_url,
        "signing_certificate": idp.certificate_pem(0),
        **overrides,
    }
    if workspace is not None:
        fields["provider__workspace"] = workspace
    return IdentityProviderFactory(saml=True, **fields)


def refresh_url(alias: str = "corp-saml", workspace: str | None = None) -> str:
    prefix = f"/api/workspaces/{workspace}" if workspace else "/api"
    return f"{prefix}/identity-providers/{alias}/refresh-metadata"


def rows(identity: IdentityProvider) -> tuple:
    return (
        IdentityProvider.objects.filter(pk=identity.pk).values().get(),
        Provider.objects.filter(pk=identity.provider_id).values().get(),
    )


def test_the_api_answers_the_report_and_saves_the_new_certificate(fresh_saml_provider, operator_client):
    idp = fresh_saml_provider
    identity = saml_identity(idp)
    etag = operator_client.get("/api/identity-providers/corp-saml")["ETag"]
    idp.publish_both_keys()
    old, new = fingerprint(idp.certificate_pem(0)), fingerprint(idp.certificate_pem(1))

    response = operator_client.post(refresh_url(), {"remove_missing": False}, format="json")

    assert response.status_code == 200, response.content
    identity.refresh_from_db()
    assert response.json() == {
        "alias": "corp-saml",
        "workspace": "default",
        "changed": True,
        "added": [new],
        "removed": [],
        "kept": [],
        "trusted": [old, new],
        "changed_urls": [],
        "certificate_expires_at": identity.certificate_expires_at.isoformat().replace("+00:00", "Z"),
        "summary": "1 certificate added",
    }
    assert identity.signing_certificate.count("BEGIN CERTIFICATE") == 2
    after = operator_client.get("/api/identity-providers/corp-saml")
    assert after["ETag"] != etag
    assert after.json()["saml_config"]["signing_certificate"].count("BEGIN CERTIFICATE") == 2
    event = AuditEvent.objects.get(action="update")
    assert (event.source, event.fields, event.object_id) == ("api", ["signing certificate"], "corp-saml")


def test_remove_missing_and_moved_urls_through_the_api(fresh_saml_provider, operator_client):
    idp = fresh_saml_provider
    saml_identity(
        idp,
        signing_certificate=idp.certificate_pem(0) + idp.certificate_pem(1),
        single_sign_on_service_url="https://old.idp.test/sso",
    )
    idp.use_key(1)

    response = operator_client.post(refresh_url(), {"remove_missing": True}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["removed"], body["kept"], body["trusted"]) == (
        [fingerprint(idp.certificate_pem(0))],
        [],
        [fingerprint(idp.certificate_pem(1))],
    )
    assert body["changed_urls"] == [
        {"field": "single_sign_on_service_url", "old": "https://old.idp.test/sso", "new": idp.sso_url}
    ]


def test_an_empty_body_keeps_what_the_metadata_no_longer_lists(fresh_saml_provider, operator_client):
    idp = fresh_saml_provider
    identity = saml_identity(idp, signing_certificate=idp.certificate_pem(0) + idp.certificate_pem(1))
    idp.use_key(1)
    before = rows(identity)

    response = operator_client.post(refresh_url())

    assert response.status_code == 200, response.content
    assert response.json()["kept"] == [fingerprint(idp.certificate_pem(0))]
    assert response.json()["changed"] is False
    assert rows(identity) == before


def test_a_failure_is_a_400_on_metadata_url_and_nothing_is_written(httpserver, operator_client, certificate_pem):
    httpserver.expect_request("/metadata").respond_with_data("down for maintenance", status=503)
    identity = IdentityProviderFactory(
        saml=True, alias="corp-saml", metadata_url=httpserver.url_for("/metadata"), signing_certificate=certificate_pem
    )
    before = rows(identity)

    response = operator_client.post(refresh_url(), {"remove_missing": True}, format="json")

    assert response.status_code == 400
    assert response.json() == {"metadata_url": ["The metadata URL returned HTTP 503; expected 200."]}
    assert rows(identity) == before
    assert not AuditEvent.objects.filter(action="update").exists()


def test_an_oidc_identity_provider_is_a_400(operator_client):
    IdentityProviderFactory(alias="okta")

    response = operator_client.post(refresh_url("okta"), {}, format="json")

    assert response.status_code == 400
    assert response.json() == {"metadata_url": ["Only a SAML identity provider has metadata to refresh."]}


@pytest.mark.parametrize(
    "body,errors",
    [
        ({"remove_missing": "yes"}, {"remove_missing": ["Expected true or false."]}),
        ({"remove_missing": False, "force": True}, {"force": ["Unknown field."]}),
    ],
)
def test_a_malformed_body_is_a_400_naming_the_field(fresh_saml_provider, operator_client, httpserver, body, errors):
    saml_identity(fresh_saml_provider)

    response = operator_client.post(refresh_url(), body, format="json")

    assert response.status_code == 400
    assert response.json() == errors


def test_a_viewer_may_not_refresh(fresh_saml_provider, role_client):
    idp = fresh_saml_provider
    identity = saml_identity(idp)
    idp.publish_both_keys()
    before = rows(identity)
    viewer = role_client("viewer")
    assert viewer.get("/api/identity-providers/corp-saml").status_code == 200

    response = viewer.post(refresh_url(), {}, format="json")

    assert response.status_code == 403
    assert rows(identity) == before
    assert AuditEvent.objects.get().action == "denied"


def test_the_workspace_path_refreshes_its_own_and_another_workspaces_is_404(fresh_saml_provider):
    idp = fresh_saml_provider
    acme = Workspace.objects.create(name="acme", display_name="ACME")
    globex = Workspace.objects.create(name="globex", display_name="Globex")
    ours = saml_identity(idp, workspace=acme)
    theirs = saml_identity(idp, workspace=globex, alias="globex-saml")
    ada = UserFactory(username="ada")
    Membership.objects.create(workspace=acme, user=ada, role=Membership.Role.OPERATOR)
    client = client_for(ada)
    idp.publish_both_keys()
    before = rows(theirs)

    own = client.post(refresh_url(workspace="acme"), {}, format="json")
    other = client.post(refresh_url("globex-saml", workspace="globex"), {}, format="json")
    through_own = client.post(refresh_url("globex-saml", workspace="acme"), {}, format="json")

    assert own.status_code == 200, own.content
    assert (own.json()["workspace"], own.json()["added"]) == ("acme", [fingerprint(idp.certificate_pem(1))])
    ours.refresh_from_db()
    assert ours.signing_certificate.count("BEGIN CERTIFICATE") == 2
    assert (other.status_code, through_own.status_code) == (404, 404)
    assert rows(theirs) == before
    assert not AuditEvent.objects.filter(workspace=globex).exists()


def lifecycle(identity: IdentityProvider, operation: str) -> str:
    return reverse("admin:providers_identityprovider_lifecycle", args=[identity.pk, operation])


def change_page(client, identity: IdentityProvider) -> str:
    response = client.get(reverse("admin:providers_identityprovider_change", args=[identity.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_admin_button_refreshes_and_shows_the_report(fresh_saml_provider, client, operator):
    idp = fresh_saml_provider
    identity = saml_identity(idp)
    client.force_login(operator)
    page = change_page(client, identity)
    assert 'class="historylink lifecycle-refresh-metadata">Refresh metadata</button>' in page
    assert "lifecycle-refresh-metadata-remove" not in page  # one certificate: none to spare
    idp.publish_both_keys()

    response = client.post(lifecycle(identity, "refresh-metadata"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:providers_identityprovider_change", args=[identity.pk])
    text = response.content.decode()
    assert f"Metadata refreshed: 1 certificate added (added {fingerprint(idp.certificate_pem(1))})." in text
    identity.refresh_from_db()
    assert identity.signing_certificate.count("BEGIN CERTIFICATE") == 2
    event = AuditEvent.objects.get(action="update")
    assert (event.source, event.actor, event.fields) == ("admin", operator, ["signing certificate"])
    # Two certificates now: the button that removes the unlisted ones is offered.
    assert "lifecycle-refresh-metadata-remove" in text


def test_the_admin_warns_about_kept_certificates_and_removes_them_on_request(fresh_saml_provider, client, operator):
    idp = fresh_saml_provider
    identity = saml_identity(idp, signing_certificate=idp.certificate_pem(0) + idp.certificate_pem(1))
    idp.use_key(1)
    client.force_login(operator)
    old = fingerprint(idp.certificate_pem(0))

    kept = client.post(lifecycle(identity, "refresh-metadata"), follow=True).content.decode()

    assert "Metadata refreshed: 1 certificate no longer in the metadata, kept." in kept
    assert f"Still trusted though the metadata no longer lists them: {old}." in kept
    identity.refresh_from_db()
    assert identity.signing_certificate.count("BEGIN CERTIFICATE") == 2

    removed = client.post(lifecycle(identity, "refresh-metadata-remove"), follow=True).content.decode()

    assert f"Metadata refreshed: 1 certificate no longer in the metadata, removed (removed {old})." in removed
    identity.refresh_from_db()
    assert identity.signing_certificate.strip() == idp.certificate_pem(1).strip()


def test_the_admin_shows_a_failure_as_an_error(httpserver, client, operator, certificate_pem):
    httpserver.expect_request("/metadata").respond_with_data("<html>")
    identity = IdentityProviderFactory(
        saml=True, metadata_url=httpserver.url_for("/metadata"), signing_certificate=certificate_pem
    )
    before = rows(identity)
    client.force_login(operator)

    response = client.post(lifecycle(identity, "refresh-metadata"), follow=True)

    assert (
        '<li class="error">Metadata refresh failed: Metadata is not well-formed XML.</li>' in response.content.decode()
    )
    assert rows(identity) == before


def test_no_button_without_a_metadata_url_or_for_oidc(client, operator):
    client.force_login(operator)
    typed = IdentityProviderFactory(saml=True, alias="typed", metadata_url="")
    oidc = IdentityProviderFactory(alias="okta")

    for identity in (typed, oidc):
        assert "lifecycle-refresh-metadata" not in change_page(client, identity)


def test_a_viewer_gets_no_button_and_a_403(fresh_saml_provider, client):
    identity = saml_identity(fresh_saml_provider)
    fresh_saml_provider.publish_both_keys()
    viewer = UserFactory(username="viewer", groups=["identity_provider_viewer"])
    client.force_login(viewer)
    assert "lifecycle-refresh-metadata" not in change_page(client, identity)
    before = rows(identity)

    response = client.post(lifecycle(identity, "refresh-metadata"))

    assert response.status_code == 403
    assert rows(identity) == before


def test_the_schema_documents_the_action(operator_client):
    schema = operator_client.get("/api/schema/?format=json")
    assert schema.status_code == 200, schema.content[:300]
    paths = json.loads(schema.content)["paths"]

    operation = paths["/api/identity-providers/{alias}/refresh-metadata"]["post"]

    request = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert request == "#/components/schemas/RefreshMetadataRequest"
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == (
        "#/components/schemas/RefreshReport"
    )
    assert set(operation["responses"]) >= {"200", "400", "404"}
