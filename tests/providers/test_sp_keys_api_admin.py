"""The SAML SP keys through the API, `GET` / `POST /api/identity-providers/{alias}/sp-keys` (and under
a workspace's path), and the admin's "Forget the previous SP key" button: certificates only, never a
private key; `view_identityprovider` to read, `change_identityprovider` to act; a 400 naming the
field for an action that cannot be done now or a provider that is not SAML; another workspace's
identity provider is a 404."""

import pytest
from django.urls import reverse

from accounts.models import Membership, Workspace
from providers.identity.discovery import certificate_info
from providers.identity.services import sp_keys
from providers.models import AuditEvent, IdentityProvider
from tests.conftest import client_for
from tests.factories import IdentityProviderFactory, UserFactory

pytestmark = pytest.mark.django_db


def keys_url(alias: str = "corp-saml", workspace: str | None = None) -> str:
    prefix = f"/api/workspaces/{workspace}" if workspace else "/api"
    return f"{prefix}/identity-providers/{alias}/sp-keys"


def saml_identity(**overrides) -> IdentityProvider:
    return IdentityProviderFactory(saml=True, alias="corp-saml", **overrides)


def stored(identity: IdentityProvider) -> IdentityProvider:
    return IdentityProvider.objects.get(pk=identity.pk)


def private_keys(identity: IdentityProvider) -> list[str]:
    row = stored(identity)
    keys = (row.sp_private_key, row.sp_next_private_key, row.sp_previous_private_key)
    return [key for key in keys if key]


def test_get_answers_the_certificates_and_never_a_private_key(operator_client):
    identity = saml_identity()
    assert operator_client.get(keys_url()).json() == {"current": None, "next": None, "previous": None}
    sp_keys.sp_key_generate(identity=identity, actor=None)
    sp_keys.sp_key_generate(identity=identity, actor=None)
    sp_keys.sp_key_activate_next(identity=identity, actor=None)
    sp_keys.sp_key_generate(identity=identity, actor=None)
    row = stored(identity)

    response = operator_client.get(keys_url())

    assert response.status_code == 200, response.content
    text = response.content.decode()
    assert "PRIVATE KEY" not in text
    assert len(private_keys(identity)) == 3 and not any(key[40:90] in text for key in private_keys(identity))
    body = response.json()
    for role, pem in (
        ("current", row.sp_certificate),
        ("next", row.sp_next_certificate),
        ("previous", row.sp_previous_certificate),
    ):
        info = certificate_info(pem)
        assert body[role]["certificate"] == pem
        assert body[role]["fingerprint_sha256"] == info.fingerprint_sha256
        assert body[role]["expires_at"].startswith(info.not_after.strftime("%Y-%m-%dT%H:%M"))
        assert set(body[role]) == {"certificate", "fingerprint_sha256", "subject", "not_before", "expires_at"}


def test_the_rollover_through_the_api(operator_client, operator):
    identity = saml_identity()

    first = operator_client.post(keys_url(), {"action": "generate"}, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["current"] and first.json()["next"] is None
    published = operator_client.post(keys_url(), {"action": "generate"}, format="json")
    assert published.status_code == 200 and published.json()["next"]
    activated = operator_client.post(keys_url(), {"action": "activate_next"}, format="json")
    assert activated.status_code == 200
    assert activated.json()["current"] == published.json()["next"]
    assert activated.json()["previous"] == published.json()["current"] and activated.json()["next"] is None
    forgotten = operator_client.post(keys_url(), {"action": "forget_previous"}, format="json")
    assert forgotten.status_code == 200 and forgotten.json()["previous"] is None
    assert "PRIVATE KEY" not in b"".join(r.content for r in (first, published, activated, forgotten)).decode()

    row = stored(identity)
    assert row.sp_previous_private_key is None and row.sp_previous_certificate == ""
    events = AuditEvent.objects.filter(action=AuditEvent.Action.ROTATE).order_by("id")
    assert [event.fields for event in events] == [
        ["SP key (current)"],
        ["SP key (next)"],
        ["SP key (activated)"],
        ["SP key (previous forgotten)"],
    ]
    assert {(event.actor, event.source) for event in events} == {(operator, "api")}


@pytest.mark.parametrize(
    ("setup", "action", "message"),
    [
        ([], "activate_next", "There is no next key to activate: generate one first."),
        ([], "forget_previous", "There is no previous key to forget."),
        (["generate", "generate"], "generate", "A next key is already published: activate it first."),
    ],
    ids=["nothing-to-activate", "nothing-to-forget", "next-already-published"],
)
def test_an_action_that_cannot_be_done_now_is_a_400_on_action(operator_client, setup, action, message):
    identity = saml_identity()
    for step in setup:
        assert operator_client.post(keys_url(), {"action": step}, format="json").status_code == 200
    before = IdentityProvider.objects.filter(pk=identity.pk).values().get()

    response = operator_client.post(keys_url(), {"action": action}, format="json")

    assert response.status_code == 400
    assert response.json() == {"action": [message]}
    assert IdentityProvider.objects.filter(pk=identity.pk).values().get() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "action"),
        ({"action": "rotate"}, "action"),
        ({"action": 1}, "action"),
        ({"action": "generate", "x": 1}, "x"),
    ],
    ids=["missing", "unknown-action", "not-a-string", "unknown-key"],
)
def test_a_malformed_body_is_a_400_naming_the_field(operator_client, body, field):
    saml_identity()
    response = operator_client.post(keys_url(), body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ROTATE).count() == 0


