"""What the test-connection tests (tests/providers/test_connection_*.py) share: the endpoints, the
secrets a provider is given, basic auth, and a local server answering like GitHub's user endpoint."""

import base64
import json

from django.urls import reverse
from werkzeug import Request, Response

from providers.models import Provider
from tests.factories import ProviderFactory

PROVIDERS = "/api/backend/providers"
PROVIDERS_CHANGELIST = reverse("admin:providers_provider_changelist")
TOKEN = "ghp_connection_test_secret_0123456789"
PASSWORD = "app-password-s3cr3t-value"


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
