import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_create

from .factories import OperatorFactory, ProjectOwnerFactory, UserFactory


@pytest.fixture
def operator(db):
    return OperatorFactory(username="operator")


@pytest.fixture
def owner(db):
    return ProjectOwnerFactory(username="owner")


@pytest.fixture
def other_owner(db):
    return ProjectOwnerFactory(username="other-owner")


@pytest.fixture
def plain_user(db):
    return UserFactory(username="plain")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)


def client_for(user) -> APIClient:
    """An API client authenticating the way REST clients do: with a bearer token."""
    client = APIClient()
    if user is not None:
        _, raw = api_token_create(user=user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


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
