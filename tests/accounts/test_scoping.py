"""The one guard of workspace-owned rows (`accounts.scoping`): outside a scope a query raises
instead of reading every workspace; inside one it sees that scope's workspaces only; a request
that has not said which workspace it acts on is guarded too."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership, Workspace
from accounts.scoping import ScopeError, guarded, within
from accounts.services import api_token_create
from providers.models import IdentityProviderMapper, Project, Provider
from tests.conftest import client_for
from tests.factories import IdentityProviderFactory, OperatorFactory, ProviderFactory, UserFactory


@pytest.fixture
def two(db):
    acme = Workspace.objects.create(name="acme", display_name="ACME")
    globex = Workspace.objects.create(name="globex", display_name="Globex")
    for workspace in (acme, globex):
        ProviderFactory(provider_id="gh", label=workspace.name, workspace=workspace)
        IdentityProviderFactory(alias="okta", provider__workspace=workspace, mappers=[{"name": workspace.name}])
    return acme, globex


@pytest.mark.parametrize(
    "query",
    [
        lambda: list(Provider.objects.all()),
        lambda: Provider.objects.filter(provider_id="gh").exists(),
        lambda: Project.objects.count(),
        lambda: IdentityProviderMapper.objects.get(name="acme"),
    ],
    ids=["list", "exists", "count", "get"],
)
def test_an_unscoped_query_raises(two, query):
    with guarded(), pytest.raises(ScopeError):
        query()


def test_a_scope_sees_its_workspace_only_through_every_manager(two):
    acme, globex = two

    with within(acme.pk):
        ids = sorted(Provider.objects.values_list("provider_id", "workspace__name"))
        mappers = list(IdentityProviderMapper.objects.values_list("name", flat=True))
        related = list(Provider.objects.get(provider_id="okta").identity.mappers.values_list("name", flat=True))
    with within([acme.pk, globex.pk]):
        both = Provider.objects.filter(provider_id="gh").count()

    assert ids == [("gh", "acme"), ("okta", "acme")]
    assert mappers == related == ["acme"]
    assert both == 2


def test_a_new_row_takes_the_scopes_workspace(two):
    acme, _ = two

    with within(acme.pk):
        created = Project.objects.create(project_id="cart", name="Cart")

    assert created.workspace == acme


def test_a_workspace_path_costs_no_query_more_than_the_unprefixed_one(two, settings):
    """Fixed counts: the token with its user, permissions and (on a workspace's path) the user's
    access to that workspace, in one query; then the row."""
    settings.API_TOKEN_LAST_USED_RESOLUTION = 60
    operator = OperatorFactory()
    _, raw = api_token_create(user=operator, name="t")
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    ProviderFactory(provider_id="gh", label="default")
    client.get("/api/backend/providers/gh")  # records last use

    counts = {}
    for path in ("/api/backend/providers/gh", "/api/workspaces/acme/backend/providers/gh"):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        counts[path] = len(ctx.captured_queries)

    assert counts == {"/api/backend/providers/gh": 2, "/api/workspaces/acme/backend/providers/gh": 2}


def test_a_members_workspace_read_costs_a_fixed_count(two, settings):
    """A member (no global group): the token with the member's role in the path's workspace, the
    role's permissions (its group's), the row."""
    acme, _ = two
    settings.API_TOKEN_LAST_USED_RESOLUTION = 60
    user = UserFactory(username="ada")
    Membership.objects.create(workspace=acme, user=user, role=Membership.Role.OPERATOR)
    client = client_for(user)
    client.get("/api/workspaces/acme/backend/providers/gh")

    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/workspaces/acme/backend/providers/gh").status_code == 200

    assert len(ctx.captured_queries) == 3, [q["sql"][:80] for q in ctx.captured_queries]
