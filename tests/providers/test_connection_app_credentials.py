"""Test connection with the credentials that are exchanged for a token first: OAuth2 client
credentials (token URL, then the API) and GitHub Apps (a signed JWT, then an installation token), and
that an issued token is redacted like the stored secrets."""

import base64
import json

import pytest
from werkzeug import Request, Response

from providers.models import Provider
from providers.services import provider_test_connection
from tests.factories import ProviderFactory
from tests.providers.connection_helpers import basic, github

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
