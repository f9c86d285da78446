"""Workspaces are isolated: two tenants, `acme` and `globex`, hold the same ids (`gh`, `okta`,
`shop`). Through every dialect of the API a member of one sees only its own rows, gets 404 for the
other's (never 403), cannot write into it, and its audit log holds nothing of the other's. Runs
on SQLite and PostgreSQL like the rest of the suite."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import DEFAULT_WORKSPACE_ID, Membership, Workspace
from accounts.services import api_token_create
from providers.api.identity import examples
from providers.api.jsonapi import CREATE_EXAMPLE
from providers.models import AuditEvent, IdentityProvider, Project, Provider
from tests.conftest import client_for
from tests.factories import IdentityProviderFactory, ProjectFactory, ProviderFactory, UserFactory

TENANTS = ("acme", "globex")


def member_client(workspace: Workspace, username: str, role: str = Membership.Role.OPERATOR):
    user = UserFactory(username=username)
    Membership.objects.create(workspace=workspace, user=user, role=role)
    return client_for(user)


@pytest.fixture
def tenants(db):
    """Each tenant: a git provider `gh`, an OIDC identity provider `okta` with a mapper, a
    project `shop` on `gh`; every label and name carries the tenant's name."""
    found = {}
    for name in TENANTS:
        workspace = Workspace.objects.create(name=name, display_name=name.upper())
        gh = ProviderFactory(provider_id="gh", label=f"{name} GitHub", workspace=workspace)
        IdentityProviderFactory(
            alias="okta",
            display_name=f"{name} Okta",
            provider__workspace=workspace,
            mappers=[{"name": f"{name}-email"}],
        )
        ProjectFactory(project_id="shop", name=f"{name} shop", provider=gh, workspace=workspace)
        found[name] = workspace
    return found


@pytest.fixture
def ada(tenants):
    """An operator of acme only."""
    return member_client(tenants["acme"], "ada")


def internal_id(workspace: str) -> str:
    return str(
        IdentityProvider.objects.get(provider__provider_id="okta", provider__workspace__name=workspace).internal_id
    )


# Reads of one workspace's resources, as paths under /api/workspaces/{name}/ (the `{idp}` is the
# identity provider's internal id in that workspace).
READS = [
    "backend/providers",
    "backend/providers/gh",
    "backend/providers/gh/credentials",
    "backend/projects",
    "backend/projects/shop",
    "identity-providers",
    "identity-providers/okta",
    "identity-providers/okta/mappers",
    "idps",
    "idps/{idp}",
    "identity_providers",
    "identity_providers/{idp}",
    "backend/providers/export",
    "backend/audit-events",
]


@pytest.mark.parametrize("path", READS)
def test_a_member_reads_its_own_workspace_and_nothing_of_the_other(ada, tenants, path):
    response = ada.get(f"/api/workspaces/acme/{path.format(idp=internal_id('acme'))}")

    assert response.status_code == 200, response.content
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"globex" not in body
    assert internal_id("globex").encode() not in body


@pytest.mark.parametrize("path", [p for p in READS if p != "idps"])
def test_the_other_workspace_is_404_never_403(ada, tenants, path):
    response = ada.get(f"/api/workspaces/globex/{path.format(idp=internal_id('globex'))}")

    unknown = ada.get(f"/api/workspaces/nowhere/{path.format(idp=internal_id('globex'))}")
    assert response.status_code == unknown.status_code == 404
    assert response.content == unknown.content.replace(b"nowhere", b"globex")  # as if it did not exist


@pytest.mark.parametrize("path", ["backend/providers/gh", "identity-providers/okta", "idps/{idp}"])
def test_the_other_workspaces_ids_are_not_found_through_ones_own(ada, tenants, path):
    """Under acme's path, globex's internal ids name nothing."""
    response = ada.get(f"/api/workspaces/acme/{path.format(idp=internal_id('globex'))}")

    assert response.status_code == (200 if "{idp}" not in path else 404)
    assert b"globex" not in response.content


