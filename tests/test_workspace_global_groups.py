"""A mapper granting a global group (`access_token_manager`, `project_owner`,
`identity_provider_viewer`: their members hold that role in every workspace) makes whoever signs in
through it a member of every workspace. So it needs both: the mapper is the default workspace's,
and whoever writes it is already in every workspace (a superuser, a global group's member, not
through a token limited to one workspace). A member-operator or owner of the default workspace
alone is refused, in every dialect that writes mappers (the canonical / Keycloak API's mappers and
identity providers with their `mappers`, the admin's mapper inline), with a 400 naming
`config.group`. The JSON:API and public-list dialects write no mappers."""

from dataclasses import replace

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory

from accounts.models import DEFAULT_WORKSPACE_ID, Membership, Workspace
from accounts.scoping import within
from accounts.services import api_token_create
from providers.audit import serving
from providers.identity import services as identity_services
from providers.models import IdentityProvider, IdentityProviderMapper
from tests.conftest import client_for
from tests.factories import IdentityProviderFactory, OperatorFactory, UserFactory
from tests.providers.dialects import oidc_body
from tests.providers.test_identity_admin import form_data

GLOBAL_GROUPS = ["access_token_manager", "project_owner", "identity_provider_viewer"]
IDPS = "/api/identity-providers"
REFUSED = "gives its role in every workspace: only superusers and those already in every workspace may grant it."


def granting(group: str, name: str = "escalate") -> dict:
    return {"name": name, "identityProviderMapper": "oidc-hardcoded-group-idp-mapper", "config": {"group": group}}


def default_member(username: str, role: str = Membership.Role.OPERATOR):
    user = UserFactory(username=username)
    Membership.objects.create(workspace_id=DEFAULT_WORKSPACE_ID, user=user, role=role)
    return user


@pytest.fixture
def corp(db):
    """An identity provider of the default workspace."""
    return IdentityProviderFactory(
        alias="corp",
        display_name="Corporate",
        authorization_url="",
        token_url="",
        provider__workspace_id=DEFAULT_WORKSPACE_ID,
    )


@pytest.mark.parametrize("group", GLOBAL_GROUPS)
@pytest.mark.parametrize("role", [Membership.Role.OPERATOR, Membership.Role.OWNER])
def test_a_default_workspace_member_cannot_create_a_mapper_granting_a_global_group(corp, group, role):
    client = client_for(default_member("dora", role))

    response = client.post(f"{IDPS}/corp/mappers", granting(group), format="json")

    assert response.status_code == 400
    assert response.json() == {"config.group": [f'"{group}" {REFUSED}']}
    assert not IdentityProviderMapper.objects.filter(name="escalate").exists()


def test_a_default_workspace_member_cannot_change_a_mapper_to_grant_a_global_group(corp):
    client = client_for(default_member("dora"))
    Group.objects.create(name="staff")  # an ordinary group: a default workspace operator may grant it
    mapper_id = client.post(f"{IDPS}/corp/mappers", granting("staff", name="m"), format="json").json()["id"]

    replaced = client.put(f"{IDPS}/corp/mappers/{mapper_id}", granting("access_token_manager", name="m"), format="json")
    patched = client.patch(f"{IDPS}/corp/mappers/{mapper_id}", {"config": {"group": "project_owner"}}, format="json")

    assert (replaced.status_code, patched.status_code) == (400, 400)
    assert replaced.json() == {"config.group": [f'"access_token_manager" {REFUSED}']}
    assert patched.json() == {"config.group": [f'"project_owner" {REFUSED}']}
    assert IdentityProviderMapper.objects.get(pk=mapper_id).config == {"group": "staff"}


def test_an_identity_provider_written_with_its_mappers_is_refused_the_same(corp):
    client = client_for(default_member("dora"))

    created = client.post(IDPS, oidc_body(mappers=[granting("access_token_manager")]), format="json")
    replaced = client.put(
        f"{IDPS}/corp",
        {"alias": "corp", "displayName": "Corp", "providerId": "oidc", "mappers": [granting("project_owner")]},
        format="json",
    )

    assert created.status_code == 400
    assert created.json() == {"mappers.0.config.group": [f'"access_token_manager" {REFUSED}']}
    assert replaced.status_code == 400
    assert replaced.json() == {"mappers.0.config.group": [f'"project_owner" {REFUSED}']}
    assert not IdentityProvider.objects.filter(provider__provider_id="corp-oidc").exists()
    assert not IdentityProviderMapper.objects.filter(name="escalate").exists()


