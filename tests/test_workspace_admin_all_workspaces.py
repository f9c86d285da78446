"""The admin's “All workspaces” (a superuser's or a global group member's switcher choice) names no
workspace for a new row: the add forms of providers, identity providers and projects ask for one
(required, among the workspaces where the user may add) and create the row there, checked there
(ids are unique per workspace). Showing one workspace, they ask nothing. Edits act on the row's
own workspace, whichever ids other workspaces share."""

import pytest
from django.test import Client

from accounts.models import DEFAULT_WORKSPACE_ID, ApiToken, Workspace
from accounts.scoping import within
from providers import services
from providers.models import AuditEvent, IdentityProvider, Project, Provider
from tests.factories import IdentityProviderFactory, OperatorFactory, ProviderFactory, UserFactory
from tests.providers.admin_helpers import SECRET_TOKEN
from tests.providers.test_admin_provider_forms import provider_form
from tests.providers.test_identity_admin import form_data as identity_form

PROVIDER_ADD = "/admin/providers/provider/add/"
IDENTITY_ADD = "/admin/providers/identityprovider/add/"
PROJECT_ADD = "/admin/providers/project/add/"


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


def workspace_choices(page) -> list[str]:
    field = page.context["adminform"].form.fields["workspace"]
    return [label for value, label in field.choices if value != ""]


def form_errors(page) -> dict:
    return page.context["adminform"].form.errors


@pytest.mark.parametrize("path", [PROVIDER_ADD, IDENTITY_ADD, PROJECT_ADD])
def test_an_add_form_in_all_workspaces_asks_for_the_workspace(root, tenants, path):
    page = root.get(path)

    assert page.status_code == 200
    field = page.context["adminform"].form.fields["workspace"]
    assert field.required
    assert workspace_choices(page) == ["ACME Inc", "Default", "GLOBEX Inc"]
    assert 'name="workspace"' in page.content.decode()


@pytest.mark.parametrize("path", [PROVIDER_ADD, IDENTITY_ADD, PROJECT_ADD])
def test_an_add_form_showing_one_workspace_asks_nothing(tenants, path):
    client = Client()
    client.force_login(UserFactory(username="root", is_superuser=True))
    client.post("/admin/workspace/", {"workspace": str(tenants["acme"].pk)})

    page = client.get(path)

    assert page.status_code == 200
    assert "workspace" not in page.context["adminform"].form.fields


def test_a_provider_added_in_all_workspaces_is_the_chosen_workspaces(root, tenants):
    globex = tenants["globex"]
    data = provider_form(provider_id="gl", credential_type="token", access_token=SECRET_TOKEN, workspace=globex.pk)

    response = root.post(PROVIDER_ADD, data)

    assert response.status_code == 302, form_errors(response)
    assert Provider.objects.get(provider_id="gl").workspace == globex
    events = AuditEvent.objects.filter(object_id="gl", action="create")
    assert [event.workspace_id for event in events] == [globex.pk]
    # The header's switcher still shows the session's choice afterwards.
    assert root.get("/admin/").context["workspace_choices"][0] == {
        "value": "",
        "label": "All workspaces",
        "selected": True,
    }


def test_a_provider_id_is_checked_in_the_chosen_workspace(root, tenants):
    form = provider_form(provider_id="gh", credential_type="token", access_token=SECRET_TOKEN)

    taken = root.post(PROVIDER_ADD, {**form, "workspace": tenants["acme"].pk})
    free = root.post(PROVIDER_ADD, {**form, "workspace": DEFAULT_WORKSPACE_ID})

    assert taken.status_code == 200
    assert form_errors(taken) == {"provider_id": ["A provider with id “gh” already exists."]}
    assert free.status_code == 302, form_errors(free)
    assert sorted(Provider.objects.filter(provider_id="gh").values_list("workspace__name", flat=True)) == [
        "acme",
        "default",
        "globex",
    ]


