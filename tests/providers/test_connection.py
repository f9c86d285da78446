"""Test connection (`POST /api/backend/providers/{providerId}/test` and the admin action) against
local servers that answer like GitHub, GitLab, Bitbucket, Azure DevOps and an OIDC issuer."""

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
from tests.factories import IdentityProviderFactory, ProviderFactory

from .oidc_documents import keycloak_discovery_document

PROVIDERS = "/api/backend/providers"
PROVIDERS_CHANGELIST = reverse("admin:providers_provider_changelist")
TOKEN = "ghp_connection_test_secret_0123456789"
PASSWORD = "app-password-s3cr3t-value"


@pytest.fixture(scope="session")
def httpserver_listen_address():
    # The IPv4 loopback the test settings allow, whatever "localhost" resolves to on this host.
    return ("127.0.0.1", 0)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def github(httpserver, **kwargs) -> Provider:
    defaults = {
        "provider_id": "gh",
        "type": "github",
        "base_url": "https://github.com",
        "api_base_url": httpserver.url_for("/api/v3"),
        "credential__content": {"accessToken": TOKEN},
    }
    return ProviderFactory(**{**defaults, **kwargs})


def answer_github_user(httpserver, login: str = "octocat") -> None:
    """GitHub's GET /user: the user for a valid token, 401 with its JSON error otherwise."""

    def handler(request: Request) -> Response:
        if request.headers.get("Authorization") not in (f"Bearer {TOKEN}", basic("svc-ci", PASSWORD)):
            return Response(
                json.dumps({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}),
                status=401,
                content_type="application/json",
            )
        return Response(
            json.dumps({"login": login, "id": 583231, "type": "User", "name": "The Octocat"}),
            content_type="application/json; charset=utf-8",
        )

    httpserver.expect_request("/api/v3/user", method="GET").respond_with_handler(handler)


def test_github_token_ok_sends_bearer_token_and_reports_the_login(httpserver, operator_client):
    answer_github_user(httpserver)
    github(httpserver)

    response = operator_client.post(f"{PROVIDERS}/gh/test")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is True
    assert body["status"] == 200
    assert body["identity"] == "octocat"
    assert body["message"] == "Connected as octocat."
    assert body["testedAt"]
    assert set(body) == {"ok", "status", "message", "identity", "testedAt"}
    [(request, _)] = httpserver.log
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert TOKEN not in response.content.decode()


def test_github_user_and_password_use_basic_auth(httpserver, operator):
    answer_github_user(httpserver)
    provider = github(
        httpserver, credential__type="userPass", credential__content={"userName": "svc-ci", "password": PASSWORD}
    )

    result = provider_test_connection(provider=provider, actor=operator)

    assert result.ok is True
    assert result.identity == "octocat"
    [(request, _)] = httpserver.log
    assert request.headers["Authorization"] == basic("svc-ci", PASSWORD)


def served_by(httpserver, provider_id: str, type: str, base: str, api_base: str, *, token: str):
    """A provider whose web and API addresses are paths of the fake server, with a token."""
    return ProviderFactory(
        provider_id=provider_id,
        type=type,
        base_url=httpserver.url_for(base),
        api_base_url=httpserver.url_for(api_base),
        credential__content={"accessToken": token},
    )


def test_gitlab_token_goes_in_the_private_token_header(httpserver, operator_client):
    def handler(request: Request) -> Response:
        if request.headers.get("PRIVATE-TOKEN") != "glpat-secret-token-value":
            return Response('{"message":"401 Unauthorized"}', status=401, content_type="application/json")
        return Response(
            json.dumps({"id": 1, "username": "john_smith", "name": "John Smith", "state": "active"}),
            content_type="application/json",
        )

    httpserver.expect_request("/api/v4/user").respond_with_handler(handler)
    served_by(httpserver, "gl", "gitlab", "/", "/api/v4", token="glpat-secret-token-value")

    body = operator_client.post(f"{PROVIDERS}/gl/test").json()

    assert body["ok"] is True
    assert body["identity"] == "john_smith"
    [(request, _)] = httpserver.log
    assert request.headers["PRIVATE-TOKEN"] == "glpat-secret-token-value"
    assert "Authorization" not in request.headers