WRITES = [
    ("patch", "backend/providers/gh", {"label": "taken over"}),
    ("delete", "backend/providers/gh", None),
    ("post", "backend/providers/gh/test-connection", {}),
    ("patch", "backend/projects/shop", {"name": "taken over"}),
    ("put", "identity-providers/okta", {"alias": "okta", "displayName": "taken over"}),
    ("delete", "identity-providers/okta", None),
    ("post", "identity-providers/okta/refresh-metadata", {"remove_missing": True}),
    (
        "post",
        "identity-providers/okta/mappers",
        {"name": "m", "identityProviderMapper": "hardcoded-attribute-idp-mapper"},
    ),
    ("delete", "idps/{idp}", None),
    ("patch", "identity_providers/{idp}", {"data": {"type": "identity_providers", "attributes": {"name": "x"}}}),
    ("delete", "identity_providers/{idp}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_writes_into_the_other_workspace_are_404_and_change_nothing(ada, tenants, method, path, body):
    before = (
        list(Provider.objects.filter(workspace=tenants["globex"]).values()),
        list(Project.objects.filter(workspace=tenants["globex"]).values()),
        list(IdentityProvider.objects.filter(provider__workspace=tenants["globex"]).values()),
    )
    url = f"/api/workspaces/globex/{path.format(idp=internal_id('globex'))}"

    response = getattr(ada, method)(
        url, json.dumps(body) if body is not None else None, content_type="application/json"
    )

    assert response.status_code == 404
    assert before == (
        list(Provider.objects.filter(workspace=tenants["globex"]).values()),
        list(Project.objects.filter(workspace=tenants["globex"]).values()),
        list(IdentityProvider.objects.filter(provider__workspace=tenants["globex"]).values()),
    )
    assert not AuditEvent.objects.filter(workspace=tenants["globex"]).exists()


def test_an_unknown_workspace_is_404_json(ada, tenants):
    response = ada.get("/api/workspaces/nowhere/backend/providers")

    assert response.status_code == 404
    assert response.json() == {"detail": "No workspace “nowhere”."}


def test_a_write_lands_in_the_workspace_of_the_path_and_its_audit_log(ada, tenants):
    response = ada.patch("/api/workspaces/acme/backend/providers/gh", {"label": "ACME GitHub"}, format="json")

    assert response.status_code == 200, response.content
    assert Provider.objects.get(workspace=tenants["acme"], provider_id="gh").label == "ACME GitHub"
    assert Provider.objects.get(workspace=tenants["globex"], provider_id="gh").label == "globex GitHub"
    events = AuditEvent.objects.filter(object_id="gh")
    assert [e.workspace.name for e in events] == ["acme"]
    listed = ada.get("/api/workspaces/acme/backend/audit-events").json()
    assert [e["objectId"] for e in listed["results"]] == ["gh"], listed


def test_each_workspace_may_use_an_id_another_has(ada, tenants):
    """The broker-options document's create under its `workspaceName` path: verbatim it asks for
    the issuer (as on the un-prefixed path), with one it creates the provider in that workspace."""
    verbatim = {**examples.BROKER_OPTIONS_EXAMPLE, "config": {}}  # the document's sample body
    body = {**verbatim, "config": {"issuer": "https://sso.example.test/realms/main", "clientId": "registry"}}
    globex = member_client(tenants["globex"], "bob")

    asked = ada.post("/api/workspaces/acme/identity-providers", verbatim, format="json")
    assert (asked.status_code, set(asked.json())) == (400, {"config.issuer"})

    assert ada.post("/api/workspaces/acme/identity-providers", body, format="json").status_code == 201
    assert globex.post("/api/workspaces/globex/identity-providers", body, format="json").status_code == 201
    again = ada.post("/api/workspaces/acme/identity-providers", body, format="json")

    assert again.status_code == 409
    created = Provider.objects.filter(provider_id="keycloak-oidc-2").values_list("workspace__name", flat=True)
    assert sorted(created) == ["acme", "globex"]


def test_a_project_id_is_per_workspace(ada, tenants):
    project = Project.objects.get(workspace=tenants["acme"], project_id="shop")

    response = ada.get("/api/workspaces/acme/backend/projects/shop")

    assert response.json()["name"] == project.name == "acme shop"


def test_a_token_limited_to_a_workspace_acts_on_it_on_the_unprefixed_paths(tenants):
    user = UserFactory(username="carol")
    Membership.objects.create(workspace=tenants["globex"], user=user, role=Membership.Role.OPERATOR)
    token, raw = api_token_create(user=user, name="globex only")
    token.workspace = tenants["globex"]
    token.save(update_fields=["workspace"])
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    listed = client.get("/api/backend/providers")
    other = client.get("/api/workspaces/acme/backend/providers")

    assert listed.status_code == 200
    assert [p["label"] for p in listed.json()["results"]] == ["globex GitHub", "globex Okta"]
    assert other.status_code == 404


def test_the_unprefixed_paths_act_on_the_default_workspace(operator, tenants):
    ProviderFactory(provider_id="gh", label="default GitHub", workspace_id=DEFAULT_WORKSPACE_ID)

    listed = client_for(operator).get("/api/backend/providers").json()

    assert [p["label"] for p in listed["results"]] == ["default GitHub"]


def test_a_member_of_one_workspace_has_no_role_in_the_default_one(ada, tenants):
    assert ada.get("/api/backend/providers").status_code == 403


def test_a_viewer_reads_but_does_not_write(tenants):
    viewer = member_client(tenants["acme"], "vera", Membership.Role.VIEWER)

    assert viewer.get("/api/workspaces/acme/backend/providers/gh").status_code == 200
    refused = viewer.patch("/api/workspaces/acme/backend/providers/gh", {"label": "x"}, format="json")

    assert refused.status_code == 403
    assert Provider.objects.get(workspace=tenants["acme"], provider_id="gh").label == "acme GitHub"


def test_the_public_login_list_is_per_workspace(tenants):
    anonymous = client_for(None)

    acme = anonymous.get("/api/workspaces/acme/idps").json()
    globex = anonymous.get("/api/workspaces/globex/idps").json()

    assert [p["display_name"] for p in acme["providers"]] == ["acme Okta"]
    assert [p["display_name"] for p in globex["providers"]] == ["globex Okta"]
    assert anonymous.get("/api/workspaces/nowhere/idps").status_code == 404


def test_jsonapi_organization_is_the_workspace_public_id(ada, tenants):
    body = ada.get(f"/api/workspaces/acme/identity_providers/{internal_id('acme')}").json()

    assert body["data"]["attributes"]["organization"] == tenants["acme"].public_id


JSONAPI_CREATE = CREATE_EXAMPLE  # the JSON:API document's create request


def jsonapi_create(client, path: str, organization: str | None = None):
    body = json.loads(json.dumps(JSONAPI_CREATE))
    if organization is not None:
        body["data"]["attributes"]["organization"] = organization
    return client.post(path, json.dumps(body), content_type="application/vnd.api+json")


def test_a_jsonapi_create_acts_in_the_organization_it_names(tenants):
    carol = UserFactory(username="carol")
    for workspace in tenants.values():
        Membership.objects.create(workspace=workspace, user=carol, role=Membership.Role.OPERATOR)
    client = client_for(carol)

    response = jsonapi_create(client, "/api/workspaces/acme/identity_providers", tenants["globex"].public_id)

    assert response.status_code == 201, response.content
    attributes = response.json()["data"]["attributes"]
    assert attributes["organization"] == tenants["globex"].public_id
    assert Provider.objects.get(label="Org auth0").workspace == tenants["globex"]


@pytest.mark.parametrize(("organization", "status"), [("globex", 404), ("org_000000000", 404), ("viewer", 403)])
def test_a_jsonapi_create_naming_a_workspace_the_caller_cannot_write_is_refused(tenants, organization, status):
    vera = UserFactory(username="vera")
    Membership.objects.create(workspace=tenants["acme"], user=vera, role=Membership.Role.OPERATOR)
    Membership.objects.create(workspace=tenants["globex"], user=vera, role=Membership.Role.VIEWER)
    named = {"globex": Workspace.objects.create(name="initech", display_name="I").public_id, "viewer": None}
    public_id = named.get(organization) or (tenants["globex"].public_id if organization == "viewer" else organization)

    response = jsonapi_create(client_for(vera), "/api/workspaces/acme/identity_providers", public_id)

    assert response.status_code == status, response.content
    assert response.json()["errors"][0]["status"] == str(status)
    assert not Provider.objects.filter(label="Org auth0").exists()


def limited_client(user, workspace: Workspace, role: str = ""):
    _, raw = api_token_create(user=user, name="limited", workspace=workspace, role=role)
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_a_token_limited_to_the_viewer_role_reads_but_does_not_write(tenants):
    owner = UserFactory(username="olga")
    Membership.objects.create(workspace=tenants["acme"], user=owner, role=Membership.Role.OWNER)
    client = limited_client(owner, tenants["acme"], role="viewer")

    read = client.get("/api/workspaces/acme/backend/providers/gh")
    write = client.patch("/api/workspaces/acme/backend/providers/gh", {"label": "x"}, format="json")

    assert read.status_code == 200
    assert write.status_code == 403
    assert Provider.objects.get(workspace=tenants["acme"], provider_id="gh").label == "acme GitHub"


def test_a_global_operators_token_limited_to_the_viewer_role_does_not_write(operator, tenants):
    client = limited_client(operator, tenants["acme"], role="viewer")

    assert client.get("/api/backend/providers/gh").status_code == 200  # its workspace: acme
    assert client.delete("/api/backend/providers/gh").status_code == 403
    assert Provider.objects.filter(workspace=tenants["acme"], provider_id="gh").exists()


@pytest.mark.parametrize(
    ("role", "workspace", "field"),
    [("owner", "acme", "role"), ("operator", None, "role"), ("", "globex", "workspace"), ("boss", "acme", "role")],
    ids=["above-the-users-role", "role-without-workspace", "not-a-member", "unknown-role"],
)
def test_a_token_cannot_exceed_its_users_role_or_workspaces(tenants, role, workspace, field):
    user = UserFactory(username="otto")
    Membership.objects.create(workspace=tenants["acme"], user=user, role=Membership.Role.OPERATOR)

    with pytest.raises(ValidationError) as refused:
        api_token_create(user=user, name="t", workspace=tenants.get(workspace), role=role)

    assert set(refused.value.message_dict) == {field}
    assert not user.api_tokens.exists()


def test_the_admin_token_form_names_the_limit_refused(tenants):
    user = UserFactory(username="otto")
    Membership.objects.create(workspace=tenants["acme"], user=user, role=Membership.Role.VIEWER)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_apitoken", "view_apitoken"]))
    browser = Client()
    browser.force_login(user)

    page = browser.post(
        "/admin/accounts/apitoken/add/", {"name": "ci", "workspace": tenants["acme"].pk, "role": "operator"}
    )
    options = browser.get("/admin/accounts/apitoken/add/").content.decode()

    assert page.status_code == 200
    assert "Higher than otto&#x27;s own role here (viewer)." in page.content.decode()
    assert not user.api_tokens.exists()
    assert "ACME" in options and "GLOBEX" not in options  # only the user's workspaces are offered


@pytest.mark.parametrize(
    ("group", "role"),
    [("access_token_manager", "operator"), ("project_owner", "project owner"), ("identity_provider_viewer", "viewer")],
)
def test_a_workspaces_mapper_naming_a_global_group_gives_its_role_there_only(ada, tenants, group, role):
    """The group stands for its role in the mapper's workspace (a membership at sign-in:
    tests/signin/test_workspace_roles.py), never for the group and its role in every workspace."""
    body = {"name": "escalate", "identityProviderMapper": "oidc-hardcoded-group-idp-mapper", "config": {"group": group}}

    response = ada.post("/api/workspaces/acme/identity-providers/okta/mappers", body, format="json")
    dry_run = ada.post("/api/workspaces/acme/identity-providers/okta/mappers/dry-run", {"claims": {}}, format="json")

    assert response.status_code == 201, response.content
    assert dry_run.json()["applied"][-1]["detail"] == f"Made a member of this workspace with the {role} role."


def test_the_default_workspaces_mapper_still_grants_a_global_group(operator, tenants):
    IdentityProviderFactory(alias="corp", provider__workspace_id=DEFAULT_WORKSPACE_ID)
    body = {"name": "operators", "identityProviderMapper": "oidc-hardcoded-group-idp-mapper"}
    body["config"] = {"group": "access_token_manager"}

    response = client_for(operator).post("/api/identity-providers/corp/mappers", body, format="json")

    assert response.status_code == 201, response.content


def test_a_superusers_token_limited_to_the_viewer_role_does_not_write(tenants):
    root = UserFactory(username="root", is_superuser=True)
    client = limited_client(root, tenants["acme"], role="viewer")

    assert client.get("/api/backend/providers/gh").status_code == 200
    assert client.patch("/api/backend/providers/gh", {"label": "x"}, format="json").status_code == 403
    assert Provider.objects.get(workspace=tenants["acme"], provider_id="gh").label == "acme GitHub"


def test_a_role_limited_token_does_not_manage_workspaces(tenants):
    root = UserFactory(username="root", is_superuser=True)
    client = limited_client(root, tenants["acme"], role="operator")

    created = client.post("/api/workspaces", {"name": "initech", "display_name": "Initech"}, format="json")
    member = client.put("/api/workspaces/acme/members/root", {"role": "owner"}, format="json")

    assert (created.status_code, member.status_code) == (403, 403)
    assert not Workspace.objects.filter(name="initech").exists()
    assert not Membership.objects.filter(user=root).exists()


def test_a_workspace_limited_token_sees_and_manages_no_other_workspace(tenants):
    both = UserFactory(username="ola")
    for workspace in tenants.values():
        Membership.objects.create(workspace=workspace, user=both, role=Membership.Role.OWNER)
    client = limited_client(both, tenants["acme"])

    listed = client.get("/api/workspaces").json()
    rename = client.patch("/api/workspaces/globex", {"display_name": "Taken"}, format="json")
    member = client.put("/api/workspaces/globex/members/ola", {"role": "viewer"}, format="json")

    assert [w["name"] for w in listed] == ["acme"]
    assert (rename.status_code, member.status_code) == (404, 404)
    assert Workspace.objects.get(name="globex").display_name == "GLOBEX"


def test_the_dashboard_lists_only_the_workspaces_expiring_credentials(tenants):
    from datetime import timedelta

    from django.utils import timezone

    from providers.models import Credential

    soon = timezone.now() + timedelta(days=3)
    for workspace in tenants.values():
        ProviderFactory(provider_id=f"{workspace.name}-expiring", workspace=workspace)
    Credential.objects.filter(provider__provider_id__endswith="-expiring").update(expires_at=soon)
    user = UserFactory(username="eve")
    Membership.objects.create(workspace=tenants["acme"], user=user, role=Membership.Role.OPERATOR)
    browser = Client()
    browser.force_login(user)

    page = browser.get("/admin/").content.decode()

    assert "acme-expiring" in page and "globex-expiring" not in page


def test_a_refusal_outside_one_workspace_is_in_no_workspaces_audit_log(tenants):
    viewer = member_client(tenants["globex"], "vic", Membership.Role.VIEWER)

    refused = viewer.patch("/api/workspaces/globex", {"display_name": "Mine"}, format="json")

    assert refused.status_code == 403
    assert not AuditEvent.objects.filter(detail__contains="/api/workspaces/globex").exists()
