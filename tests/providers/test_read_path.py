"""What makes reads fast must not change what they return: the row templates built once per
process, the filter backend passing unfiltered lists through, and prepared statements on
PostgreSQL (docs/benchmarks.md)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers import selectors
from providers.identity import selectors as identity_selectors
from providers.models import Project
from tests.factories import ProjectFactory, ProviderFactory

ROOT = Path(__file__).resolve().parent.parent.parent


def ids(response, key="results"):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()[key]]


def test_lists_and_reads_see_every_change_after_the_template_was_built(operator_client, owner_client, owner):
    first = ProviderFactory(provider_id="alpha", label="Alpha")
    assert ids(operator_client.get("/api/backend/providers")) == ["alpha"]

    ProviderFactory(provider_id="beta")
    first.label = "Renamed"
    first.save()
    assert ids(operator_client.get("/api/backend/providers")) == ["alpha", "beta"]
    assert operator_client.get("/api/backend/providers/alpha").json()["label"] == "Renamed"

    mine = ProjectFactory(project_id="mine", provider=first)
    mine.owners.add(owner)
    ProjectFactory(project_id="theirs")
    assert ids(owner_client.get("/api/backend/projects")) == ["mine"]
    assert ids(operator_client.get("/api/backend/projects")) == ["mine", "theirs"]
    # The owner scope is applied per request: the operator's list did not widen the owner's.
    assert ids(owner_client.get("/api/backend/projects")) == ["mine"]
    assert owner_client.get("/api/backend/projects/theirs").status_code == 404
    assert owner_client.get("/api/backend/projects/mine").json()["owners"] == ["owner"]

    Project.objects.get(project_id="theirs").owners.add(owner)
    assert ids(owner_client.get("/api/backend/projects")) == ["mine", "theirs"]
    # The templates themselves never hold rows: each read gets its own clone.
    assert selectors.provider_rows() is not selectors.provider_rows()
    for template in (
        selectors._provider_rows(),
        selectors._project_rows(),
        identity_selectors._identity_provider_list(),
    ):
        assert template._result_cache is None


def test_parameters_that_name_no_filter_filter_nothing(operator_client):
    ProviderFactory(provider_id="gh", type="github")
    ProviderFactory(provider_id="gl", type="gitlab")
    assert ids(operator_client.get("/api/backend/providers?page_size=10&unrelated=gitlab")) == ["gh", "gl"]
    assert ids(operator_client.get("/api/backend/providers?type=gitlab&unrelated=x")) == ["gl"]
    response = operator_client.get("/api/backend/providers?type=nope")
    assert response.status_code == 400
    assert "type" in response.json()


@pytest.mark.skipif(
    connection.vendor != "postgresql" or connection.settings_dict.get("OPTIONS", {}).get("prepare_threshold") is None,
    reason="prepared statements are PostgreSQL's, and DATABASE_PREPARE_THRESHOLD=off turns them off",
)
def test_a_repeated_read_is_prepared_and_answers_the_same(operator_client):
    ProviderFactory(provider_id="prepared", label="Prepared")
    bodies = [operator_client.get("/api/backend/providers/prepared").content for _ in range(8)]
    assert len(set(bodies)) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert any('"linked_projects"' in sql and '"providers_provider"' in sql for sql in statements), statements
    assert any('"accounts_apitoken"' in sql for sql in statements), statements


def database_options(threshold: str | None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": "postgres://root@127.0.0.1:5432/test",
    }
    env.pop("DATABASE_PREPARE_THRESHOLD", None)
    if threshold is not None:
        env["DATABASE_PREPARE_THRESHOLD"] = threshold
    code = "import django; django.setup(); from django.conf import settings; "
    code += "print(sorted(settings.DATABASES['default'].get('OPTIONS', {}).items()))"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.mark.parametrize(
    "threshold, options",
    [
        (None, "[('prepare_threshold', 5), ('server_side_binding', True)]"),
        ("2", "[('prepare_threshold', 2), ('server_side_binding', True)]"),
        ("off", "[]"),
    ],
)
def test_prepare_threshold_setting(threshold, options):
    result = database_options(threshold)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == options


def test_a_bad_prepare_threshold_stops_the_start_with_a_clear_message():
    result = database_options("sometimes")
    assert result.returncode != 0
    assert "DATABASE_PREPARE_THRESHOLD must be a whole number of executions or “off”, not “sometimes”." in result.stderr


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
def test_search_indexes_take_new_rows_at_once(db):
    """No GIN pending list: every search would read it first (docs/benchmarks.md)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN ('provider_search_trgm', 'project_search_trgm')"
        )
        options = dict(cursor.fetchall())
    assert options == {"provider_search_trgm": ["fastupdate=off"], "project_search_trgm": ["fastupdate=off"]}


def without_token(queries) -> list[str]:
    return [query["sql"] for query in queries if '"accounts_apitoken"' not in query["sql"]]


def test_identity_provider_reads_answer_as_the_generic_serializers_in_fewer_queries(operator_client, operator):
    """The detail reads only the columns it shows, through a serializer made once per process; the
    mapper list reads plain rows joined on the alias, with no lookup of the provider first."""
    from providers.api.identity.serializers import IdentityProviderSerializer, MapperSerializer
    from providers.identity import services as identity_services
    from providers.identity.services import MapperInput

    provider = identity_services.identity_provider_create(
        actor=operator,
        alias="corp",
        display_name="Corp",
        protocol="oidc",
        client_secret="s3cret",
        data={"issuer": "https://sso.corp.test", "client_id": "registry"},
        domains=["b.corp.test", "a.corp.test"],
    )
    for name in ("first", "second"):
        identity_services.mapper_create(
            provider=provider,
            actor=operator,
            mapper=MapperInput(name, "oidc-user-attribute-idp-mapper", {"claim": name, "user_attribute": name}),
        )
    operator_client.get("/api/identity-providers/corp")  # the token's first use is recorded once

    with CaptureQueriesContext(connection) as detail:
        response = operator_client.get("/api/identity-providers/corp")
    generic = IdentityProviderSerializer(identity_selectors.identity_provider_list().get(pk=provider.pk)).data
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(generic, cls=DjangoJSONEncoder))
    assert [domain["domain"] for domain in response.json()["domains"]] == ["a.corp.test", "b.corp.test"]
    assert len(without_token(detail.captured_queries)) == 2  # the provider row, its domains
    assert not any('"client_secret"' in sql for sql in without_token(detail.captured_queries))

    with CaptureQueriesContext(connection) as mappers:
        response = operator_client.get("/api/identity-providers/corp/mappers")
    generic = MapperSerializer(identity_selectors.identity_mappers(provider=provider), many=True).data
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(generic, cls=DjangoJSONEncoder))
    assert [mapper["name"] for mapper in response.json()] == ["first", "second"]
    assert len(without_token(mappers.captured_queries)) == 1  # was 2: the provider, then its mappers

    identity_services.identity_provider_create(
        actor=operator,
        alias="bare",
        display_name="Bare",
        protocol="oidc",
        client_secret=None,
        data={"issuer": "https://sso.bare.test"},
    )
    assert operator_client.get("/api/identity-providers/bare/mappers").json() == []
    ProviderFactory(provider_id="git-only")
    for alias in ("nobody", "git-only"):
        response = operator_client.get(f"/api/identity-providers/{alias}/mappers")
        assert response.status_code == 404
        assert response.json() == {"detail": "No Provider matches the given query."}
        assert operator_client.get(f"/api/identity-providers/{alias}").json() == response.json()
    for template in (identity_selectors._identity_provider_read(), identity_selectors._identity_mapper_rows()):
        assert template._result_cache is None
