"""Workspaces in the admin: superusers create them with members; the name is set once; a
workspace that still holds providers cannot be deleted."""

from django.urls import reverse

from accounts.models import DEFAULT_WORKSPACE_ID, Membership, Workspace
from tests.factories import ProviderFactory

ADD = reverse("admin:accounts_workspace_add")


def test_a_superuser_creates_a_workspace_with_an_operator(client, superuser, operator):
    client.force_login(superuser)
    data = {
        "name": "acme",
        "display_name": "ACME Corporation",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": operator.pk,
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
    ProviderFactory(provider_id="gh")
    client.force_login(superuser)
    url = reverse("admin:accounts_workspace_delete", args=[DEFAULT_WORKSPACE_ID])

    page = client.post(url, {"post": "yes"})

    assert page.status_code == 200
    assert "Cannot delete workspace" in page.content.decode()
    assert Workspace.objects.filter(pk=DEFAULT_WORKSPACE_ID).exists()


def test_operators_do_not_manage_workspaces(client, operator):
    client.force_login(operator)

    assert client.get(ADD).status_code == 403
