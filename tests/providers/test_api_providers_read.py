"""Reading git providers through `/api/backend/providers`: 404s, metadata and linked projects
in the list, filters and search, cursor pages, query counts that do not grow, and the NDJSON export
without secrets."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ProjectFactory, ProviderFactory
from tests.providers.api_helpers import PROVIDERS


def test_unknown_provider_is_404(operator_client):
    assert operator_client.get(f"{PROVIDERS}/nope").status_code == 404
    assert operator_client.patch(f"{PROVIDERS}/nope", {"label": "x"}, format="json").status_code == 404
    assert operator_client.delete(f"{PROVIDERS}/nope").status_code == 404


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
