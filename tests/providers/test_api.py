import json

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.api.backend.serializers import REFERENCE_PROVIDER_EXAMPLE
from providers.models import Credential, Project, Provider
from providers.services import credential_content
from tests.bodies import git_provider_body
from tests.conftest import client_for
from tests.factories import ProjectFactory, ProviderFactory

PROVIDERS = "/api/backend/providers"

# The reference document's example request (providers-api-git-providers.txt), with its braces
# restored: the portal's first example.
REFERENCE_CREATE = REFERENCE_PROVIDER_EXAMPLE.value
# "identical to the previous one, except that here you have to insert the providerId in the endpoint"
REFERENCE_EDIT = {key: value for key, value in REFERENCE_CREATE.items() if key != "id"}


def provider_body(**overrides) -> dict:
    gitlab = "https://gitlab.acme.test"
    body = git_provider_body(
        "acme-gitlab",
        label="ACME GitLab",
        type="gitlab",
        urls={"base": gitlab, "apiBase": f"{gitlab}/api/v4"},
        credentials={"type": "userPass", "content": {"userName": "svc", "password": "pw-123"}},
    )
    return {**body, **overrides}


def test_reference_create_example_is_accepted_verbatim(operator_client, operator):
    response = operator_client.post(PROVIDERS, REFERENCE_CREATE, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == "my-github-provider"
    assert body["label"] == "Mia-Platform GitHub"
    assert body["type"] == "github"
    assert body["capability"] == "git"
    assert body["urls"] == {"base": "https://github.com", "apiBase": "https://api.github.com"}
    assert body["enabled"] is True
    assert body["credentials"]["type"] == "token"
    assert body["credentials"]["set"] is True
    assert body["credentials"]["fingerprint"].startswith("hmac-sha256:")
    assert body["createdBy"] == "operator"
    assert response["Location"].endswith("/api/backend/providers/my-github-provider")
    assert "my-super-super-super-secret-token" not in response.content.decode()
    provider = Provider.objects.get(provider_id="my-github-provider")
    assert credential_content(provider=provider) == {"accessToken": "my-super-super-super-secret-token"}
    assert provider.created_by == operator


def test_reference_edit_example_is_accepted_verbatim(operator_client):
    operator_client.post(PROVIDERS, REFERENCE_CREATE, format="json")

    verbatim = operator_client.patch(f"{PROVIDERS}/my-github-provider", REFERENCE_EDIT, format="json")

    assert verbatim.status_code == 200, verbatim.content
    assert verbatim.json()["id"] == "my-github-provider"
    assert verbatim.json()["label"] == "Mia-Platform GitHub"
    assert verbatim.json()["credentials"]["type"] == "token"
    assert "my-super-super-super-secret-token" not in verbatim.content.decode()
    edit = json.loads(json.dumps(REFERENCE_EDIT))
    edit["label"] = "GitHub (edited)"
    edit["credentials"]["content"]["accessToken"] = "rotated-token"

    response = operator_client.patch(f"{PROVIDERS}/my-github-provider", edit, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["label"] == "GitHub (edited)"
    provider = Provider.objects.get(provider_id="my-github-provider")
    assert credential_content(provider=provider) == {"accessToken": "rotated-token"}


def test_paths_work_with_and_without_trailing_slash(operator_client):
    assert operator_client.post(f"{PROVIDERS}/", provider_body(), format="json").status_code == 201
    assert operator_client.get(f"{PROVIDERS}/acme-gitlab/").status_code == 200
    assert operator_client.get(f"{PROVIDERS}/acme-gitlab").status_code == 200


def test_base_url_accepts_base_spelling_and_keeps_given_urls(operator_client):
    response = operator_client.post(PROVIDERS, provider_body(), format="json")

    assert response.status_code == 201
    assert response.json()["urls"] == {"base": "https://gitlab.acme.test", "apiBase": "https://gitlab.acme.test/api/v4"}


def test_patch_without_credentials_keeps_them(operator_client):
    operator_client.post(PROVIDERS, provider_body(), format="json")
    before = Credential.objects.get(provider__provider_id="acme-gitlab")

    response = operator_client.patch(f"{PROVIDERS}/acme-gitlab", {"label": "Renamed"}, format="json")

    assert response.status_code == 200
    after = Credential.objects.get(provider__provider_id="acme-gitlab")
    assert after.fingerprint == before.fingerprint
    assert json.loads(after.secret) == {"userName": "svc", "password": "pw-123"}
    assert response.json()["credentials"]["fingerprint"] == before.fingerprint


def test_patch_with_credentials_replaces_them(operator_client):
    operator_client.post(PROVIDERS, provider_body(), format="json")
    before = Credential.objects.get(provider__provider_id="acme-gitlab").fingerprint

    response = operator_client.patch(
        f"{PROVIDERS}/acme-gitlab",
        {"credentials": {"type": "token", "content": {"accessToken": "glpat-new"}}},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["credentials"]["type"] == "token"
    assert response.json()["credentials"]["fingerprint"] != before
    provider = Provider.objects.get(provider_id="acme-gitlab")
    assert credential_content(provider=provider) == {"accessToken": "glpat-new"}
    assert Credential.objects.filter(provider=provider).count() == 1


def test_changing_urls_requires_the_credentials_again(operator_client):
    operator_client.post(PROVIDERS, provider_body(), format="json")
    moved = {"urls": {"base": "https://evil.example", "apiBase": "https://evil.example/api"}}

    refused = operator_client.patch(f"{PROVIDERS}/acme-gitlab", moved, format="json")

    assert refused.status_code == 400
    assert list(refused.json()) == ["credentials"]
    assert Provider.objects.get(provider_id="acme-gitlab").base_url == "https://gitlab.acme.test"

    moved["credentials"] = {"type": "token", "content": {"accessToken": "for-the-new-host"}}
    accepted = operator_client.patch(f"{PROVIDERS}/acme-gitlab", moved, format="json")
    assert accepted.status_code == 200
    assert accepted.json()["urls"]["base"] == "https://evil.example"


def test_provider_id_cannot_change(operator_client):
    operator_client.post(PROVIDERS, provider_body(), format="json")

    response = operator_client.patch(f"{PROVIDERS}/acme-gitlab", {"id": "other-id"}, format="json")

    assert response.status_code == 400
    assert "id" in response.json()
    assert Provider.objects.filter(provider_id="acme-gitlab").exists()
    assert not Provider.objects.filter(provider_id="other-id").exists()


def test_patch_sending_the_same_id_is_accepted(operator_client):
    operator_client.post(PROVIDERS, provider_body(), format="json")

    response = operator_client.patch(f"{PROVIDERS}/acme-gitlab", {"id": "acme-gitlab", "enabled": False}, format="json")

    assert response.status_code == 200
    assert response.json()["enabled"] is False


def test_put_is_not_offered(operator_client):
    ProviderFactory(provider_id="gh")

    assert operator_client.put(f"{PROVIDERS}/gh", provider_body(id="gh"), format="json").status_code == 405


def test_duplicate_id_is_a_conflict(operator_client):
    assert operator_client.post(PROVIDERS, provider_body(), format="json").status_code == 201

    response = operator_client.post(PROVIDERS, provider_body(label="Second"), format="json")

    assert response.status_code == 409
    assert "id" in response.json()
    assert Provider.objects.get(provider_id="acme-gitlab").label == "ACME GitLab"


def test_unknown_provider_is_404(operator_client):
    assert operator_client.get(f"{PROVIDERS}/nope").status_code == 404
    assert operator_client.patch(f"{PROVIDERS}/nope", {"label": "x"}, format="json").status_code == 404
    assert operator_client.delete(f"{PROVIDERS}/nope").status_code == 404


def test_delete_removes_provider_and_credentials(operator_client):
    provider = ProviderFactory(provider_id="gh")

    response = operator_client.delete(f"{PROVIDERS}/gh")

    assert response.status_code == 204
    assert not Provider.objects.filter(pk=provider.pk).exists()
    assert not Credential.objects.filter(provider_id=provider.pk).exists()


def test_delete_of_a_linked_provider_is_refused_listing_projects(operator_client):
    provider = ProviderFactory(provider_id="gh")
    ProjectFactory(project_id="payments", provider=provider)
    ProjectFactory(project_id="web", provider=provider)

    response = operator_client.delete(f"{PROVIDERS}/gh")

    assert response.status_code == 409
    assert response.json()["projects"] == ["payments", "web"]
    assert "2 project" in response.json()["detail"]
    assert Provider.objects.filter(pk=provider.pk).exists()
    assert Credential.objects.filter(provider=provider).exists()


def test_list_reads_show_metadata_and_linked_projects(operator_client):
    provider = ProviderFactory(provider_id="gh", label="GitHub")
    ProjectFactory(provider=provider)
    ProviderFactory(provider_id="bare", credential=False)

    response = operator_client.get(PROVIDERS)

    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert rows["gh"]["linkedProjects"] == 1
    assert rows["gh"]["credentials"]["set"] is True
    assert set(rows["gh"]["credentials"]) == {"type", "set", "fingerprint", "updatedAt", "expiresAt"}
    assert rows["bare"]["credentials"] is None
    assert rows["bare"]["linkedProjects"] == 0


def test_list_filters_and_search(operator_client):
    ProviderFactory(provider_id="gh", label="Company GitHub", type="github")
    ProviderFactory(provider_id="gl", label="Self-hosted GitLab", type="gitlab", enabled=False)
    ProviderFactory(provider_id="okta-corp", label="Okta", type="okta")

    def ids(query: str) -> list[str]:
        response = operator_client.get(f"{PROVIDERS}?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("type=gitlab") == ["gl"]
    assert ids("capability=git") == ["gh", "gl"]
    assert ids("capability=identity") == ["okta-corp"]
    assert ids("enabled=false") == ["gl"]
    assert ids("enabled=true") == ["gh", "okta-corp"]
    assert ids("search=gitlab") == ["gl"]
    assert ids("search=OKTA") == ["okta-corp"]
    assert ids("search=gh") == ["gh"]


@pytest.mark.parametrize(
    "query,field",
    [
        ("type=svn", "type"),
        ("capability=storage", "capability"),
        ("enabled=maybe", "enabled"),
        ("search=a%00b", "search"),
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(operator_client, query, field):
    response = operator_client.get(f"{PROVIDERS}?{query}")

    assert response.status_code == 400
    assert field in response.json()


def test_list_is_cursor_paginated(operator_client):
    for n in range(7):
        ProviderFactory(provider_id=f"p{n}")

    first = operator_client.get(f"{PROVIDERS}?page_size=3").json()
    second = operator_client.get(first["next"]).json()
    third = operator_client.get(second["next"]).json()

    assert [row["id"] for row in first["results"]] == ["p0", "p1", "p2"]
    assert [row["id"] for row in second["results"]] == ["p3", "p4", "p5"]
    assert [row["id"] for row in third["results"]] == ["p6"]
    assert third["next"] is None
    assert "count" not in first


def test_providers_list_query_count_does_not_grow_with_rows(operator_client):
    counts = {}
    created = 0
    for size in (1, 20, 100):
        for _ in range(size - created):
            provider = ProviderFactory()
            ProjectFactory(provider=provider)
        created = size
        operator_client.get(f"{PROVIDERS}?page_size=100")  # warm caches (content types, permissions)
        with CaptureQueriesContext(connection) as ctx:
            response = operator_client.get(f"{PROVIDERS}?page_size=100")
        assert response.status_code == 200
        assert len(response.json()["results"]) == size
        counts[size] = len(ctx.captured_queries)
        assert not any("secret" in query["sql"] for query in ctx.captured_queries)

    assert counts[1] == counts[20] == counts[100], counts


def test_provider_detail_query_count_is_fixed_and_never_reads_the_secret(operator_client):
    provider = ProviderFactory(provider_id="gh")
    ProjectFactory(provider=provider)

    with CaptureQueriesContext(connection) as ctx:
        response = operator_client.get(f"{PROVIDERS}/gh")

    assert response.status_code == 200
    assert len(ctx.captured_queries) <= 5
    assert not any("secret" in query["sql"] for query in ctx.captured_queries)


def test_changes_leave_history_entries_naming_fields(operator_client, operator):
    operator_client.post(PROVIDERS, provider_body(), format="json")
    operator_client.patch(
        f"{PROVIDERS}/acme-gitlab",
        {"label": "New", "credentials": {"type": "token", "content": {"accessToken": "t-1"}}},
        format="json",
    )
    provider = Provider.objects.get(provider_id="acme-gitlab")

    entries = list(LogEntry.objects.filter(object_id=str(provider.pk)).order_by("id"))

    assert [entry.action_flag for entry in entries] == [1, 2]
    assert all(entry.user == operator for entry in entries)
    assert entries[1].get_change_message() == "Changed label and credentials."
    assert "t-1" not in entries[1].change_message


def test_noop_patch_writes_no_history(operator_client):
    operator_client.post(PROVIDERS, provider_body(), format="json")
    before = LogEntry.objects.count()

    operator_client.patch(f"{PROVIDERS}/acme-gitlab", {"label": "ACME GitLab"}, format="json")

    assert LogEntry.objects.count() == before


def test_provider_delete_leaves_history_entry(operator_client, operator):
    provider = ProviderFactory(provider_id="gh")

    operator_client.delete(f"{PROVIDERS}/gh")

    entry = LogEntry.objects.get(object_id=str(provider.pk))
    assert entry.is_deletion()
    assert entry.user == operator


def test_openapi_schema_describes_every_endpoint_and_error():
    from rest_framework.test import APIClient

    response = APIClient().get("/api/schema/?format=json")

    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    assert set(paths["/api/backend/providers"]) >= {"get", "post"}
    assert set(paths["/api/backend/providers/{providerId}"]) >= {"get", "patch", "delete"}
    assert set(paths["/api/backend/projects/{projectId}"]) >= {"get", "patch"}
    create = paths["/api/backend/providers"]["post"]
    assert {"201", "400", "401", "403", "409"} <= set(create["responses"])
    assert set(paths["/api/backend/providers/{providerId}"]["delete"]["responses"]) >= {"204", "404", "409"}
    examples = create["requestBody"]["content"]["application/json"]["examples"]
    assert any(example["value"] == REFERENCE_CREATE for example in examples.values())
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_swagger_ui_is_served_offline(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn." not in html and "unpkg" not in html


def test_credentials_row_is_encrypted(operator_client):
    operator_client.post(PROVIDERS, REFERENCE_CREATE, format="json")

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM providers_credential")
        (raw,) = cursor.fetchone()

    assert b"my-super-super-super-secret-token" not in bytes(raw)
    assert bytes(raw).startswith(b"gAAAAA")


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


def test_session_auth_requires_csrf(client, operator):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(operator)

    refused = csrf_client.post(PROVIDERS, json.dumps(provider_body()), content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]

    csrf_client.get("/admin/")
    token = csrf_client.cookies["csrftoken"].value
    accepted = csrf_client.post(
        PROVIDERS, json.dumps(provider_body()), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 201


def test_superuser_has_full_access(superuser):
    client = client_for(superuser)

    assert client.post(PROVIDERS, provider_body(), format="json").status_code == 201
    assert client.get(PROVIDERS).status_code == 200


def test_changing_the_type_requires_credentials_again(operator_client):
    ProviderFactory(provider_id="gh", type="github", credential__content={"accessToken": "old"})

    refused = operator_client.patch(f"{PROVIDERS}/gh", {"type": "gitlab"}, format="json")

    assert refused.status_code == 400
    assert "credentials" in refused.json()
    assert Provider.objects.get(provider_id="gh").type == "github"
    accepted = operator_client.patch(
        f"{PROVIDERS}/gh",
        {"type": "gitlab", "credentials": {"type": "token", "content": {"accessToken": "glpat"}}},
        format="json",
    )
    assert accepted.status_code == 200
    assert accepted.json()["type"] == "gitlab"


def test_a_provider_used_by_projects_stays_a_git_provider(operator_client):
    provider = ProviderFactory(provider_id="gh", type="github")
    ProjectFactory(project_id="payments", provider=provider)

    response = operator_client.patch(
        f"{PROVIDERS}/gh",
        {"type": "okta", "credentials": {"type": "token", "content": {"accessToken": "t"}}},
        format="json",
    )

    assert response.status_code == 400
    assert "type" in response.json()
    assert Provider.objects.get(provider_id="gh").type == "github"


def test_export_streams_every_provider_without_secrets_and_is_audited(operator_client, owner_client):
    import json as jsonlib

    from providers.models import AuditEvent

    for n in range(3):
        ProviderFactory(provider_id=f"p{n}", credential__content={"accessToken": f"export-canary-{n}"})

    response = operator_client.get(f"{PROVIDERS}/export")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    body = b"".join(response.streaming_content).decode()
    rows = [jsonlib.loads(line) for line in body.splitlines()]
    assert [row["id"] for row in rows] == ["p0", "p1", "p2"]
    assert all(row["credentials"]["set"] for row in rows)
    assert "export-canary" not in body
    assert AuditEvent.objects.filter(action="export", actor_name="operator").count() == 1
    assert owner_client.get(f"{PROVIDERS}/export").status_code == 403
