"""A search is planned for its own term (providers.middleware.SearchPlansMiddleware): on
PostgreSQL its statements are never prepared, so PostgreSQL never swaps in a generic plan that
ignores the term; every other request keeps prepared statements."""

import pytest
from django.db import connection

from tests.conftest import client_for
from tests.factories import ProviderFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"),
]


def prepared(fragment: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{fragment}%"])
        return cursor.fetchone()[0]


def test_a_searched_list_prepares_nothing_and_a_plain_one_still_does(operator):
    ProviderFactory(provider_id="github-main", label="GitHub")
    client = client_for(operator)
    assert connection.connection.prepare_threshold is not None  # the settings prepare

    for _ in range(8):
        response = client.get("/api/backend/providers?search=git")
        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == ["github-main"]
    assert prepared("LIKE UPPER") == 0
    assert connection.connection.prepare_threshold is not None  # restored after the request

    for _ in range(8):
        assert client.get("/api/backend/providers").status_code == 200
    assert prepared('"providers_provider"') > 0


def test_the_admins_search_prepares_nothing(client, operator):
    ProviderFactory(provider_id="github-main", label="GitHub")
    client.force_login(operator)
    for _ in range(8):
        response = client.get("/admin/providers/provider/", {"q": "github"})
        assert response.status_code == 200
        assert "github-main" in response.content.decode()
    assert prepared("LIKE UPPER") == 0
