"""Projects through `/api/backend/projects`: operators list and filter them and change every
field, owners set the provider and repository of their own projects only, and bad input is named by
field."""

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.models import Project
from tests.factories import ProjectFactory, ProviderFactory


def test_projects_are_listed_for_operators(operator_client):
    provider = ProviderFactory(provider_id="gh")
    ProjectFactory(project_id="a", provider=provider, repository_path="acme/a")
    ProjectFactory(project_id="b")

    response = operator_client.get("/api/backend/projects")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == ["a", "b"]
    assert rows[0]["repository"] == {"providerId": "gh", "path": "acme/a"}
    assert rows[1]["repository"]["providerId"] is None


def test_projects_list_filters_by_provider(operator_client):
    provider = ProviderFactory(provider_id="gh")
    ProjectFactory(project_id="a", provider=provider)
    ProjectFactory(project_id="b")

    response = operator_client.get("/api/backend/projects?providerId=gh")

    assert [row["id"] for row in response.json()["results"]] == ["a"]


def test_projects_list_query_count_does_not_grow_with_rows(operator_client, owner):
    counts = {}
    created = 0
    for size in (1, 20, 100):
        for _ in range(size - created):
            ProjectFactory(provider=ProviderFactory(), owners=[owner])
        created = size
        operator_client.get("/api/backend/projects?page_size=100")
        with CaptureQueriesContext(connection) as ctx:
            response = operator_client.get("/api/backend/projects?page_size=100")
        assert len(response.json()["results"]) == size
        counts[size] = len(ctx.captured_queries)

    assert counts[1] == counts[20] == counts[100], counts


def test_owner_sets_provider_id_on_own_project(owner_client, owner):
    ProviderFactory(provider_id="gh")
    project = ProjectFactory(project_id="mine", owners=[owner])

    response = owner_client.patch("/api/backend/projects/mine", {"providerId": "gh"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["repository"]["providerId"] == "gh"
    project.refresh_from_db()
    assert project.provider.provider_id == "gh"
    entry = LogEntry.objects.get(object_id=str(project.pk))
    assert entry.user == owner
    assert entry.get_change_message() == "Changed provider."


def test_owner_sets_repository_object(owner_client, owner):
    ProviderFactory(provider_id="gh")
    project = ProjectFactory(project_id="mine", owners=[owner])

    response = owner_client.patch(
        "/api/backend/projects/mine", {"repository": {"providerId": "gh", "path": "acme/mine"}}, format="json"
    )

    assert response.status_code == 200
    project.refresh_from_db()
    assert (project.provider.provider_id, project.repository_path) == ("gh", "acme/mine")


def test_owner_can_unset_provider(owner_client, owner):
    project = ProjectFactory(project_id="mine", owners=[owner], provider=ProviderFactory())

    response = owner_client.patch("/api/backend/projects/mine", {"providerId": None}, format="json")

    assert response.status_code == 200
    project.refresh_from_db()
    assert project.provider is None


def test_owner_cannot_touch_someone_elses_project(owner_client, other_owner):
    ProviderFactory(provider_id="gh")
    theirs = ProjectFactory(project_id="theirs", owners=[other_owner])

    assert owner_client.get("/api/backend/projects/theirs").status_code == 404
    assert owner_client.patch("/api/backend/projects/theirs", {"providerId": "gh"}, format="json").status_code == 404
    assert [row["id"] for row in owner_client.get("/api/backend/projects").json()["results"]] == []
    theirs.refresh_from_db()
    assert theirs.provider is None


@pytest.mark.parametrize(
    "body,field",
    [
        ({"name": "Renamed"}, "name"),
        ({"owners": ["owner"]}, "owners"),
        ({"owners": ["no-such-user"]}, "owners"),
        ({"owners": "not-even-a-list"}, "owners"),
    ],
)
def test_owner_cannot_change_fields_reserved_to_operators(owner_client, owner, body, field):
    project = ProjectFactory(project_id="mine", name="Mine", owners=[owner])

    response = owner_client.patch("/api/backend/projects/mine", body, format="json")

    assert response.status_code == 403
    assert field in response.json()
    project.refresh_from_db()
    assert project.name == "Mine"


@pytest.mark.parametrize(
    "owners,field", [(["ghost"], "owners"), (["own\x00er"], "owners"), ("owner", "owners"), ([7], "owners")]
)
def test_operator_bad_owners_are_400(operator_client, owner, owners, field):
    ProjectFactory(project_id="p")

    response = operator_client.patch("/api/backend/projects/p", {"owners": owners}, format="json")

    assert response.status_code == 400
    assert any(key.startswith(field) for key in response.json()), response.json()


def test_operator_changes_every_project_field(operator_client, owner):
    ProviderFactory(provider_id="gh")
    project = ProjectFactory(project_id="p")

    response = operator_client.patch(
        "/api/backend/projects/p",
        {"name": "New", "description": "d", "owners": ["owner"], "repository": {"providerId": "gh", "path": "x/y"}},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["owners"] == ["owner"]
    project.refresh_from_db()
    assert (project.name, project.description, project.repository_path) == ("New", "d", "x/y")
    assert list(project.owners.all()) == [owner]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"providerId": "missing"}, "providerId"),
        ({"repository": {"providerId": "missing"}}, "repository.providerId"),
        ({"providerId": 5}, "providerId"),
        ({"repository": {"path": 5}}, "repository.path"),
        ({"repository": "gh"}, "repository"),
        ({"repository": {"host": "x"}}, "repository.host"),
        ({"provider": "gh"}, "provider"),
        ({"providerId": "gh", "repository": {"providerId": "gl"}}, "providerId"),
        ({"providerId": "g\x00h"}, "providerId"),
        ({"providerId": "x" * 500}, "providerId"),
        ({"repository": {"path": "a\x00b"}}, "repository.path"),
        ({"description": "a\x00b"}, "description"),
    ],
)
def test_project_bad_input_names_the_field(owner_client, owner, body, field):
    ProviderFactory(provider_id="gh")
    ProviderFactory(provider_id="gl", type="gitlab")
    ProjectFactory(project_id="mine", owners=[owner])

    response = owner_client.patch("/api/backend/projects/mine", body, format="json")

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert Project.objects.get(project_id="mine").provider is None


def test_project_cannot_link_an_identity_provider(owner_client, owner):
    ProviderFactory(provider_id="okta-corp", type="okta")
    ProjectFactory(project_id="mine", owners=[owner])

    response = owner_client.patch("/api/backend/projects/mine", {"providerId": "okta-corp"}, format="json")

    assert response.status_code == 400
    assert "repository.providerId" in response.json()
