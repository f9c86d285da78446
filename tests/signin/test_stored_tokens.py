"""`storeToken`: the provider's tokens are kept encrypted on the federated identity, readable by its
user through the API only when `addReadTokenRoleOnCreate` granted it, never in the admin."""

import json

import pytest
from django.db import connection

from providers.models import FederatedIdentity
from tests.factories import OperatorFactory

from .helpers import oidc_identity, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def idp(fresh_oidc_provider):
    fresh_oidc_provider.set_account("ana", {"email": "ana@acme.test", "preferred_username": "ana"})
    return fresh_oidc_provider


def _raw_token(federated) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM providers_federatedidentity WHERE id = %s", [federated.pk])
        value = cursor.fetchone()[0]
    return value.decode() if isinstance(value, bytes | memoryview) else str(value)


def test_stored_tokens_are_encrypted_and_readable_by_their_user_when_granted(client, idp):
    oidc_identity(idp, store_token=True, add_read_token_role_on_create=True)
    sign_in(client, idp, "corp", "ana")
    federated = FederatedIdentity.objects.get()
    stored = json.loads(federated.token)
    assert stored["access_token"] and stored["id_token"]
    assert stored["access_token"] not in _raw_token(federated)

    listed = client.get("/api/account/identities")
    assert listed.status_code == 200
    assert listed.json() == [
        {
            "workspace": "default",
            "identity_provider": "corp",
            "user_id": "ana",
            "user_name": "ana",
            "email": "ana@acme.test",
            "token_readable": True,
            "first_login_at": listed.json()[0]["first_login_at"],
            "last_login_at": listed.json()[0]["last_login_at"],
        }
    ]
    assert "access_token" not in listed.content.decode()
    token = client.get("/api/account/identities/default/corp/token")
    assert token.status_code == 200 and token.json()["access_token"] == stored["access_token"]


def test_tokens_not_readable_without_the_grant_nor_by_others(client, idp):
    oidc_identity(idp, store_token=True)
    sign_in(client, idp, "corp", "ana")
    assert client.get("/api/account/identities/default/corp/token").status_code == 403
    client.force_login(OperatorFactory())
    assert client.get("/api/account/identities/default/corp/token").status_code == 404
    assert client.get("/api/account/identities").json() == []


def test_no_token_kept_without_store_token(client, idp):
    oidc_identity(idp)
    sign_in(client, idp, "corp", "ana")
    assert FederatedIdentity.objects.get().token is None
    assert client.get("/api/account/identities/default/corp/token").status_code == 404


def test_the_admin_lists_linked_accounts_without_tokens_and_unlinks(client, idp):
    oidc_identity(idp, store_token=True)
    sign_in(client, idp, "corp", "ana")
    federated = FederatedIdentity.objects.get()
    stored = json.loads(federated.token)
    operator = OperatorFactory()
    client.force_login(operator)
    listing = client.get("/admin/providers/federatedidentity/")
    assert listing.status_code == 200 and "ana@acme.test" in listing.content.decode()
    detail = client.get(f"/admin/providers/federatedidentity/{federated.pk}/change/")
    assert detail.status_code == 200
    for page in (listing, detail):
        assert stored["access_token"] not in page.content.decode()
    deleted = client.post(f"/admin/providers/federatedidentity/{federated.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302 and FederatedIdentity.objects.count() == 0
