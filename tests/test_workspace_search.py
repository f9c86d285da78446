"""A search within one workspace reads that workspace's entries of the workspace search index
(migration 0021, `selectors.workspace_search`) and finds exactly what the plain search finds there."""

import pytest
from django.contrib import admin
from django.db import connection
from django.db.models import Q
from django.test import Client

from accounts.models import Membership, Workspace
from accounts.scoping import within
from providers import selectors
from providers.admin.common import WorkspaceSearch
from providers.models import Project, Provider
from tests.factories import IdentityProviderFactory, ProjectFactory, ProviderFactory, UserFactory

postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the index is PostgreSQL's")

TERMS = ["gh", "gh-ma", "GH-MAIN", "acme gitlab", "itla", "zürich", "ZÜRICH", "git 7", "_main", "main%", "x"]


def test_each_admin_narrowing_searches_the_columns_of_its_index():
    """The narrowing drops no match only if the admin searches just the columns the index holds."""
    narrowing = [a for a in admin.site._registry.values() if isinstance(a, WorkspaceSearch)]
    assert {type(a).__name__ for a in narrowing} == {"ProviderAdmin", "ProjectAdmin", "IdentityProviderAdmin"}
    for model_admin in narrowing:
        columns = selectors.SEARCH_COLUMNS[model_admin.search_model]
        assert list(model_admin.search_fields) == [model_admin.search_through + name for name in columns]


@pytest.fixture
def two_workspaces(db):
    acme = Workspace.objects.create(name="acme", display_name="Acme")
    globex = Workspace.objects.create(name="globex", display_name="Globex")
    for workspace in (acme, globex):
        ProviderFactory(provider_id="gh-main", label="Company GitHub", workspace=workspace)
        ProviderFactory(provider_id="gitlab-acme", label="ACME GitLab", type="gitlab", workspace=workspace)
        ProviderFactory(provider_id="git-7", label="Zürich git 7", workspace=workspace)
        ProjectFactory(project_id="shop_main", name="Zürich shop", provider=None, workspace=workspace)
    return acme, globex


def plain(model, term: str) -> set[str]:
    first, second = selectors.SEARCH_COLUMNS[model]
    condition = Q()
    for word in term.split():
        condition &= Q(**{f"{first}__icontains": word}) | Q(**{f"{second}__icontains": word})
    return set(model.objects.filter(condition).values_list(first, flat=True))


@postgresql
@pytest.mark.parametrize("model", [Provider, Project])
def test_the_narrowed_search_finds_what_the_plain_one_finds_in_the_workspace(two_workspaces, model):
    acme, _ = two_workspaces
    first = selectors.SEARCH_COLUMNS[model][0]
    with within(acme.pk):
        for term in TERMS:
            searched = model.objects.filter(pk__in=model.objects.filter(**{f"{first}__in": plain(model, term)}))
            narrowed = selectors.workspace_search(searched, term, model=model)
            assert set(narrowed.values_list(first, flat=True)) == plain(model, term), term
            assert all(row.workspace_id == acme.pk for row in narrowed), term


@postgresql
def test_the_narrowing_reads_the_workspace_search_index(two_workspaces):
    acme, _ = two_workspaces
    with within(acme.pk):
        # Unscoped rows, so that the index is the only way in (the workspace's B-trees are not).
        narrowed = selectors.workspace_search(Provider._base_manager.all(), "gitlab", model=Provider)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            plan = narrowed.explain()
    assert "provider_workspace_search" in plan
    assert "providers_search_query" not in plan  # the term's trigrams are computed once, at planning


@postgresql
def test_unchanged_over_every_workspace_and_for_a_term_without_trigrams(two_workspaces):
    queryset = Provider.objects.filter(provider_id__icontains="gitlab")
    assert str(selectors.workspace_search(queryset, "gitlab", model=Provider).query) == str(queryset.query)
    acme, globex = two_workspaces
    with within([acme.pk, globex.pk]):
        assert str(selectors.workspace_search(queryset, "gitlab", model=Provider).query) == str(queryset.query)
    with within(acme.pk):
        queryset = Provider.objects.filter(provider_id__icontains="gh")
        assert str(selectors.workspace_search(queryset, "gh", model=Provider).query) == str(queryset.query)


def test_the_admins_search_within_a_workspace(two_workspaces):
    acme, _ = two_workspaces
    with within(acme.pk):
        IdentityProviderFactory(alias="okta-corp", display_name="Zürich Okta", provider__workspace=acme)
    user = UserFactory(username="ada")
    Membership.objects.create(workspace=acme, user=user, role=Membership.Role.OPERATOR)
    client = Client()
    client.force_login(user)
    providers = client.get("/admin/providers/provider/", {"q": "acme gitlab"})
    projects = client.get("/admin/providers/project/", {"q": "ZüRICH"})
    identity = client.get("/admin/providers/identityprovider/", {"q": "zürich okta"})

    assert [p.provider_id for p in providers.context["cl"].result_list] == ["gitlab-acme"]
    assert [p.project_id for p in projects.context["cl"].result_list] == ["shop_main"]
    assert [i.provider.provider_id for i in identity.context["cl"].result_list] == ["okta-corp"]
    assert {p.workspace_id for p in providers.context["cl"].result_list} == {acme.pk}
