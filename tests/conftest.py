import pytest
from rest_framework.test import APIClient

from accounts.roles import IDENTITY_VIEWERS
from accounts.services import api_token_create

from .factories import OperatorFactory, ProjectOwnerFactory, UserFactory

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
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.example.test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()
