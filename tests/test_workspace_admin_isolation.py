"""The admin shows and touches only the workspace its switcher names: a member of acme sees none of
globex's rows on any changelist, change page, autocomplete, dashboard or audit page, and a bulk
action naming globex's rows changes nothing. A user in both switches; a superuser sees all."""

import pytest
from django.test import Client

from accounts.models import Membership, Workspace
from providers.models import AuditEvent, IdentityProvider, Project, Provider
from tests.factories import IdentityProviderFactory, ProjectFactory, ProviderFactory, UserFactory
from tests.test_workspace_isolation import TENANTS

CHANGELISTS = [
    "/admin/providers/provider/",
    "/admin/providers/project/",
    "/admin/providers/identityprovider/",
    "/admin/providers/auditevent/",
    "/admin/",
]


@pytest.fixture
def tenants(db):
    found = {}
    for name in TENANTS:
        workspace = Workspace.objects.create(name=name, display_name=f"{name.upper()} Inc")
        gh = ProviderFactory(provider_id="gh", label=f"{name} GitHub", workspace=workspace)
        IdentityProviderFactory(alias="okta", display_name=f"{name} Okta", provider__workspace=workspace)
        ProjectFactory(project_id="shop", name=f"{name} shop", provider=gh, workspace=workspace)
        AuditEvent.objects.create(
            action="update", object_type="provider", object_id=f"{name}-event", workspace=workspace
        )
        found[name] = workspace
    return found


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def member(tenants, username: str, **roles: str) -> Client:
    user = UserFactory(username=username)
    for workspace, role in roles.items():
        Membership.objects.create(workspace=tenants[workspace], user=user, role=role)
    return signed_in(user)


@pytest.fixture
def ada(tenants):
    return member(tenants, "ada", acme=Membership.Role.OPERATOR)


@pytest.mark.parametrize("path", CHANGELISTS)
def test_a_member_sees_only_its_workspace(ada, path):
    response = ada.get(path)

    assert response.status_code == 200
    page = response.content.decode()
    assert "globex" not in page
    if path != "/admin/":
        assert "acme" in page


def change_page(model, workspace: Workspace) -> str:
    if model is IdentityProvider:
        pk = IdentityProvider.objects.get(provider__workspace=workspace).pk
    else:
        pk = model.objects.get(workspace=workspace, **({"provider_id": "gh"} if model is Provider else {})).pk
    return f"/admin/providers/{model._meta.model_name}/{pk}/change/"


@pytest.mark.parametrize("model", [Provider, Project, IdentityProvider, AuditEvent])
def test_the_other_workspaces_change_pages_are_as_if_missing(ada, tenants, model):
    own = ada.get(change_page(model, tenants["acme"]))
    other = ada.get(change_page(model, tenants["globex"]))

    assert own.status_code == 200
    assert other.status_code == 302  # Django's answer for an object that does not exist
    assert "globex" not in ada.get(other["Location"]).content.decode()


def test_the_autocomplete_offers_only_the_workspaces_providers(ada):
    response = ada.get(
        "/admin/autocomplete/",
        {"app_label": "providers", "model_name": "project", "field_name": "provider", "term": "gh"},
    )

    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["acme GitHub (gh)"]


def test_a_bulk_action_naming_the_other_workspaces_rows_changes_nothing(ada, tenants):
    theirs = Provider.objects.get(workspace=tenants["globex"], provider_id="gh")

    ada.post(
        "/admin/providers/provider/",
        {"action": "disable_selected", "confirmed": "yes", "_selected_action": [theirs.pk], "index": 0},
    )

    theirs.refresh_from_db()
    assert theirs.enabled is True


def test_a_user_in_two_workspaces_switches_between_them(tenants):
    carol = member(tenants, "carol", acme=Membership.Role.OPERATOR, globex=Membership.Role.OPERATOR)

    first = carol.get("/admin/providers/provider/").content.decode()
    switched = carol.post(
        "/admin/workspace/", {"workspace": str(tenants["globex"].pk), "next": "/admin/providers/provider/"}
    )
    then = carol.get("/admin/providers/provider/").content.decode()

    assert "acme GitHub" in first and "globex GitHub" not in first
    assert switched.status_code == 302 and switched["Location"] == "/admin/providers/provider/"
    assert "globex GitHub" in then and "acme GitHub" not in then
    assert 'id="workspace-switcher"' in then and "GLOBEX Inc" in then


def test_the_switcher_refuses_a_workspace_that_is_not_the_users(ada, tenants):
    response = ada.post("/admin/workspace/", {"workspace": str(tenants["globex"].pk), "next": "/admin/"}, follow=True)

    assert "That workspace is not one of yours." in response.content.decode()
    assert "globex" not in ada.get("/admin/providers/provider/").content.decode()


def test_a_write_in_the_admin_lands_in_the_switchers_workspace(tenants):
    carol = member(tenants, "carol", acme=Membership.Role.OPERATOR, globex=Membership.Role.OPERATOR)
    carol.post("/admin/workspace/", {"workspace": str(tenants["globex"].pk)})

    response = carol.post(
        "/admin/providers/project/add/", {"project_id": "cart", "name": "Cart", "owners": [], "provider": ""}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Project.objects.get(project_id="cart").workspace == tenants["globex"]


def test_a_superuser_sees_every_workspace_with_a_column_and_filter(tenants):
    root = signed_in(UserFactory(username="root", is_superuser=True))
    root.post("/admin/workspace/", {"workspace": ""})

    page = root.get("/admin/providers/provider/").content.decode()

    assert "acme GitHub" in page and "globex GitHub" in page
    assert "column-workspace_column" in page
    assert "By workspace" in page or "workspace__id__exact" in page


def test_an_edit_in_all_workspaces_is_audited_in_the_objects_workspace(tenants):
    root = signed_in(UserFactory(username="root", is_superuser=True))
    root.post("/admin/workspace/", {"workspace": ""})
    theirs = Provider.objects.get(workspace=tenants["globex"], provider_id="gh")

    root.post(
        "/admin/providers/provider/",
        {"action": "disable_selected", "confirmed": "yes", "_selected_action": [theirs.pk], "index": 0},
    )

    theirs.refresh_from_db()
    assert theirs.enabled is False
    events = AuditEvent.objects.filter(object_id="gh", action__in=["update", "disable"])
    assert [event.workspace.name for event in events] == ["globex"]


def test_the_owners_autocomplete_offers_only_the_workspaces_users(ada, tenants):
    Membership.objects.create(workspace=tenants["globex"], user=UserFactory(username="globex-only"), role="viewer")
    Membership.objects.create(workspace=tenants["acme"], user=UserFactory(username="acme-dev"), role="viewer")

    response = ada.get(
        "/admin/autocomplete/",
        {"app_label": "providers", "model_name": "project", "field_name": "owners", "term": ""},
    )

    names = [r["text"] for r in response.json()["results"]]
    assert "acme-dev" in names and "globex-only" not in names
