"""How test connection fails safely: rejected credentials and other statuses get safe
messages, redirects, private targets, oversized and slow answers are refused, and a provider echoing
the secret never gets it shown, stored or put in a message."""

import base64
import json
import threading
import time

import pytest
from django.urls import reverse
from werkzeug import Request, Response

from providers.models import AuditEvent, Provider
from providers.services import provider_test_connection
from tests.conftest import client_for
from tests.factories import ProviderFactory
from tests.providers.connection_helpers import (
    PASSWORD,
    PROVIDERS,
    PROVIDERS_CHANGELIST,
    TOKEN,
    answer_github_user,
    github,
)


def test_rejected_token_gives_the_safe_401_message(httpserver, operator_client):
    answer_github_user(httpserver)
    github(httpserver, credential__content={"accessToken": "ghp_revoked_token_value"})

    body = operator_client.post(f"{PROVIDERS}/gh/test").json()

    assert body == {
        "ok": False,
        "status": 401,
        "message": "The provider rejected the credentials (HTTP 401).",
        "identity": "",
        "testedAt": body["testedAt"],
    }
    assert "Bad credentials" not in body["message"]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (403, "Access is forbidden (HTTP 403): check the token's scopes."),
        (404, "The API endpoint was not found (HTTP 404): check the API base URL."),
        (502, "The provider answered HTTP 502."),
    ],
)
def test_other_statuses_have_safe_messages(httpserver, operator, status, message):
    httpserver.expect_request("/api/v3/user").respond_with_data(f"details quoting {TOKEN}", status=status)
    provider = github(httpserver)

    result = provider_test_connection(provider=provider, actor=operator)

    assert (result.ok, result.status, result.message) == (False, status, message)


def test_a_200_that_is_not_json_is_a_failure(httpserver, operator):
    httpserver.expect_request("/api/v3/user").respond_with_data("<html>welcome</html>", content_type="text/html")
    provider = github(httpserver)

    result = provider_test_connection(provider=provider, actor=operator)

    assert result.ok is False
    assert "not a JSON object" in result.message
    assert "welcome" not in result.message


def test_a_provider_echoing_the_token_never_gets_it_shown_or_stored(httpserver, operator, client):
    def echo(request: Request) -> Response:
        # A misbehaving provider (or proxy) quoting the request back in every field.
        sent = request.headers.get("Authorization", "")
        return Response(
            json.dumps({"login": f"user for {sent}", "message": f"bad token {sent}"}), content_type="application/json"
        )

    httpserver.expect_request("/api/v3/user").respond_with_handler(echo)
    httpserver.expect_request("/api/v3/user").respond_with_handler(echo)
    github(httpserver)
    operator_client = client_for(operator)

    response = operator_client.post(f"{PROVIDERS}/gh/test")
    client.force_login(operator)
    action = client.post(
        PROVIDERS_CHANGELIST,
        {
            "action": "test_connection",
            "confirmed": "yes",
            "_selected_action": [Provider.objects.get(provider_id="gh").pk],
            "index": 0,
        },
        follow=True,
    )
    provider = Provider.objects.get(provider_id="gh")
    change_page = client.get(reverse("admin:providers_provider_change", args=[provider.pk]))
    detail = operator_client.get(f"{PROVIDERS}/gh")

    assert response.json()["ok"] is True
    assert response.json()["identity"] == ""
    assert response.json()["message"] == "Connected."
    everything = [
        response.content.decode(),
        action.content.decode(),
        change_page.content.decode(),
        detail.content.decode(),
        provider.last_test_message,
        *AuditEvent.objects.values_list("detail", flat=True),
    ]
    assert all(TOKEN not in text for text in everything)
    assert "(gh): Connected.</li>" in action.content.decode()


def test_identity_is_truncated_to_100_characters(httpserver, operator):
    answer_github_user(httpserver, login="x" * 300)
    provider = github(httpserver)

    result = provider_test_connection(provider=provider, actor=operator)

    assert result.identity == "x" * 100


def test_a_redirect_is_refused_and_not_followed(httpserver, operator_client):
    httpserver.expect_request("/api/v3/user").respond_with_data(
        "", status=301, headers={"Location": httpserver.url_for("/elsewhere/user")}
    )
    httpserver.expect_request("/elsewhere/user").respond_with_json({"login": "attacker"})
    github(httpserver)

    body = operator_client.post(f"{PROVIDERS}/gh/test").json()

    assert (body["ok"], body["status"]) == (False, 301)
    assert "redirects are not followed" in body["message"]
    assert [request.path for request, _ in httpserver.log] == ["/api/v3/user"]


def test_a_private_target_is_refused_unless_allowed(httpserver, operator_client, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    answer_github_user(httpserver)
    github(httpserver)

    body = operator_client.post(f"{PROVIDERS}/gh/test").json()

    assert body["ok"] is False
    assert body["status"] is None
    assert body["message"] == (
        "127.0.0.1 is a private, loopback, link-local or reserved address; fetching it is not allowed."
    )
    assert httpserver.log == []


def test_an_oversized_answer_is_refused(httpserver, operator, settings):
    settings.OUTBOUND_MAX_BYTES = 1000
    answer_github_user(httpserver, login="y" * 2000)
    provider = github(httpserver)

    result = provider_test_connection(provider=provider, actor=operator)

    assert result.ok is False
    assert result.message == "The response from 127.0.0.1 is larger than 1000 bytes."


def test_a_slow_provider_times_out(httpserver, operator, settings):
    settings.OUTBOUND_TIMEOUT = 0.3
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(5)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/api/v3/user").respond_with_handler(slow)
    provider = github(httpserver)

    try:
        result = provider_test_connection(provider=provider, actor=operator)
    finally:
        release.set()
        # Let the single-threaded server finish this request before the next test clears it.
        deadline = time.monotonic() + 5
        while not httpserver.log and time.monotonic() < deadline:
            time.sleep(0.01)

    assert (result.ok, result.message) == (False, "Timed out waiting for 127.0.0.1.")


def test_a_credential_in_any_message_is_redacted(monkeypatch, operator):
    from providers import connection
    from providers.fetch import FetchError

    encoded = base64.b64encode(f"svc-ci:{PASSWORD}".encode()).decode()

    def failing_fetch(url, **kwargs):
        raise FetchError(f"upstream said {PASSWORD} / {encoded}")

    monkeypatch.setattr(connection, "fetch", failing_fetch)
    provider = ProviderFactory(
        type="bitbucket", credential__type="userPass", credential__content={"userName": "svc-ci", "password": PASSWORD}
    )

    result = provider_test_connection(provider=provider, actor=operator)

    assert result.message == "upstream said [redacted] / [redacted]"
    provider.refresh_from_db()
    assert PASSWORD not in provider.last_test_message
