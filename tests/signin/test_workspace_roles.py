"""Signing in through another workspace's identity provider: a mapper naming a global group gives
its role in that workspace only (a membership), never the group itself; FORCE takes it back."""

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Membership, Workspace
from accounts.roles import OPERATORS

from .helpers import oidc_identity, sign_in

User = get_user_model()
pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(db):
    return Workspace.objects.create(name="acme", display_name="ACME")


@pytest.fixture
def idp(fresh_oidc_provider):
    fresh_oidc_provider.set_account("ana", {"email": "ana@acme.test", "preferred_username": "ana", "groups": ["staff"]})
    return fresh_oidc_provider


def _identity(idp, sync_mode="FORCE"):
    identity = oidc_identity(idp, workspace="acme", sync_mode=sync_mode)
    identity.mappers.create(
        name="staff operate",
        mapper_type="oidc-advanced-group-idp-mapper",
        config={"claim": "groups", "claim_value": "staff", "group": OPERATORS},
    )
    return identity


def test_the_mapped_role_is_a_membership_of_that_workspace_only(client, idp, acme):
    _identity(idp)
    response = sign_in(client, idp, "corp", "ana", workspace="acme")
    assert response["Location"] == "/admin/"
    user = User.objects.get(username="ana")
    assert not user.groups.exists()
    membership = Membership.objects.get(user=user)
    assert (membership.workspace, membership.role, membership.via_signin) == (acme, "operator", True)
    assert client.get("/api/workspaces/acme/identity-providers").status_code == 200
    assert client.get("/api/identity-providers").status_code in (403, 404)


def test_force_takes_the_role_back_and_a_membership_given_by_hand_stays(client, idp, acme):
    _identity(idp)
    sign_in(client, idp, "corp", "ana", workspace="acme")
    client.logout()
    idp.set_account("ana", {"email": "ana@acme.test", "preferred_username": "ana", "groups": []})
    sign_in(client, idp, "corp", "ana", workspace="acme")
    user = User.objects.get(username="ana")
    assert not Membership.objects.filter(user=user).exists() and not user.is_staff

    Membership.objects.create(workspace=acme, user=user, role="viewer")
    client.logout()
    sign_in(client, idp, "corp", "ana", workspace="acme")
    assert Membership.objects.get(user=user).role == "viewer"
