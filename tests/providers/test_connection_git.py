"""Test connection for git providers (`POST /api/backend/providers/{providerId}/test`) against
local servers that answer like GitHub, GitLab, Bitbucket and Azure DevOps: how each sends its token or
user name and password, and what each reports."""

import json

from werkzeug import Request, Response

from providers.services import provider_test_connection
from tests.factories import ProviderFactory
from tests.providers.connection_helpers import PASSWORD, PROVIDERS, TOKEN, answer_github_user, basic, github


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


def test_git_provider_without_credentials(httpserver, operator_client):
    github(httpserver, credential=False)

    body = operator_client.post(f"{PROVIDERS}/gh/test").json()

    assert (body["ok"], body["status"], body["message"]) == (False, None, "No credentials stored.")
    assert httpserver.log == []