def test_a_provider_that_is_not_saml_is_a_400_on_protocol(operator_client):
    identity = IdentityProviderFactory(alias="okta")
    read = operator_client.get(keys_url("okta"))
    acted = operator_client.post(keys_url("okta"), {"action": "generate"}, format="json")
    assert (read.status_code, acted.status_code) == (400, 400)
    assert read.json() == acted.json() == {"protocol": ["Only a SAML identity provider has SP keys."]}
    assert private_keys(identity) == []


def test_reading_needs_the_view_permission_and_acting_the_change_permission(role_client):
    identity = saml_identity()
    sp_keys.sp_key_generate(identity=identity, actor=None)
    before = IdentityProvider.objects.filter(pk=identity.pk).values().get()
    viewer, owner, anonymous = role_client("viewer"), role_client("owner"), role_client("anonymous")

    assert viewer.get(keys_url()).status_code == 200
    assert viewer.post(keys_url(), {"action": "generate"}, format="json").status_code == 403
    assert owner.get(keys_url()).status_code == 403
    assert owner.post(keys_url(), {"action": "generate"}, format="json").status_code == 403
    assert anonymous.get(keys_url()).status_code == 401
    assert anonymous.post(keys_url(), {"action": "generate"}, format="json").status_code == 401
    assert IdentityProvider.objects.filter(pk=identity.pk).values().get() == before


def test_the_workspace_path_acts_on_its_own_and_another_workspaces_is_404():
    acme = Workspace.objects.create(name="acme", display_name="ACME")
    globex = Workspace.objects.create(name="globex", display_name="Globex")
    ours = saml_identity(provider__workspace=acme)
    theirs = IdentityProviderFactory(saml=True, alias="globex-saml", provider__workspace=globex)
    ada = UserFactory(username="ada")
    Membership.objects.create(workspace=acme, user=ada, role=Membership.Role.OPERATOR)
    client = client_for(ada)

    own = client.post(keys_url(workspace="acme"), {"action": "generate"}, format="json")
    assert own.status_code == 200, own.content
    assert stored(ours).sp_certificate
    for method in ("get", "post"):
        other = getattr(client, method)(keys_url("globex-saml", workspace="globex"), {"action": "generate"})
        through_own = getattr(client, method)(keys_url("globex-saml", workspace="acme"), {"action": "generate"})
        assert (other.status_code, through_own.status_code) == (404, 404), method
    assert stored(theirs).sp_certificate == "" and private_keys(theirs) == []
    assert not AuditEvent.objects.filter(workspace=globex).exists()


def test_the_openapi_document_describes_both_methods(operator_client):
    schema = operator_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    operations = schema.json()["paths"]["/api/identity-providers/{alias}/sp-keys"]
    assert set(operations) >= {"get", "post"}
    assert "never shown" in operations["get"]["description"]
    assert "forget_previous" in str(operations["post"]["requestBody"])


def lifecycle(identity: IdentityProvider, operation: str) -> str:
    return reverse("admin:providers_identityprovider_lifecycle", args=[identity.pk, operation])


def change_page(client, identity: IdentityProvider) -> str:
    response = client.get(reverse("admin:providers_identityprovider_change", args=[identity.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_admin_forgets_the_previous_key_with_its_button(client, operator):
    identity = saml_identity()
    client.force_login(operator)
    for operation in ("sp-key", "sp-key"):
        client.post(lifecycle(identity, operation))
    assert "lifecycle-sp-key-forget-previous" not in change_page(client, identity)  # nothing kept yet

    activated = client.post(lifecycle(identity, "sp-key-activate"), follow=True).content.decode()
    assert "still decrypts assertions encrypted for it" in activated
    page = change_page(client, identity)
    assert 'class="historylink lifecycle-sp-key-forget-previous">Forget the previous SP key</button>' in page
    previous = certificate_info(stored(identity).sp_previous_certificate).fingerprint_sha256
    assert "previous key kept to decrypt (not published)" in page and previous[:21] in page
    assert "PRIVATE KEY" not in page

    forgotten = client.post(lifecycle(identity, "sp-key-forget-previous"), follow=True).content.decode()

    assert "The previous SP key is deleted" in forgotten
    assert "lifecycle-sp-key-forget-previous" not in forgotten
    row = stored(identity)
    assert row.sp_previous_private_key is None and row.sp_previous_certificate == ""
    event = AuditEvent.objects.filter(action=AuditEvent.Action.ROTATE).order_by("-id").first()
    assert (event.source, event.actor, event.fields) == ("admin", operator, ["SP key (previous forgotten)"])