def answer_bitbucket_user(httpserver) -> None:
    """Bitbucket's GET /2.0/user: basic auth with an app password, or a Bearer access token."""

    def handler(request: Request) -> Response:
        if request.headers.get("Authorization") not in (basic("svc-ci", PASSWORD), "Bearer bb-access-token-value"):
            return Response(
                '{"type":"error","error":{"message":"Unauthorized"}}',
                status=401,
                content_type="application/json",
                headers={"WWW-Authenticate": 'Basic realm="Bitbucket.org HTTP"'},
            )
        return Response(
            json.dumps({"type": "user", "username": "svc-ci", "display_name": "CI Service", "uuid": "{1234}"}),
            content_type="application/json",
        )

    httpserver.expect_request("/2.0/user").respond_with_handler(handler)


def test_bitbucket_user_and_app_password_use_basic_auth(httpserver, operator):
    answer_bitbucket_user(httpserver)
    provider = ProviderFactory(
        type="bitbucket",
        base_url="https://bitbucket.org",
        api_base_url=httpserver.url_for("/2.0"),
        credential__type="userPass",
        credential__content={"userName": "svc-ci", "password": PASSWORD},
    )

    result = provider_test_connection(provider=provider, actor=operator)

    assert result.ok is True
    assert result.identity == "svc-ci"
    [(request, _)] = httpserver.log
    assert request.headers["Authorization"] == basic("svc-ci", PASSWORD)


def test_bitbucket_token_uses_bearer_and_wrong_password_is_rejected(httpserver, operator):
    answer_bitbucket_user(httpserver)
    with_token = ProviderFactory(
        type="bitbucket",
        api_base_url=httpserver.url_for("/2.0"),
        credential__content={"accessToken": "bb-access-token-value"},
    )
    wrong = ProviderFactory(
        type="bitbucket",
        api_base_url=httpserver.url_for("/2.0"),
        credential__type="userPass",
        credential__content={"userName": "svc-ci", "password": "not-the-password"},
    )

    assert provider_test_connection(provider=with_token, actor=operator).ok is True
    result = provider_test_connection(provider=wrong, actor=operator)

    assert result == type(result)(ok=False, status=401, message="The provider rejected the credentials (HTTP 401).")
    assert [request.headers["Authorization"] for request, _ in httpserver.log] == [
        "Bearer bb-access-token-value",
        basic("svc-ci", "not-the-password"),
    ]


def test_azure_devops_pat_goes_as_basic_auth_password_to_connection_data(httpserver, operator_client):
    def handler(request: Request) -> Response:
        if request.headers.get("Authorization") != basic("", "azure-pat-secret-value"):
            return Response("", status=401)
        return Response(
            json.dumps(
                {
                    "authenticatedUser": {"id": "4c8f", "providerDisplayName": "Ada Lovelace", "isActive": True},
                    "authorizedUser": {"id": "4c8f", "providerDisplayName": "Ada Lovelace"},
                    "instanceId": "a1b2",
                    "locationServiceData": {"serviceOwner": "00025394-6065-48ca-87d9-7f5672854ef7"},
                }
            ),
            content_type="application/json; charset=utf-8; api-version=7.1",
        )

    httpserver.expect_request("/acme/_apis/connectionData", query_string="api-version=7.1").respond_with_handler(
        handler
    )
    served_by(httpserver, "ado", "azure-devops", "/acme", "/acme", token="azure-pat-secret-value")

    body = operator_client.post(f"{PROVIDERS}/ado/test").json()

    assert body["ok"] is True
    assert body["identity"] == "Ada Lovelace"
    [(request, _)] = httpserver.log
    assert request.headers["Authorization"] == basic("", "azure-pat-secret-value")


def test_azure_devops_sign_in_page_answer_is_a_failure(httpserver, operator):
    httpserver.expect_request("/acme/_apis/connectionData").respond_with_data(
        "<html>Sign in to your account</html>", status=203, content_type="text/html"
    )
    provider = ProviderFactory(
        type="azure-devops",
        base_url=httpserver.url_for("/acme"),
        credential__content={"accessToken": "expired-pat-value"},
    )

    result = provider_test_connection(provider=provider, actor=operator)

    assert (result.ok, result.status) == (False, 203)
    assert "Sign in" not in result.message


def oidc_issuer(httpserver, keys: list | None = None) -> str:
    issuer = httpserver.url_for("/realms/acme")
    httpserver.expect_request("/realms/acme/.well-known/openid-configuration").respond_with_json(
        keycloak_discovery_document(issuer)
    )
    default_keys = [{"kid": "k1", "kty": "RSA", "alg": "RS256", "use": "sig", "n": "sXch", "e": "AQAB"}]
    httpserver.expect_request("/realms/acme/protocol/openid-connect/certs").respond_with_json(
        {"keys": default_keys if keys is None else keys}
    )
    return issuer


