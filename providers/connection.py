"""Test connection: call a provider's own "who am I" endpoint with its stored credentials (git
providers) or fetch its published configuration (identity providers), and say whether it worked.

Every request goes through ``providers.fetch.fetch`` (security invariant 7: no private targets
unless allowed, no redirects, a deadline and a size cap). The result's message is meant to be
shown and stored: it never quotes a response body, only the parsed identity field, and any
credential value that still shows up in it is replaced (security invariant 1).
"""

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.exceptions import ValidationError

from .catalog import CREDENTIAL_TYPES, GIT, OIDC, PROVIDER_TYPES, SAML
from .fetch import FetchError, FetchResult, fetch
from .identity.discovery import oidc_discover
from .models import IdentityProvider, Provider

IDENTITY_MAX_LENGTH = 100
REDACTED = "[redacted]"
JSON = "application/json"
GITHUB_JSON = "application/vnd.github+json"
AZURE_API_VERSION = "7.1"
GITHUB_API_VERSION = "2022-11-28"

# Credential fields that are not secret (a user name, a client id): they may appear in an identity.
_PUBLIC_CREDENTIAL_FIELDS = frozenset(
    name for ctype in CREDENTIAL_TYPES.values() for name in ctype.all_fields if name not in ctype.secret_fields
)


@dataclass(frozen=True)
class ConnectionResult:
    """What a test found. `status` is the provider's HTTP status (None when it never answered);
    `message` is safe to show and store; `identity` is who the provider says the credentials
    belong to, when it says so."""

    ok: bool
    status: int | None
    message: str
    identity: str = ""


class _ProbeFailedError(Exception):
    """A probe step failed with a result to report."""

    def __init__(self, result: ConnectionResult):
        super().__init__(result.message)
        self.result = result


def probe(*, provider: Provider, credentials: dict[str, str] | None) -> ConnectionResult:
    """Test the provider: git types call their API's current-user endpoint with `credentials`;
    identity types fetch their discovery document and keys (OIDC) or check their login endpoint
    answers (SAML, OAuth 2.0), sending no credentials."""
    ptype = PROVIDER_TYPES.get(provider.type)
    secrets = _secret_values(credentials or {})
    try:
        if ptype is not None and ptype.capability == GIT:
            result = _probe_git(provider, credentials or {}, secrets)
        else:
            result = _probe_identity(provider)
    except _ProbeFailedError as refused:
        result = refused.result
    except FetchError as exc:
        result = ConnectionResult(ok=False, status=exc.status, message=str(exc))
    message = result.message
    for secret in secrets:
        message = message.replace(secret, REDACTED)
    return ConnectionResult(ok=result.ok, status=result.status, message=message, identity=result.identity)


def _probe_git(provider: Provider, credentials: dict[str, str], secrets: list[str]) -> ConnectionResult:
    if not credentials:
        return ConnectionResult(ok=False, status=None, message="No credentials stored.")
    api_base = provider.api_base_url.rstrip("/")
    # Where the answer names the user: the first of these JSON paths that holds a string.
    identity_path: tuple[tuple[str, ...], ...]
    if provider.type == "github" and credentials.get("appId"):
        return _probe_github_app(api_base, credentials, secrets)
    if provider.type == "github":
        url, accept, identity_path = f"{api_base}/user", GITHUB_JSON, (("login",),)
        headers = _auth_headers(credentials, secrets, token=lambda token: {"Authorization": f"Bearer {token}"})
        headers["X-GitHub-Api-Version"] = GITHUB_API_VERSION
    elif provider.type == "gitlab":
        url, accept, identity_path = f"{api_base}/user", JSON, (("username",),)
        headers = _auth_headers(credentials, secrets, token=lambda token: {"PRIVATE-TOKEN": token})
    elif provider.type == "bitbucket":
        url, accept, identity_path = f"{api_base}/user", JSON, (("username",), ("display_name",))
        headers = _auth_headers(credentials, secrets, token=lambda token: {"Authorization": f"Bearer {token}"})
    elif provider.type == "azure-devops":
        # The organization is part of the base URL (https://dev.azure.com/acme); a PAT goes as the
        # password of basic auth with an empty user name.
        base = provider.base_url.rstrip("/")
        url, accept = f"{base}/_apis/connectionData?api-version={AZURE_API_VERSION}", JSON
        identity_path = (("authenticatedUser", "providerDisplayName"),)
        # An OAuth 2.0 access token (Entra ID service principal) goes as a bearer token instead.
        headers = _auth_headers(
            credentials,
            secrets,
            token=lambda token: _basic("", token),
            bearer=lambda token: {"Authorization": f"Bearer {token}"},
        )
    else:
        return ConnectionResult(ok=False, status=None, message="Testing this provider type is not supported.")

    result = fetch(url, accept=accept, headers=headers)
    if result.status != 200:
        if provider.type == "azure-devops" and result.status == 203:
            # Azure DevOps answers a bad or expired PAT with its sign-in page and HTTP 203.
            return ConnectionResult(
                ok=False, status=203, message="The provider did not accept the credentials (HTTP 203)."
            )
        return _status_failure(result.status)
    document = _json_object(result, what="answer")
    identity = next((value for path in identity_path if (value := _string_at(document, path))), "")
    # An identity that quotes a secret (a provider echoing the request) is not shown at all.
    identity = "" if any(secret in identity for secret in secrets) else identity[:IDENTITY_MAX_LENGTH]
    message = f"Connected as {identity}." if identity else "Connected."
    return ConnectionResult(ok=True, status=result.status, message=message, identity=identity)


