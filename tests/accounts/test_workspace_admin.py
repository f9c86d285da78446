"""Workspaces in the admin: superusers create them with members; the name is set once; a
workspace that still holds providers cannot be deleted."""

from django.urls import reverse

from accounts.models import DEFAULT_WORKSPACE_ID, Membership, Workspace
from tests.factories import ProviderFactory, UserFactory

ADD = reverse("admin:accounts_workspace_add")
CHANGELIST = reverse("admin:accounts_workspace_changelist")


def test_a_superuser_creates_a_workspace_with_an_operator(client, superuser, operator):
    client.force_login(superuser)
    data = {
        "name": "acme",
        "display_name": "ACME Corporation",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": operator.username,
        "memberships-0-role": "operator",
    }

    response = client.post(ADD, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    workspace = Workspace.objects.get(name="acme")
    assert workspace.public_id.startswith("org_") and len(workspace.public_id) == 13
    assert list(Membership.objects.filter(workspace=workspace).values_list("user__username", "role")) == [
        ("operator", "operator")
    ]


def test_a_workspace_name_must_be_a_slug(client, superuser):
    client.force_login(superuser)

    response = client.post(ADD, {"name": "ACME Corp", "display_name": "ACME", "memberships-TOTAL_FORMS": "0",
                                 "memberships-INITIAL_FORMS": "0"})  # fmt: skip

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [
        "3–63 lowercase letters, digits and hyphens, starting and ending with a letter or digit."
    ]
    assert not Workspace.objects.filter(display_name="ACME").exists()


def test_the_name_is_read_only_once_created(client, superuser):
    client.force_login(superuser)

    page = client.get(reverse("admin:accounts_workspace_change", args=[DEFAULT_WORKSPACE_ID]))

    assert page.status_code == 200
    assert "name" not in page.context["adminform"].form.fields
    assert "display_name" in page.context["adminform"].form.fields


def test_a_workspace_holding_providers_cannot_be_deleted(client, superuser):
    acme = Workspace.objects.create(name="acme", display_name="ACME")
    ProviderFactory(provider_id="gh", workspace=acme)
    client.force_login(superuser)
    url = reverse("admin:accounts_workspace_delete", args=[acme.pk])

    page = client.post(url, {"post": "yes"})

    assert page.status_code == 200
    assert "Cannot delete workspace" in page.content.decode()
    assert Workspace.objects.filter(pk=acme.pk).exists()


def test_operators_do_not_manage_workspaces(client, operator):
    client.force_login(operator)

    assert client.get(ADD).status_code == 403
    assert client.get(CHANGELIST).status_code == 403


def test_an_unknown_member_name_is_a_form_error(client, superuser):
    client.force_login(superuser)
    data = {"name": "acme", "display_name": "ACME", "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": "nobody", "memberships-0-role": "viewer"}  # fmt: skip

    response = client.post(ADD, data)

    assert response.status_code == 200
    assert "No user with this name." in response.content.decode()
    assert not Workspace.objects.filter(name="acme").exists()


def test_an_owner_manages_only_their_own_workspace_and_its_members(client, db):
    acme = Workspace.objects.create(name="acme", display_name="ACME")
    globex = Workspace.objects.create(name="globex", display_name="Globex")
    owner = UserFactory(username="olga")
    Membership.objects.create(workspace=acme, user=owner, role=Membership.Role.OWNER)
    # Bob shares a workspace with her (the default one): a user she may name (accounts.selectors.user_to_add).
    Membership.objects.create(workspace_id=DEFAULT_WORKSPACE_ID, user=owner, role=Membership.Role.VIEWER)
    Membership.objects.create(workspace_id=DEFAULT_WORKSPACE_ID, user=UserFactory(username="bob"), role="viewer")
    client.force_login(owner)
    change = reverse("admin:accounts_workspace_change", args=[acme.pk])
    data = {
        "display_name": "ACME Inc.",
        "memberships-TOTAL_FORMS": "2",
        "memberships-INITIAL_FORMS": "1",
        "memberships-0-id": Membership.objects.get(user=owner, workspace=acme).pk,
        "memberships-0-workspace": acme.pk,
        "memberships-0-user": "olga",
        "memberships-0-role": "owner",
        "memberships-1-workspace": acme.pk,
        "memberships-1-user": "bob",
        "memberships-1-role": "viewer",
    }

    listed = client.get(CHANGELIST)
    saved = client.post(change, data)
    other = client.get(reverse("admin:accounts_workspace_change", args=[globex.pk]))

    assert listed.status_code == 200
    assert [w.name for w in listed.context["cl"].result_list] == ["acme"]
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert Workspace.objects.get(pk=acme.pk).display_name == "ACME Inc."
    assert Membership.objects.get(workspace=acme, user__username="bob").role == "viewer"
    assert other.status_code == 302  # the admin's "does not exist" redirect: globex is not shown to her
    assert client.get(ADD).status_code == 403


def test_the_default_workspace_cannot_be_deleted_in_the_admin(client, superuser):
    client.force_login(superuser)
    url = reverse("admin:accounts_workspace_delete", args=[DEFAULT_WORKSPACE_ID])

    page = client.post(url, {"post": "yes"})
    listed = client.get(CHANGELIST)

    assert page.status_code == 403
    assert Workspace.objects.filter(pk=DEFAULT_WORKSPACE_ID).exists()
    assert listed.context["action_form"] is None  # no bulk delete


def test_an_empty_workspace_is_deleted_in_the_admin(client, superuser):
    acme = Workspace.objects.create(name="acme", display_name="ACME")
    client.force_login(superuser)

    page = client.post(reverse("admin:accounts_workspace_delete", args=[acme.pk]), {"post": "yes"})

    assert page.status_code == 302
    assert not Workspace.objects.filter(pk=acme.pk).exists()


def test_an_owner_gets_one_answer_for_a_name_that_is_nobodys_and_an_account_they_do_not_see(client, db):
    acme = Workspace.objects.create(name="acme", display_name="ACME")
    globex = Workspace.objects.create(name="globex", display_name="Globex")
    owner = UserFactory(username="olga")
    Membership.objects.create(workspace=acme, user=owner, role=Membership.Role.OWNER)
    Membership.objects.create(workspace=globex, user=UserFactory(username="gina"), role=Membership.Role.VIEWER)
    client.force_login(owner)
    change = reverse("admin:accounts_workspace_change", args=[acme.pk])

    def add(username: str) -> list[str]:
        data = {
            "display_name": "ACME",
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": Membership.objects.get(user=owner).pk,
            "memberships-0-workspace": acme.pk,
            "memberships-0-role": "owner",
            "memberships-1-workspace": acme.pk,
            "memberships-1-user": username,
            "memberships-1-role": "viewer",
        }
        page = client.post(change, data)
        assert page.status_code == 200
        return page.context["inline_admin_formsets"][0].formset.forms[1].errors["user"]

    assert add("nobody") == ["No user “nobody” that you can add to this workspace."]
    assert add("gina") == ["No user “gina” that you can add to this workspace."]
    assert list(Membership.objects.filter(workspace=acme).values_list("user__username", flat=True)) == ["olga"]
