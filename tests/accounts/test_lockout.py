import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import api_token_create
from tests.caches import clear_cache
from tests.factories import OperatorFactory


@pytest.fixture(autouse=True)
def empty_cache():
    clear_cache()
    yield
    clear_cache()


def test_anonymous_clients_are_throttled(client, settings, db):
    settings.API_THROTTLE_ANON = "3/min"

    statuses = [client.get("/api/idps").status_code for _ in range(4)]
    throttled = client.get("/api/idps")

    assert statuses == [200, 200, 200, 429]
    assert throttled.json()["detail"].startswith("Request was throttled")
    assert int(throttled["Retry-After"]) > 0


def test_signed_in_clients_are_throttled_per_user(operator_client, settings):
    settings.API_THROTTLE_USER = "2/min"

    statuses = [operator_client.get("/api/backend/providers").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_the_window_ends_and_retry_after_says_when(operator_client, settings):
    import time

    settings.API_THROTTLE_USER = "2/s"
    statuses = [operator_client.get("/api/backend/providers").status_code for _ in range(3)]
    throttled = operator_client.get("/api/backend/providers")

    assert statuses == [200, 200, 429]
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) == 1
    time.sleep(1.1)
    assert operator_client.get("/api/backend/providers").status_code == 200


def test_other_users_have_their_own_window(operator_client, settings):
    settings.API_THROTTLE_USER = "1/min"
    assert [operator_client.get("/api/backend/providers").status_code for _ in range(2)] == [200, 429]
    other = APIClient()
    other.force_authenticate(OperatorFactory())

    assert other.get("/api/backend/providers").status_code == 200


def test_an_address_sending_invalid_tokens_is_locked_out(settings, db):
    settings.API_TOKEN_FAILURE_LIMIT = 3
    _, valid = api_token_create(user=OperatorFactory(), name="ci")
    client = APIClient()

    bad = [client.get("/api/backend/providers", HTTP_AUTHORIZATION="Bearer prt_guess").status_code for _ in range(3)]
    locked = client.get("/api/backend/providers", HTTP_AUTHORIZATION=f"Bearer {valid}")
    other_address = client.get("/api/backend/providers", HTTP_AUTHORIZATION=f"Bearer {valid}", REMOTE_ADDR="10.1.2.3")

    assert bad == [401, 401, 401]
    assert locked.status_code == 429
    assert "invalid API tokens" in locked.json()["detail"]
    assert other_address.status_code == 200


def test_admin_sign_in_locks_out_after_repeated_failures(client, settings, db):
    OperatorFactory(username="ops", password="right-password-1")
    url = reverse("admin:login")

    failures = [client.post(url, {"username": "ops", "password": "wrong"}).status_code for _ in range(5)]
    locked = client.post(url, {"username": "ops", "password": "right-password-1"})

    assert failures == [200, 200, 200, 200, 429]
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_admin_sign_in_works_before_the_limit(client, db):
    OperatorFactory(username="ops", password="right-password-1")

    client.post(reverse("admin:login"), {"username": "ops", "password": "wrong"})
    response = client.post(reverse("admin:login"), {"username": "ops", "password": "right-password-1"})

    assert response.status_code == 302
    assert client.session["_auth_user_id"]