def _auth_headers(
    credentials: dict[str, str],
    secrets: list[str],
    *,
    token: Callable[[str], dict[str, str]],
    bearer: Callable[[str], dict[str, str]] | None = None,
) -> dict[str, str]:
    """The provider's header for an access token, basic auth for a user name and password, or,
    for OAuth 2.0 client credentials, the header for the access token the token URL issues."""
    if credentials.get("accessToken"):
        return token(credentials["accessToken"])
    if credentials.get("userName") and credentials.get("password"):
        return _basic(credentials["userName"], credentials["password"])
    if credentials.get("tokenUrl"):
        return (bearer or token)(_client_credentials_token(credentials, secrets))
    raise _ProbeFailedError(
        ConnectionResult(ok=False, status=None, message="These credentials cannot be tested against this provider.")
    )


def _client_credentials_token(credentials: dict[str, str], secrets: list[str]) -> str:
    """The OAuth 2.0 client-credentials grant (RFC 6749 §4.4), client authenticated with HTTP
    basic auth. The issued token is a secret too: it joins `secrets`, so no message shows it."""
    form = {"grant_type": "client_credentials"}
    if credentials.get("scope"):
        form["scope"] = credentials["scope"]
    result = fetch(
        credentials["tokenUrl"],
        method="POST",
        body=urlencode(form).encode(),
        accept=JSON,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            **_basic(quote(credentials["clientId"], safe=""), quote(credentials["clientSecret"], safe="")),
        },
    )
    if result.status != 200:
        raise _ProbeFailedError(
            ConnectionResult(
                ok=False,
                status=result.status,
                message=f"The token URL refused the client credentials (HTTP {result.status}).",
            )
        )
    access_token = _json_object(result, what="token answer").get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise _ProbeFailedError(
            ConnectionResult(ok=False, status=result.status, message="The token URL answered without an access_token.")
        )
    secrets.append(access_token)
    return access_token


