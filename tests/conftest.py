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