def oidc_provider(operator, issuer: str) -> Provider:
    """An OIDC provider with only its issuer: the endpoints come from the discovery document."""
    return IdentityProviderFactory(
        alias="corp-oidc",
        client_secret="oidc-client-secret-value",
        issuer=issuer,
        authorization_url="",
        token_url="",
    ).provider


def test_oidc_fetches_discovery_document_and_jwks_without_credentials(httpserver, operator, operator_client):
    oidc_provider(operator, oidc_issuer(httpserver))

    body = operator_client.post(f"{PROVIDERS}/corp-oidc/test").json()

    assert body["ok"] is True
    assert body["status"] == 200
    assert body["message"] == "Discovery document and JWKS fetched (1 key)."
    assert [request.path for request, _ in httpserver.log] == [
        "/realms/acme/.well-known/openid-configuration",
        "/realms/acme/protocol/openid-connect/certs",
    ]
    assert all("Authorization" not in request.headers for request, _ in httpserver.log)
    assert "oidc-client-secret-value" not in json.dumps(body)


def test_oidc_with_an_empty_jwks_fails(httpserver, operator):
    provider = oidc_provider(operator, oidc_issuer(httpserver, keys=[]))

    result = provider_test_connection(provider=provider, actor=operator)

    assert (result.ok, result.message) == (False, "The JWKS has no keys.")


def test_oidc_discovery_failure_is_reported(httpserver, operator):
    httpserver.expect_request("/realms/gone/.well-known/openid-configuration").respond_with_data("gone", status=404)
    provider = oidc_provider(operator, httpserver.url_for("/realms/gone"))

    result = provider_test_connection(provider=provider, actor=operator)

    assert result.ok is False
    assert result.message == "The discovery document URL returned HTTP 404; expected 200."


def test_saml_single_sign_on_url_is_reachable(httpserver, operator):
    httpserver.expect_request("/saml/sso").respond_with_data("SAMLRequest missing", status=400)
    provider = IdentityProviderFactory(saml=True, single_sign_on_service_url=httpserver.url_for("/saml/sso")).provider

    result = provider_test_connection(provider=provider, actor=operator)

    assert (result.ok, result.status) == (True, 400)
    assert result.message == "The single sign-on URL is reachable (HTTP 400)."


def test_identity_type_without_identity_configuration_has_nothing_to_test(httpserver, operator_client):
    ProviderFactory(provider_id="okta-bare", type="okta", api_base_url=httpserver.url_for("/api/v1"))

    body = operator_client.post(f"{PROVIDERS}/okta-bare/test").json()

    assert body["ok"] is False
    assert body["message"] == "Nothing to test for this provider type without identity configuration."
    assert httpserver.log == []


def test_git_provider_without_credentials(httpserver, operator_client):
    github(httpserver, credential=False)

    body = operator_client.post(f"{PROVIDERS}/gh/test").json()

    assert (body["ok"], body["status"], body["message"]) == (False, None, "No credentials stored.")
    assert httpserver.log == []


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


def test_reads_show_the_last_test(httpserver, operator_client):
    answer_github_user(httpserver)
    provider = github(httpserver)
    updated_at = provider.updated_at

    before = operator_client.get(f"{PROVIDERS}/gh").json()
    tested = operator_client.post(f"{PROVIDERS}/gh/test").json()
    detail = operator_client.get(f"{PROVIDERS}/gh").json()
    listed = operator_client.get(PROVIDERS).json()["results"]

    assert before["lastTest"] == {"ok": None, "at": None, "message": ""}
    expected = {"ok": True, "at": tested["testedAt"], "message": "Connected as octocat."}
    assert detail["lastTest"] == expected
    assert [row["lastTest"] for row in listed if row["id"] == "gh"] == [expected]
    provider.refresh_from_db()
    assert provider.updated_at == updated_at
    assert provider.last_test_ok is True


def test_the_test_is_audited(httpserver, operator, operator_client):
    answer_github_user(httpserver)
    github(httpserver)
    github(httpserver, provider_id="gh-bad", credential__content={"accessToken": "wrong-token-value"})

    operator_client.post(f"{PROVIDERS}/gh/test")
    operator_client.post(f"{PROVIDERS}/gh-bad/test")

    events = AuditEvent.objects.filter(action="test").order_by("id")
    assert [(e.object_id, e.ok, e.actor, e.source) for e in events] == [
        ("gh", True, operator, "api"),
        ("gh-bad", False, operator, "api"),
    ]
    assert events[1].detail == "The provider rejected the credentials (HTTP 401)."


