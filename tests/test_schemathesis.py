"""Property-based tests of the whole API against its own OpenAPI schema (schemathesis)."""

import socket
import uuid

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from accounts.services import api_token_create
from providers import services
from providers.models import AuditEvent
from tests.factories import IdentityProviderFactory, OperatorFactory, ProjectFactory

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20_260_101,
        "generation": {"max-examples": 25, "deterministic": True, "database": "none"},
        "phases": {"stateful": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=CONFIG)

OIDC_ID = uuid.UUID("5eed0000-0000-4000-8000-000000000001")
OAUTH2_ID = uuid.UUID("5eed0000-0000-4000-8000-000000000002")
KNOWN: dict[str, list[str]] = {}


@schema.hook("flatmap_path_parameters")
def seeded_path_parameters(context, path_parameters):
    """Half the generated requests aim at rows that exist, so detail endpoints get past their 404."""
    known = [name for name in path_parameters or {} if KNOWN.get(name)]
    if not known:
        return st.just(path_parameters)
    seeded = st.fixed_dictionaries({name: st.sampled_from(KNOWN[name]) for name in known})
    return st.one_of(st.just(path_parameters), seeded.map(lambda values: {**path_parameters, **values}))


@pytest.fixture
def no_network(monkeypatch, settings):
    def refuse(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "network disabled in tests")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    settings.IDP_DNS_NAMESERVERS = ["127.0.0.1:9"]
    settings.IDP_DNS_TIMEOUT = 0.2


@pytest.fixture
def keep_test_connection():
    """The app is called as WSGI, so Django's request signals would close the connection holding
    the test's transaction (as the test client does, keep it open)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_headers(db, no_network, keep_test_connection):
    operator = OperatorFactory(username="fuzz-operator")
    provider = services.provider_create(
        actor=operator,
        provider_id="seed-github",
        label="Seed GitHub",
        type="github",
        credentials=services.CredentialInput(type="token", content={"accessToken": "seed-token-1"}),
    )
    services.provider_update(
        provider=provider,
        actor=operator,
        data={"label": "Seed GitHub (rotated)"},
        credentials=services.CredentialInput(type="token", content={"accessToken": "seed-token-2"}),
    )
    services.provider_create(
        actor=operator,
        provider_id="seed-gitlab",
        label="Seed GitLab",
        type="gitlab",
        credentials=services.CredentialInput(type="userPass", content={"userName": "ci", "password": "pw"}),
    )
    ProjectFactory(project_id="seed-project", provider=provider, owners=[operator])
    # Written as the services would: by the operator (a provider whose creator was deleted reads
    # `createdBy: null`, which the schema does not allow yet).
    by_operator = {"provider__created_by": operator, "provider__updated_by": operator}
    oidc = IdentityProviderFactory(
        **by_operator,
        alias="seed-oidc",
        display_name="Seed OIDC",
        internal_id=OIDC_ID,
        client_secret="seed-client-secret",
        base="https://sso.example.test/realms/main",
        domains=["example.test"],
        mappers=[{"name": "email"}],
    ).provider
    IdentityProviderFactory(
        **by_operator,
        alias="seed-oauth2",
        display_name="Seed OAuth2",
        internal_id=OAUTH2_ID,
        protocol="oauth2",
        client_secret="seed-oauth2-secret",
        issuer="",
        base="https://oauth.example.test",
    )
    KNOWN.clear()
    KNOWN.update(
        {
            "providerId": ["seed-github", "seed-gitlab", "seed-oidc"],
            "projectId": ["seed-project"],
            "alias": ["seed-oidc", "seed-oauth2"],
            "workspaceName": ["default"],
            "username": ["operator"],
            "mapper_id": [str(pk) for pk in oidc.identity.mappers.values_list("pk", flat=True)],
            "resource_id": [str(OIDC_ID), str(OAUTH2_ID)],
            "idp_id": [str(OIDC_ID), str(OAUTH2_ID)],
            "id": [str(pk) for pk in AuditEvent.objects.values_list("pk", flat=True)[:3]],
        }
    )
    _, raw = api_token_create(user=operator, name="schemathesis")
    yield {"Authorization": f"Bearer {raw}"}
    KNOWN.clear()


@pytest.mark.django_db
@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_conforms_to_its_schema(case, api_headers):
    case.call_and_validate(
        headers=api_headers,
        checks=[not_a_server_error, response_schema_conformance, status_code_conformance],
    )


def _operations_with_bodies():
    for result in schema.get_all_operations():
        operation = result.ok()
        media_types = [body.media_type for body in operation.body]
        if media_types:
            yield pytest.param(operation, media_types[0], id=f"{operation.method.upper()} {operation.path}")


HOSTILE_BODIES = {
    "NUL in a key": b'{"a\\u0000": "b"}',
    "deeply nested": b'{"data": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    "nested past the limit": b'{"metadata": ' + b'{"a": ' * 890 + b"1" + b"}" * 891,
    "huge": b'{"description": "' + b"x" * 3_000_000 + b'"}',
    "not JSON": b"\xff\xfe{",
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", HOSTILE_BODIES)
@pytest.mark.parametrize("operation,media_type", list(_operations_with_bodies()))
def test_hostile_bodies_get_a_documented_4xx(operation, media_type, kind, api_headers):
    """What fuzzing rarely reaches: each body-taking operation refuses these with a 4xx in its schema."""
    path_parameters = {name: values[0] for name, values in KNOWN.items() if f"{{{name}}}" in operation.path}
    case = operation.Case(
        path_parameters=path_parameters,
        headers=api_headers,
        body=HOSTILE_BODIES[kind],
        media_type="application/octet-stream",
    )
    case.headers["Content-Type"] = media_type

    response = case.call_and_validate(checks=[not_a_server_error, response_schema_conformance, status_code_conformance])

    assert response.status_code == (413 if kind == "huge" else 400), response.text[:300]
