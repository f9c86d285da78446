"""Every list endpoint runs a fixed number of queries whatever the page size, and never reads an
encrypted column: checked at 1, 20 and 100 rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers import audit
from providers.identity import services as identity_services
from providers.identity.services import MapperInput
from providers.models import Provider
from tests.factories import ProjectFactory, ProviderFactory

SIZES = (1, 20, 100)
SECRET_COLUMNS = ('"secret"', '"client_secret"')


def identity_provider(operator, n: int):
    return identity_services.identity_provider_create(
        actor=operator,
        alias=f"idp-{n:03d}",
        display_name=f"IdP {n}",
        protocol="oidc",
        client_secret=f"secret-{n}",
        data={"issuer": f"https://sso{n}.test", "client_id": f"client-{n}"},
        domains=[f"d{n}.test"],
    )


def grow_identity_providers(operator, have: int, want: int) -> None:
    for n in range(have, want):
        identity_provider(operator, n)


def grow_mappers(operator, have: int, want: int) -> None:
    provider = identity_provider(operator, 999) if have == 0 else Provider.objects.get(provider_id="idp-999")
    for n in range(have, want):
        identity_services.mapper_create(
            provider=provider,
            actor=operator,
            mapper=MapperInput(f"m{n}", "oidc-user-attribute-idp-mapper", {"claim": f"c{n}", "user_attribute": "a"}),
        )


def grow_audit_events(operator, have: int, want: int) -> None:
    for n in range(have, want):
        audit.record(action="create", actor=operator, object_type="provider", object_id=f"p{n}")


def grow_providers(operator, have: int, want: int) -> None:
    for _ in range(have, want):
        ProjectFactory(provider=ProviderFactory())


LISTS = {
    "canonical identity providers": ("/api/identity-providers?page_size=100", grow_identity_providers, "results"),
    "JSON:API identity providers": ("/api/identity_providers?page[size]=100", grow_identity_providers, "data"),
    "mappers": ("/api/identity-providers/idp-999/mappers", grow_mappers, None),
    "audit events": ("/api/backend/audit-events?page_size=100&action=create", grow_audit_events, "results"),
    "providers export": ("/api/backend/providers/export", grow_providers, "lines"),
}


def rows_in(response, key: str | None) -> int:
    if key == "lines":
        return b"".join(response.streaming_content).count(b"\n")
    body = response.json()
    return len(body if key is None else body[key])


@pytest.mark.parametrize("name", LISTS)
def test_list_query_count_is_flat(operator_client, operator, name):
    path, grow, key = LISTS[name]
    counts = {}
    have = 0
    for size in SIZES:
        grow(operator, have, size)
        have = size
        with CaptureQueriesContext(connection) as ctx:
            response = operator_client.get(path)
            rows = rows_in(response, key)
        queries = list(ctx.captured_queries)
        assert response.status_code == 200
        assert rows == size, (name, rows)
        counts[size] = len(queries)
        assert not any(column in query["sql"] for query in queries for column in SECRET_COLUMNS), name

    assert counts[1] == counts[20] == counts[100], (name, counts)