@pytest.mark.parametrize("workspace", [None, "99999", "acme"], ids=["missing", "unknown", "not-a-number"])
def test_an_add_without_a_valid_workspace_is_refused_naming_the_field(root, tenants, workspace):
    data = provider_form(provider_id="gl", credential_type="token", access_token=SECRET_TOKEN, workspace=workspace)

    response = root.post(PROVIDER_ADD, data)

    assert response.status_code == 200
    assert list(form_errors(response)) == ["workspace"]
    assert not Provider.objects.filter(provider_id="gl").exists()


def test_an_identity_provider_added_in_all_workspaces_is_the_chosen_workspaces(root, tenants):
    taken = root.post(IDENTITY_ADD, identity_form(alias="okta", workspace=tenants["globex"].pk))
    added = root.post(IDENTITY_ADD, identity_form(alias="okta", workspace=DEFAULT_WORKSPACE_ID))

    assert taken.status_code == 200
    assert "alias" in form_errors(taken)
    assert added.status_code == 302, form_errors(added)
    assert IdentityProvider.objects.get(provider__provider_id="okta", provider__workspace_id=DEFAULT_WORKSPACE_ID)
    assert Provider.objects.filter(provider_id="okta").count() == 3


def test_a_project_added_in_all_workspaces_links_only_the_chosen_workspaces_provider(root, tenants):
    acme, globex = tenants["acme"], tenants["globex"]
    theirs = Provider.objects.get(workspace=acme, provider_id="gh")
    own = Provider.objects.get(workspace=globex, provider_id="gh")
    project = {"project_id": "cart", "name": "Cart", "owners": [], "workspace": globex.pk}

    crossing = root.post(PROJECT_ADD, {**project, "provider": theirs.pk})
    added = root.post(PROJECT_ADD, {**project, "provider": own.pk})

    assert crossing.status_code == 200
    assert list(form_errors(crossing)) == ["provider"]
    assert added.status_code == 302, form_errors(added)
    assert Project.objects.get(project_id="cart").workspace == globex
    assert Project.objects.get(project_id="cart").provider == own


def test_a_global_operator_chooses_among_every_workspace(tenants):
    client = in_all_workspaces(OperatorFactory(username="otto"))

    page = client.get(PROJECT_ADD)
    added = client.post(
        PROJECT_ADD, {"project_id": "cart", "name": "Cart", "owners": [], "workspace": tenants["acme"].pk}
    )

    assert workspace_choices(page) == ["ACME Inc", "Default", "GLOBEX Inc"]
    assert added.status_code == 302, form_errors(added)
    assert Project.objects.get(project_id="cart").workspace == tenants["acme"]


def test_an_api_token_added_in_all_workspaces_names_its_workspace_or_none(tenants):
    """A token is not a workspace's row: its workspace is an optional limit, asked in every mode."""
    user = UserFactory(username="root", is_superuser=True)
    root = in_all_workspaces(user)
    page = root.get("/admin/accounts/apitoken/add/")
    limited = root.post(
        "/admin/accounts/apitoken/add/", {"user": user.pk, "name": "ci", "workspace": tenants["globex"].pk}
    )
    unlimited = root.post("/admin/accounts/apitoken/add/", {"user": user.pk, "name": "everywhere", "workspace": ""})

    assert "workspace" in page.context["adminform"].form.fields
    assert (limited.status_code, unlimited.status_code) == (200, 200)  # the page that shows the token once
    assert ApiToken.objects.get(name="ci").workspace == tenants["globex"]
    assert ApiToken.objects.get(name="everywhere").workspace is None  # every workspace, not the default one


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


def test_showing_one_workspace_a_taken_provider_id_is_a_field_error_too(tenants):
    client = Client()
    client.force_login(UserFactory(username="root", is_superuser=True))
    client.post("/admin/workspace/", {"workspace": str(tenants["acme"].pk)})

    response = client.post(PROVIDER_ADD, provider_form(provider_id="gh", credential_type="token", access_token="t"))

    assert response.status_code == 200
    assert form_errors(response) == {"provider_id": ["A provider with id “gh” already exists."]}
    assert Provider.objects.filter(provider_id="gh").count() == 2
