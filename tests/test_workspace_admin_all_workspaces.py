"""Edits in the admin's “All workspaces” (a superuser's or a global group member's switcher choice)
act on the row's own workspace, whichever ids other workspaces share."""

import pytest
from django.test import Client

from accounts.models import Workspace
from accounts.scoping import within
from providers import services
from providers.models import AuditEvent, Provider
from tests.factories import IdentityProviderFactory, ProviderFactory, UserFactory
from tests.providers.test_admin_provider_forms import provider_form


@pytest.fixture
def tenants(db):
    """acme and globex, each with a git provider `gh` and an identity provider `okta`."""
    found = {}
    for name in ("acme", "globex"):
        workspace = Workspace.objects.create(name=name, display_name=f"{name.upper()} Inc")
        ProviderFactory(provider_id="gh", label=f"{name} GitHub", workspace=workspace)
        IdentityProviderFactory(alias="okta", display_name=f"{name} Okta", provider__workspace=workspace)
        found[name] = workspace
    return found


def in_all_workspaces(user) -> Client:
    client = Client()
    client.force_login(user)
    assert client.post("/admin/workspace/", {"workspace": ""}).status_code == 302
    return client


@pytest.fixture
def root(db):
    return in_all_workspaces(UserFactory(username="root", is_superuser=True))


def form_errors(page) -> dict:
    return page.context["adminform"].form.errors


def test_a_change_in_all_workspaces_acts_on_that_workspaces_provider(root, tenants):
    theirs = Provider.objects.get(workspace=tenants["globex"], provider_id="gh")

    response = root.post(f"/admin/providers/provider/{theirs.pk}/change/", provider_form(theirs, label="Renamed"))

    assert response.status_code == 302, form_errors(response)
    assert dict(Provider.objects.filter(provider_id="gh").values_list("workspace__name", "label")) == {
        "acme": "acme GitHub",
        "globex": "Renamed",
    }
    assert [e.workspace.name for e in AuditEvent.objects.filter(object_id="gh", action="update")] == ["globex"]


def test_provider_update_takes_the_row_and_acts_in_its_workspace_whatever_the_scope(tenants, operator):
    theirs = Provider.objects.get(workspace=tenants["globex"], provider_id="gh")

    with within(None):  # every workspace, as the admin's “All workspaces”: both have a `gh`
        updated = services.provider_update(provider=theirs, actor=operator, data={"label": "Renamed"})

    assert (updated.pk, updated.label) == (theirs.pk, "Renamed")
    assert Provider.objects.get(workspace=tenants["acme"], provider_id="gh").label == "acme GitHub"
    assert [e.workspace.name for e in AuditEvent.objects.filter(object_id="gh", action="update")] == ["globex"]
