import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Workspace
from providers.admin import paginator as admin_paginator
from providers.models import Project
from tests.factories import ProjectFactory

PROJECTS = reverse("admin:providers_project_changelist")


def count_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics are PostgreSQL's")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_unfiltered_changelist_of_a_big_table_counts_from_statistics(client, operator, monkeypatch):
    """The workspace scope is not a filter: the workspace's share comes from the statistics too."""
    monkeypatch.setattr(admin_paginator, "ESTIMATE_FROM", 3)
    acme = Workspace.objects.create(name="acme", display_name="ACME")
    for _ in range(5):
        ProjectFactory()
    for _ in range(3):
        ProjectFactory(workspace=acme)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Project._meta.db_table}")
    client.force_login(operator)

    with CaptureQueriesContext(connection) as ctx:
        page = client.get(PROJECTS)
    with CaptureQueriesContext(connection) as filtered_ctx:
        filtered = client.get(PROJECTS, {"q": "project"})

    assert page.status_code == filtered.status_code == 200
    assert count_queries(ctx.captured_queries) == []
    assert any("reltuples" in q["sql"] for q in ctx.captured_queries)
    assert "5 projects" in page.content.decode()  # the default workspace's, not the table's 8
    assert len(count_queries(filtered_ctx.captured_queries)) == 1  # a search is counted exactly


@pytest.mark.django_db
def test_small_tables_and_filtered_lists_are_counted_exactly(client, operator, owner):
    for n in range(3):
        ProjectFactory(owners=[owner] if n else [])
    client.force_login(operator)

    response = client.get(PROJECTS)

    assert "3 projects" in response.content.decode()
    client.force_login(owner)
    assert "2 projects" in client.get(PROJECTS).content.decode()
