"""`/api/workspaces`: superusers create workspaces, owners rename and delete them and manage
their members, members read them; a workspace the caller does not see is a 404."""

import pytest

from accounts.models import DEFAULT_WORKSPACE_ID, Membership, Workspace
from tests.conftest import client_for
from tests.factories import ProviderFactory, UserFactory

WORKSPACES = "/api/workspaces"


@pytest.fixture
def acme(db):
    return Workspace.objects.create(name="acme", display_name="ACME")


def member(workspace: Workspace, username: str, role: str):
    user = UserFactory(username=username)
    Membership.objects.create(workspace=workspace, user=user, role=role)
    return user


def test_a_superuser_creates_a_workspace(superuser):
    response = client_for(superuser).post(WORKSPACES, {"name": "globex", "display_name": "Globex"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["display_name"]) == ("globex", "Globex")
    assert body["public_id"].startswith("org_") and len(body["public_id"]) == 13
    assert Workspace.objects.filter(name="globex").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Globex Corp", "display_name": "Globex"}, "name"),
        ({"name": "gx", "display_name": "Globex"}, "name"),
        ({"name": "globex"}, "display_name"),
        ({"name": "globex", "display_name": "Globex", "owner": "x"}, "owner"),
    ],
    ids=["not-a-slug", "too-short", "missing-display-name", "unknown-field"],
)
def test_a_bad_create_is_400_naming_the_field(superuser, body, field):
    response = client_for(superuser).post(WORKSPACES, body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Workspace.objects.filter(display_name="Globex").exists()


def test_a_taken_name_is_409(superuser, acme):
    response = client_for(superuser).post(WORKSPACES, {"name": "acme", "display_name": "Again"}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "A workspace named “acme” already exists.",
        "name": ["A workspace named “acme” already exists."],
    }


def test_only_superusers_create_workspaces(operator):
    response = client_for(operator).post(WORKSPACES, {"name": "globex", "display_name": "Globex"}, format="json")

    assert response.status_code == 403
    assert not Workspace.objects.filter(name="globex").exists()


def test_members_see_their_workspaces_and_others_are_404(acme):
    viewer = client_for(member(acme, "ada", Membership.Role.VIEWER))
    Workspace.objects.create(name="globex", display_name="Globex")

    listed = viewer.get(WORKSPACES)

    assert listed.status_code == 200
    assert [w["name"] for w in listed.json()] == ["acme"]
    assert viewer.get(f"{WORKSPACES}/acme").json()["display_name"] == "ACME"
    assert viewer.get(f"{WORKSPACES}/globex").status_code == 404
    assert viewer.get(f"{WORKSPACES}/nowhere").status_code == 404


def test_the_global_groups_see_every_workspace(operator, acme):
    assert [w["name"] for w in client_for(operator).get(WORKSPACES).json()] == ["acme", "default"]


def test_an_owner_renames_the_workspace_but_not_its_name(acme):
    owner = client_for(member(acme, "olga", Membership.Role.OWNER))

    renamed = owner.patch(f"{WORKSPACES}/acme", {"display_name": "ACME Corporation"}, format="json")
    moved = owner.patch(f"{WORKSPACES}/acme", {"name": "acme-two"}, format="json")

    assert renamed.status_code == 200
    assert renamed.json()["display_name"] == "ACME Corporation"
    assert moved.status_code == 400
    assert moved.json() == {"name": ["The name cannot be changed."]}
    assert Workspace.objects.get(pk=acme.pk).name == "acme"


def test_a_viewer_may_not_change_the_workspace(acme):
    viewer = client_for(member(acme, "ada", Membership.Role.VIEWER))

    response = viewer.patch(f"{WORKSPACES}/acme", {"display_name": "Mine"}, format="json")

    assert response.status_code == 403
    assert Workspace.objects.get(pk=acme.pk).display_name == "ACME"


def test_deleting_a_workspace_that_holds_providers_is_409_naming_the_counts(superuser, acme):
    ProviderFactory(provider_id="gh", workspace=acme)
    ProviderFactory(provider_id="gl", workspace=acme)

    response = client_for(superuser).delete(f"{WORKSPACES}/acme")

    assert response.status_code == 409
    assert response.json() == {"detail": "Workspace “acme” still holds 2 providers; delete them first."}
    assert Workspace.objects.filter(pk=acme.pk).exists()


def test_an_empty_workspace_is_deleted_the_default_one_never(superuser, acme):
    client = client_for(superuser)

    assert client.delete(f"{WORKSPACES}/acme").status_code == 204
    assert not Workspace.objects.filter(name="acme").exists()
    refused = client.delete(f"{WORKSPACES}/default")
    assert refused.status_code == 409
    assert Workspace.objects.filter(pk=DEFAULT_WORKSPACE_ID).exists()


def test_an_owner_manages_the_members(acme):
    olga = member(acme, "olga", Membership.Role.OWNER)
    owner = client_for(olga)
    # Bob and Olga share the default workspace: he is one of the users she may name.
    Membership.objects.create(workspace_id=DEFAULT_WORKSPACE_ID, user=olga, role=Membership.Role.VIEWER)
    member(Workspace.objects.get(pk=DEFAULT_WORKSPACE_ID), "bob", Membership.Role.VIEWER)
    url = f"{WORKSPACES}/acme/members/bob"

    added = owner.put(url, {"role": "operator"}, format="json")
    changed = owner.put(url, {"role": "viewer"}, format="json")
    listed = owner.get(f"{WORKSPACES}/acme/members")
    removed = owner.delete(url)
    again = owner.delete(url)

    assert (added.status_code, added.json()["role"]) == (201, "operator")
    assert (changed.status_code, changed.json()["role"]) == (200, "viewer")
    assert [(m["user"], m["role"]) for m in listed.json()] == [("bob", "viewer"), ("olga", "owner")]
    assert removed.status_code == 204
    assert again.status_code == 404
    assert not Membership.objects.filter(workspace=acme, user__username="bob").exists()


@pytest.mark.parametrize(
    ("username", "body", "status", "field"),
    [("nobody", {"role": "viewer"}, 404, None), ("bob", {"role": "admin"}, 400, "role"), ("bob", {}, 400, "role")],
    ids=["unknown-user", "unknown-role", "no-role"],
)
def test_a_bad_membership_is_refused(acme, username, body, status, field):
    owner = client_for(member(acme, "olga", Membership.Role.OWNER))
    UserFactory(username="bob")

    response = owner.put(f"{WORKSPACES}/acme/members/{username}", body, format="json")

    assert response.status_code == status
    if field:
        assert field in response.json()
    assert not Membership.objects.filter(workspace=acme, user__username=username).exists()


def test_workspaces_need_authentication(db):
    assert client_for(None).get(WORKSPACES).status_code == 401


def test_an_owner_cannot_tell_a_name_that_is_nobodys_from_an_account_they_do_not_see(acme):
    owner = client_for(member(acme, "olga", Membership.Role.OWNER))
    globex = Workspace.objects.create(name="globex", display_name="Globex")
    member(globex, "gina", Membership.Role.OPERATOR)  # exists, but shares no workspace with olga
    UserFactory(username="lone")  # exists, in no workspace

    answers = {
        username: owner.put(f"{WORKSPACES}/acme/members/{username}", {"role": "viewer"}, format="json")
        for username in ("nobody", "gina", "lone")
    }
    removals = {username: owner.delete(f"{WORKSPACES}/acme/members/{username}") for username in ("nobody", "gina")}

    for username, response in answers.items():
        assert response.status_code == 404
        assert response.json() == {"detail": f"No user “{username}” that you can add to this workspace."}
    assert removals["nobody"].status_code == removals["gina"].status_code == 404
    assert removals["nobody"].json() == {"detail": "“nobody” is not a member of this workspace."}
    assert removals["gina"].json() == {"detail": "“gina” is not a member of this workspace."}
    assert list(Membership.objects.filter(workspace=acme).values_list("user__username", flat=True)) == ["olga"]


def test_an_owner_adds_the_users_of_the_workspaces_they_see_and_those_in_every_workspace(acme, operator):
    olga = member(acme, "olga", Membership.Role.OWNER)
    owner = client_for(olga)
    globex = Workspace.objects.create(name="globex", display_name="Globex")
    Membership.objects.create(workspace=globex, user=olga, role=Membership.Role.VIEWER)
    member(globex, "gina", Membership.Role.OPERATOR)

    colleague = owner.put(f"{WORKSPACES}/acme/members/gina", {"role": "viewer"}, format="json")
    everywhere = owner.put(f"{WORKSPACES}/acme/members/{operator.username}", {"role": "owner"}, format="json")

    assert (colleague.status_code, colleague.json()["user"]) == (201, "gina")
    assert (everywhere.status_code, everywhere.json()["role"]) == (201, "owner")


def test_a_superuser_gets_the_precise_answer_and_adds_anyone(superuser, acme):
    client = client_for(superuser)
    UserFactory(username="lone")

    unknown = client.put(f"{WORKSPACES}/acme/members/nobody", {"role": "viewer"}, format="json")
    anyone = client.put(f"{WORKSPACES}/acme/members/lone", {"role": "viewer"}, format="json")

    assert (unknown.status_code, unknown.json()) == (404, {"detail": "No user named “nobody”."})
    assert anyone.status_code == 201
    assert Membership.objects.filter(workspace=acme, user__username="lone").exists()


def test_a_workspace_limited_owner_token_names_only_the_users_of_its_workspace(acme):
    from accounts.services import api_token_create

    olga = member(acme, "olga", Membership.Role.OWNER)
    globex = Workspace.objects.create(name="globex", display_name="Globex")
    Membership.objects.create(workspace=globex, user=olga, role=Membership.Role.OWNER)
    member(globex, "gina", Membership.Role.VIEWER)
    _, raw = api_token_create(user=olga, name="acme only", workspace=acme)
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.put(f"{WORKSPACES}/acme/members/gina", {"role": "viewer"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "No user “gina” that you can add to this workspace."}


@pytest.mark.parametrize("who", ["owner", "viewer", "global operator", "superuser"])
def test_reading_a_workspace_and_its_members_costs_a_fixed_few_queries(acme, who, settings, django_assert_num_queries):
    """The token (one query, its user and permissions with it), the workspace with whether the
    caller sees and manages it (one), the members with their users (one), whatever their number."""
    settings.API_TOKEN_LAST_USED_RESOLUTION = 60  # as in production: not stamped on every request
    callers = {
        "owner": lambda: member(acme, "olga", Membership.Role.OWNER),
        "viewer": lambda: member(acme, "vic", Membership.Role.VIEWER),
        "global operator": lambda: UserFactory(username="otto", groups=["access_token_manager"]),
        "superuser": lambda: UserFactory(username="root", is_superuser=True),
    }
    client = client_for(callers[who]())
    for n in range(5):
        member(acme, f"m{n}", Membership.Role.VIEWER)
    assert client.get(WORKSPACES).status_code == 200  # the token's first use stamps it

    with django_assert_num_queries(3):
        members = client.get(f"{WORKSPACES}/acme/members")
    with django_assert_num_queries(2):
        workspace = client.get(f"{WORKSPACES}/acme")
    with django_assert_num_queries(2):
        listed = client.get(WORKSPACES)

    assert members.status_code == workspace.status_code == listed.status_code == 200
    assert len(members.json()) == 5 + (who in ("owner", "viewer"))
    assert workspace.json()["name"] == "acme"
    assert "acme" in [w["name"] for w in listed.json()]