@pytest.mark.parametrize(("who", "status"), [("operator", 200), ("owner", 403), ("anonymous", 401)])
def test_testing_needs_the_change_permission(db, httpserver, request, who, status):
    answer_github_user(httpserver)
    provider = github(httpserver)
    user = None if who == "anonymous" else request.getfixturevalue(who)

    response = client_for(user).post(f"{PROVIDERS}/gh/test")

    assert response.status_code == status
    provider.refresh_from_db()
    assert (provider.last_tested_at is not None) is (status == 200)
    assert len(httpserver.log) == (1 if status == 200 else 0)


def test_unknown_provider_is_404(operator_client):
    assert operator_client.post(f"{PROVIDERS}/nope/test").status_code == 404


def test_admin_action_tests_each_provider_and_the_changelist_shows_the_result(httpserver, client, operator):
    answer_github_user(httpserver)
    good = github(httpserver, label="Main GitHub")
    bad = github(
        httpserver, provider_id="gh-bad", label="Old GitHub", credential__content={"accessToken": "wrong-token-value"}
    )
    untested = github(httpserver, provider_id="gh-untested")
    client.force_login(operator)

    response = client.post(
        PROVIDERS_CHANGELIST,
        {"action": "test_connection", "confirmed": "yes", "_selected_action": [good.pk, bad.pk], "index": 0},
    )
    page = client.get(response["Location"]).content.decode()

    assert response.status_code == 302
    assert '<li class="success">Main GitHub (gh): Connected as octocat.</li>' in page
    assert '<li class="warning">Old GitHub (gh-bad): The provider rejected the credentials (HTTP 401).</li>' in page
    rows = {
        provider.provider_id: row
        for provider in (good, bad, untested)
        for row in page.split("<tr")
        if f">{provider.provider_id}</a>" in row
    }
    assert 'class="field-last_test"><span title="Connected as octocat.">✓ ' in rows["gh"]
    rejected = "The provider rejected the credentials (HTTP 401)."
    assert f'class="field-last_test"><span title="{rejected}">✗ ' in rows["gh-bad"]
    assert 'class="field-last_test">—<' in rows["gh-untested"]
    untested.refresh_from_db()
    assert untested.last_tested_at is None
    change_page = client.get(reverse("admin:providers_provider_change", args=[bad.pk])).content.decode()
    assert "Last connection test" in change_page
    assert "failed at " in change_page


def test_admin_action_needs_the_change_permission(httpserver, client, owner):
    answer_github_user(httpserver)
    provider = github(httpserver)
    client.force_login(owner)

    client.post(
        PROVIDERS_CHANGELIST,
        {"action": "test_connection", "confirmed": "yes", "_selected_action": [provider.pk], "index": 0},
    )

    provider.refresh_from_db()
    assert provider.last_tested_at is None
    assert httpserver.log == []


def test_openapi_schema_describes_the_test_endpoint():
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/schema/?format=json").json()

    operation = schema["paths"]["/api/backend/providers/{providerId}/test"]["post"]
    assert {"200", "401", "403", "404"} <= set(operation["responses"])
    assert "requestBody" not in operation


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


CLIENT_SECRET = "oauth2-client-secret-value-0123"
ISSUED_TOKEN = "issued-access-token-value-4567"


def answer_client_credentials(httpserver, *, accept: bool = True) -> None:
    """An OAuth 2.0 token endpoint for the client-credentials grant, client authenticated by basic auth."""

    def handler(request: Request) -> Response:
        good = (
            request.headers.get("Authorization") == basic("bb-client", CLIENT_SECRET)
            and request.form.get("grant_type") == "client_credentials"
            and request.form.get("scope") == "account"
        )
        if not (accept and good):
            return Response(json.dumps({"error": "invalid_client"}), status=401, content_type="application/json")
        body = {"access_token": ISSUED_TOKEN, "token_type": "bearer", "expires_in": 7200}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/site/oauth2/access_token", method="POST").respond_with_handler(handler)


def client_credentials_provider(httpserver) -> Provider:
    return ProviderFactory(
        type="bitbucket",
        api_base_url=httpserver.url_for("/2.0"),
        credential__type="oauth2ClientCredentials",
        credential__content={
            "tokenUrl": httpserver.url_for("/site/oauth2/access_token"),
            "clientId": "bb-client",
            "clientSecret": CLIENT_SECRET,
            "scope": "account",
        },
    )


