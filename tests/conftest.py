import socket

import pytest
from rest_framework.test import APIClient

from accounts.roles import IDENTITY_VIEWERS
from accounts.scoping import every_workspace
from accounts.services import api_token_create

from .caches import clear_cache
from .certificates import pem, self_signed
from .factories import OperatorFactory, ProjectOwnerFactory, UserFactory
from .fakes.dns_server import FakeDnsServer
from .idp.github import github_provider  # noqa: F401  (fixture)
from .idp.oidc_provider import fresh_oidc_provider, oidc_provider  # noqa: F401  (fixtures)
from .idp.saml_provider import fresh_saml_provider, saml_provider  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _cache_starts_empty():
    """Throttle windows, lockout counters and the cached login list of one test never leak into the
    next (the cache is the process's locmem, or with CACHE_URL=redis://… this process's keys)."""
    clear_cache()


@pytest.fixture(autouse=True)
def _test_code_spans_workspaces():
    """A test's own queries (arranging rows, reading what a request wrote) see every workspace;
    requests it makes are guarded and scoped as in production (`accounts.scoping`)."""
    with every_workspace():
        yield


# The roles the permission tests compare: what each is, built the same way wherever a test needs one.
ROLES = {
    "anonymous": lambda: None,
    "plain": lambda: UserFactory(username="plain"),  # staff, in no group
    "owner": lambda: ProjectOwnerFactory(username="owner"),
    "viewer": lambda: UserFactory(username="viewer", groups=[IDENTITY_VIEWERS]),
    "operator": lambda: OperatorFactory(username="operator"),
    "superuser": lambda: UserFactory(username="root", is_superuser=True),
}


@pytest.fixture
def role_user(db):
    """`role_user("operator")`: a new user in that role (one of `ROLES`); None for "anonymous"."""
    return lambda role: ROLES[role]()


def role_fixture(role: str):
    """A fixture giving a user in `role`: `operator`, `owner`, `plain_user`, `superuser` below."""

    @pytest.fixture
    def user(role_user):
        return role_user(role)

    return user


operator = role_fixture("operator")
owner = role_fixture("owner")
plain_user = role_fixture("plain")
superuser = role_fixture("superuser")


@pytest.fixture
def other_owner(db):
    return ProjectOwnerFactory(username="other-owner")


def client_for(user) -> APIClient:
    """An API client authenticating the way REST clients do: with a bearer token."""
    client = APIClient()
    if user is not None:
        _, raw = api_token_create(user=user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def role_client(role_user):
    """`role_client("viewer")`: an API client authenticated as a new user in that role (anonymous: none)."""
    return lambda role: client_for(role_user(role))


@pytest.fixture
def operator_client(operator):
    return client_for(operator)


@pytest.fixture
def owner_client(owner):
    return client_for(owner)


@pytest.fixture(scope="session")
def certificate_pem() -> str:
    """A real self-signed X.509 certificate (RSA 2048, valid 30 days), generated for the tests."""
    return pem(self_signed("idp.example.test", days=30)[0])


@pytest.fixture
def connect_attempts(monkeypatch):
    """Records every outgoing socket connect made while the test runs."""
    attempts = []
    real_connect = socket.socket.connect

    def recording_connect(sock, address):
        attempts.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    return attempts


@pytest.fixture
def fake_dns(settings):
    """A fake DNS server on 127.0.0.1 that domain-verification lookups are pointed at."""
    with FakeDnsServer() as server:
        settings.IDP_DNS_NAMESERVERS = [server.address]
        settings.IDP_DNS_TIMEOUT = 1.0
        yield server


@pytest.fixture(scope="session")
def httpserver_listen_address():
    # The IPv4 loopback the test settings allow, whatever "localhost" resolves to on this host.
    return ("127.0.0.1", 0)