def _github_app_jwt(app_id: str, private_key_pem: str) -> str:
    """The short-lived JWT (RS256, 9 minutes, issued a minute early for clock drift) a GitHub App
    authenticates as itself with."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    now = int(time.time())
    header = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"iat": now - 60, "exp": now + 540, "iss": app_id}).encode())
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise _ProbeFailedError(
            ConnectionResult(ok=False, status=None, message="A GitHub App private key must be an RSA key.")
        )
    signature = key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{b64(signature)}"


def _probe_github_app(api_base: str, credentials: dict[str, str], secrets: list[str]) -> ConnectionResult:
    """`GET /app` with the app's JWT (who the app is), then an installation token for the stored
    installation (that the app is installed there): both must work for the app to be usable."""
    jwt = _github_app_jwt(credentials["appId"], credentials["privateKey"])
    secrets.append(jwt)
    headers = {"Authorization": f"Bearer {jwt}", "X-GitHub-Api-Version": GITHUB_API_VERSION}
    app = fetch(f"{api_base}/app", accept=GITHUB_JSON, headers=headers)
    if app.status != 200:
        return _status_failure(app.status)
    slug = _string_at(_json_object(app, what="answer"), ("slug",))[:IDENTITY_MAX_LENGTH]
    installation_id = credentials["installationId"]
    installation = fetch(
        f"{api_base}/app/installations/{quote(installation_id, safe='')}/access_tokens",
        method="POST",
        accept=GITHUB_JSON,
        headers=headers,
    )
    token = _json_object(installation, what="answer").get("token") if installation.status == 201 else None
    if isinstance(token, str):
        secrets.append(token)
    if installation.status != 201 or not token:
        return ConnectionResult(
            ok=False,
            status=installation.status,
            message=f"Authenticated as the app {slug or credentials['appId']}, but installation {installation_id} "
            f"gave no access token (HTTP {installation.status}).",
            identity=slug,
        )
    return ConnectionResult(
        ok=True,
        status=installation.status,
        message=f"Connected as the GitHub App {slug} (installation {installation_id}).",
        identity=slug,
    )


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")}


def _probe_identity(provider: Provider) -> ConnectionResult:
    identity = IdentityProvider.objects.filter(provider=provider).defer("client_secret").first()
    if identity is None:
        return ConnectionResult(
            ok=False, status=None, message="Nothing to test for this provider type without identity configuration."
        )
    if identity.protocol == SAML:
        if identity.single_sign_on_service_url:
            return _probe_reachable(identity.single_sign_on_service_url, what="single sign-on URL")
    elif identity.protocol == OIDC and identity.issuer:
        return _probe_oidc(identity.issuer)
    elif identity.protocol == OIDC and identity.jwks_url:
        return _probe_jwks(identity.jwks_url, prefix="")
    elif identity.authorization_url:
        return _probe_reachable(identity.authorization_url, what="authorization URL")
    return ConnectionResult(ok=False, status=None, message="No issuer or login URL is configured; nothing to test.")


def _probe_oidc(issuer: str) -> ConnectionResult:
    try:
        discovered = oidc_discover(issuer)
    except ValidationError as exc:
        messages = [message for errors in exc.message_dict.values() for message in errors]
        return ConnectionResult(ok=False, status=None, message=" ".join(messages) or "Discovery failed.")
    return _probe_jwks(discovered["oidc_config"]["jwks_url"], prefix="Discovery document and ")


def _probe_jwks(url: str, *, prefix: str) -> ConnectionResult:
    result = fetch(url, accept=JSON)
    if result.status != 200:
        return ConnectionResult(ok=False, status=result.status, message=f"The JWKS URL answered HTTP {result.status}.")
    keys = _json_object(result, what="JWKS").get("keys")
    if not isinstance(keys, list) or not keys:
        return ConnectionResult(ok=False, status=result.status, message="The JWKS has no keys.")
    return ConnectionResult(
        ok=True, status=result.status, message=f"{prefix}JWKS fetched ({len(keys)} key{'s' * (len(keys) != 1)})."
    )


def _probe_reachable(url: str, *, what: str) -> ConnectionResult:
    """Any answer below 500 shows the endpoint is up: without a login request it may well say
    400, or redirect to an error page (which is not followed)."""
    try:
        status = fetch(url, accept="text/html, */*;q=0.8").status
    except FetchError as exc:
        if exc.status is None or not 300 <= exc.status < 400:
            raise
        return ConnectionResult(
            ok=True, status=exc.status, message=f"The {what} is reachable (HTTP {exc.status}, redirect not followed)."
        )
    if status < 500:
        return ConnectionResult(ok=True, status=status, message=f"The {what} is reachable (HTTP {status}).")
    return _status_failure(status)


def _status_failure(status: int) -> ConnectionResult:
    messages = {
        401: "The provider rejected the credentials (HTTP 401).",
        403: "Access is forbidden (HTTP 403): check the token's scopes.",
        404: "The API endpoint was not found (HTTP 404): check the API base URL.",
    }
    message = messages.get(status, f"The provider answered HTTP {status}.")
    return ConnectionResult(ok=False, status=status, message=message)


def _json_object(result: FetchResult, *, what: str) -> dict[str, Any]:
    try:
        document = json.loads(result.body)
    except (ValueError, RecursionError):
        document = None
    if not isinstance(document, dict):
        raise _ProbeFailedError(
            ConnectionResult(
                ok=False,
                status=result.status,
                message=f"The provider's {what} is not a JSON object (HTTP {result.status}): check the URL.",
            )
        )
    return document


def _string_at(document: dict[str, Any], path: tuple[str, ...]) -> str:
    value: Any = document
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value.strip() if isinstance(value, str) else ""


def _secret_values(credentials: dict[str, str]) -> list[str]:
    """Every secret credential value, with the basic-auth encodings a request carried them in."""
    secrets = [
        value
        for name, value in credentials.items()
        if isinstance(value, str) and value and name not in _PUBLIC_CREDENTIAL_FIELDS
    ]
    user = credentials.get("userName") or ""
    for secret in list(secrets):
        for pair in (f"{user}:{secret}", f":{secret}"):
            secrets.append(base64.b64encode(pair.encode()).decode("ascii"))
    return sorted(set(secrets), key=len, reverse=True)
