"""Every list endpoint runs a fixed number of queries whatever the page size, and never reads an
encrypted column: checked at 1, 20 and 100 rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers import audit
from providers.models import IdentityProvider
from tests.factories import IdentityProviderFactory, IdentityProviderMapperFactory, ProjectFactory, ProviderFactory

SIZES = (1, 20, 100)
# The credentials' secret and every encrypted column of identity providers (the client secret, the
# SAML SP keys: current, next and previous).
SECRET_COLUMNS = ('"secret"', *(f'"{name}"' for name in IdentityProvider.SECRET_COLUMNS))


def grow_identity_providers(operator, have: int, want: int) -> None:
    for n in range(have, want):
        IdentityProviderFactory(alias=f"idp-{n:03d}", domains=[f"d{n}.test"])


def grow_mappers(operator, have: int, want: int) -> None:
    identity = IdentityProviderFactory(alias="idp-999") if have == 0 else IdentityProvider.objects.get()
    for n in range(have, want):
        IdentityProviderMapperFactory(identity=identity, name=f"m{n}", config={"claim": f"c{n}", "user_attribute": "a"})


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