@pytest.mark.parametrize("who", ["superuser", "global operator"])
def test_those_already_in_every_workspace_grant_a_global_group(corp, who):
    user = UserFactory(username="root", is_superuser=True) if who == "superuser" else OperatorFactory()

    response = client_for(user).post(f"{IDPS}/corp/mappers", granting("access_token_manager"), format="json")

    assert response.status_code == 201, response.content
    assert IdentityProviderMapper.objects.filter(name="escalate").exists()


def test_a_global_operators_token_limited_to_the_default_workspace_does_not_grant_a_global_group(corp):
    default = Workspace.objects.get(pk=DEFAULT_WORKSPACE_ID)
    _, raw = api_token_create(user=OperatorFactory(), name="default only", workspace=default)
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.post(f"{IDPS}/corp/mappers", granting("access_token_manager"), format="json")

    assert response.status_code == 400
    assert response.json() == {"config.group": [f'"access_token_manager" {REFUSED}']}


def test_another_workspaces_mapper_may_name_a_global_group_for_its_role_there(db):
    """Outside the default workspace the group stands for its role in that workspace only (a
    sign-in makes the user a member with it: tests/signin/test_workspace_roles.py), so the
    workspace's own operator may write it."""
    acme = Workspace.objects.create(name="acme", display_name="ACME")
    IdentityProviderFactory(alias="okta", provider__workspace=acme)
    acme_operator = UserFactory(username="acme-operator")
    Membership.objects.create(workspace=acme, user=acme_operator, role="operator")

    response = client_for(acme_operator).post(
        "/api/workspaces/acme/identity-providers/okta/mappers", granting("project_owner"), format="json"
    )
    assert response.status_code == 201, response.json()

    dry_run = client_for(acme_operator).post(
        "/api/workspaces/acme/identity-providers/okta/mappers/dry-run", {"claims": {}}, format="json"
    )
    assert dry_run.status_code == 200
    assert dry_run.json()["applied"][0]["detail"] == "Made a member of this workspace with the project owner role."


def inline_post(group: str) -> dict:
    """The change form of `corp` as posted, unchanged (its secret left blank), with one new mapper."""
    return form_data(
        alias="corp",
        client_secret="",
        **{
            "mappers-TOTAL_FORMS": "1",
            "mappers-0-name": "escalate",
            "mappers-0-mapper_type": "oidc-hardcoded-group-idp-mapper",
            "mappers-0-sync_mode": "INHERIT",
            "mappers-0-config": f'{{"group": "{group}"}}',
        },
    )


def test_the_admin_mapper_inline_refuses_a_default_workspace_member(corp):
    admin = Client()
    admin.force_login(default_member("dora"))

    page = admin.post(f"/admin/providers/identityprovider/{corp.pk}/change/", inline_post("project_owner"))

    assert page.status_code == 200
    errors = page.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert errors == {"config": [f'"project_owner" {REFUSED}']}
    assert not IdentityProviderMapper.objects.filter(name="escalate").exists()


def test_the_admin_mapper_inline_lets_a_global_operator_grant_it_in_all_workspaces(corp):
    """“All workspaces” names no workspace; the mapper's own is the default one, so it may."""
    admin = Client()
    admin.force_login(OperatorFactory())
    admin.post("/admin/workspace/", {"workspace": ""})

    page = admin.post(f"/admin/providers/identityprovider/{corp.pk}/change/", inline_post("project_owner"))

    assert page.status_code == 302, page.context["adminform"].form.errors
    assert IdentityProviderMapper.objects.get(name="escalate").config == {"group": "project_owner"}


def test_a_command_may_grant_a_global_group_but_not_a_request_without_an_actor(corp):
    mapper = identity_services.MapperInput(
        name="operators", mapper_type="oidc-hardcoded-group-idp-mapper", config={"group": "access_token_manager"}
    )

    identity_services.mapper_create(provider=corp.provider, actor=None, mapper=mapper)  # a command
    with within(DEFAULT_WORKSPACE_ID):  # a command narrowed to one workspace (manage.py config) too
        identity_services.mapper_create(provider=corp.provider, actor=None, mapper=replace(mapper, name="cli"))
    request = RequestFactory().post("/api/identity-providers/corp/mappers")
    with serving(request), within(DEFAULT_WORKSPACE_ID), pytest.raises(ValidationError) as refused:
        identity_services.mapper_create(provider=corp.provider, actor=None, mapper=replace(mapper, name="again"))

    assert list(refused.value.message_dict) == ["config.group"]
    assert set(IdentityProviderMapper.objects.values_list("name", flat=True)) >= {"operators", "cli"}
    assert not IdentityProviderMapper.objects.filter(name="again").exists()