def test_oauth2_client_credentials_get_a_token_then_call_the_api_with_it(httpserver, operator):
    answer_client_credentials(httpserver)
    httpserver.expect_request("/2.0/user", headers={"Authorization": f"Bearer {ISSUED_TOKEN}"}).respond_with_json(
        {"username": "svc-app", "display_name": "Service app"}
    )
    provider = client_credentials_provider(httpserver)

    result = provider_test_connection(provider=provider, actor=operator)

    assert (result.ok, result.status, result.identity) == (True, 200, "svc-app")
    assert [request.path for request, _ in httpserver.log] == ["/site/oauth2/access_token", "/2.0/user"]


def test_oauth2_client_credentials_refused_by_the_token_url(httpserver, operator):
    answer_client_credentials(httpserver, accept=False)
    provider = client_credentials_provider(httpserver)

    result = provider_test_connection(provider=provider, actor=operator)

    assert result == type(result)(
        ok=False, status=401, message="The token URL refused the client credentials (HTTP 401)."
    )
    assert len(httpserver.log) == 1


def test_an_issued_token_echoed_by_the_provider_is_redacted(httpserver, operator):
    answer_client_credentials(httpserver)
    httpserver.expect_request("/2.0/user").respond_with_json({"username": f"echo {ISSUED_TOKEN}"})
    provider = client_credentials_provider(httpserver)

    result = provider_test_connection(provider=provider, actor=operator)

    assert ISSUED_TOKEN not in result.message and ISSUED_TOKEN not in result.identity
    provider.refresh_from_db()
    assert ISSUED_TOKEN not in provider.last_test_message


@pytest.fixture(scope="module")
def app_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key, pem


def answer_github_app(httpserver, public_key, *, installation_status: int = 201) -> None:
    """GitHub's GET /app and POST /app/installations/{id}/access_tokens, checking the app's JWT."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    def jwt_is_valid(request: Request) -> bool:
        scheme, _, jwt = request.headers.get("Authorization", "").partition(" ")
        header, payload, signature = jwt.split(".")

        def decode(part: str) -> bytes:
            return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

        try:
            public_key.verify(decode(signature), f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        claims = json.loads(decode(payload))
        return scheme == "Bearer" and claims["iss"] == "123456" and claims["exp"] - claims["iat"] <= 600

    def app(request: Request) -> Response:
        if not jwt_is_valid(request):
            return Response("{}", status=401, content_type="application/json")
        return Response(json.dumps({"id": 123456, "slug": "registry-bot"}), content_type="application/json")

    def installation(request: Request) -> Response:
        if not jwt_is_valid(request) or installation_status != 201:
            return Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")
        body = {"token": "ghs_installation_token_value", "expires_at": "2030-01-01T00:00:00Z"}
        return Response(json.dumps(body), status=201, content_type="application/json")

    httpserver.expect_request("/api/v3/app", method="GET").respond_with_handler(app)
    httpserver.expect_request("/api/v3/app/installations/987/access_tokens", method="POST").respond_with_handler(
        installation
    )


def github_app(httpserver, pem: str) -> Provider:
    return github(
        httpserver,
        credential__type="githubApp",
        credential__content={"appId": "123456", "privateKey": pem, "installationId": "987"},
    )


def test_github_app_authenticates_with_a_signed_jwt_and_gets_an_installation_token(httpserver, operator, app_key):
    key, pem = app_key
    answer_github_app(httpserver, key.public_key())

    result = provider_test_connection(provider=github_app(httpserver, pem), actor=operator)

    assert result.ok is True, result.message
    assert result.identity == "registry-bot"
    assert result.message == "Connected as the GitHub App registry-bot (installation 987)."
    assert [request.path for request, _ in httpserver.log] == [
        "/api/v3/app",
        "/api/v3/app/installations/987/access_tokens",
    ]


def test_github_app_not_installed_is_a_failure_naming_the_installation(httpserver, operator, app_key):
    key, pem = app_key
    answer_github_app(httpserver, key.public_key(), installation_status=404)

    result = provider_test_connection(provider=github_app(httpserver, pem), actor=operator)

    assert (result.ok, result.status) == (False, 404)
    assert "installation 987" in result.message
    assert "BEGIN" not in result.message


def test_github_app_with_another_key_is_rejected(httpserver, operator, app_key):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key, _ = app_key
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    answer_github_app(httpserver, key.public_key())

    result = provider_test_connection(provider=github_app(httpserver, other.decode()), actor=operator)

    assert (result.ok, result.status) == (False, 401)
