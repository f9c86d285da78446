"""The credential-lifecycle canary's flows: canary credentials of every type, a local provider that
quotes back every credential it is sent, and the API flow that creates, rotates, rolls back and tests
them, with every response kept for the leak search."""

import base64
import functools
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import uuid4

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone
from werkzeug import Request, Response

from providers import services
from providers.admin.provider_form import CREDENTIAL_FORM_FIELDS
from providers.models import Provider
from tests.canary.search import new_canary, response_text
from tests.conftest import client_for
from tests.factories import ProjectOwnerFactory

PROVIDERS = "/api/backend/providers"
USER_NAME = "svc-canary"
# (provider id, provider type, credential type): every credential type, and for the tested types
# every way a git provider sends them (Bearer, PRIVATE-TOKEN, basic auth, PAT as basic password).
API_PROVIDERS = [
    ("api-gh-token", "github", "token"),
    ("api-gl-token", "gitlab", "token"),
    ("api-gh-userpass", "github", "userPass"),
    ("api-gl-userpass", "gitlab", "userPass"),
    ("api-az-token", "azure-devops", "token"),
    ("api-bb-oauth", "bitbucket", "oauth2ClientCredentials"),
    ("api-gh-app", "github", "githubApp"),
]
ADMIN_PROVIDERS = [
    ("adm-bb-token", "bitbucket", "token"),
    ("adm-bb-userpass", "bitbucket", "userPass"),
    ("adm-az-oauth", "azure-devops", "oauth2ClientCredentials"),
    ("adm-gh-app", "github", "githubApp"),
]
ROTATIONS = 3
ECHO_MODES = ("reject", "server-error", "accept-raw", "accept-bare", "redirect", "not-json")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


@functools.cache
def private_key_pem(index: int) -> str:
    """A fresh RSA key per index (cached: key generation is slow), as GitHub hands them out."""
    del index
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()


def pem_body_lines(pem: str) -> list[str]:
    """The canary of a PEM key: its base64 body lines (the BEGIN/END armour is the same for all keys)."""
    return [line for line in pem.strip().splitlines() if not line.startswith("-----") and len(line) >= 40]


@dataclass
class Canaries:
    """Every secret one run stored or sent, with the forms a request carried them in (basic auth)."""

    values: list[str] = field(default_factory=list)
    pems: int = 0

    def secret(self, kind: str, *, user: str = "") -> str:
        value = new_canary(kind)
        self.values += [value, b64(f":{value}"), b64(f"{user}:{value}")]
        return value

    def pem(self) -> str:
        pem = private_key_pem(self.pems)
        self.pems += 1
        self.values += pem_body_lines(pem)
        return pem

    def content(self, credential_type: str, *, token_url: str) -> dict[str, str]:
        """Credential content in the API's names, its secret a fresh canary."""
        if credential_type == "token":
            return {"accessToken": self.secret("token")}
        if credential_type == "userPass":
            return {"userName": USER_NAME, "password": self.secret("password", user=USER_NAME)}
        if credential_type == "oauth2ClientCredentials":
            return {
                "tokenUrl": token_url,
                "clientId": "canary-client-id",
                "clientSecret": self.secret("client-secret"),
                "scope": "repository",
            }
        assert credential_type == "githubApp"
        return {"appId": "12345", "privateKey": self.pem(), "installationId": "678"}

    @property
    def unique(self) -> list[str]:
        return sorted(set(self.values))


class EchoProvider:
    """A provider that quotes back every credential it is sent (as a hostile provider, a debugging
    proxy or a misconfigured gateway would): the Authorization / PRIVATE-TOKEN header, the decoded
    basic-auth pair and the bare secret, in its error bodies, in a 200 body's identity fields
    (`login`, `username`, `display_name`, `authenticatedUser.providerDisplayName`), in a redirect's
    Location and in a response header. `mode` picks the shape of the answer."""

    def __init__(self, httpserver):
        self.mode = "reject"
        self.received: list[str] = []
        self.answers: list[str] = []
        httpserver.expect_request(re.compile(".*")).respond_with_handler(self)

    def __call__(self, request: Request) -> Response:
        authorization = request.headers.get("Authorization", "")
        private_token = request.headers.get("PRIVATE-TOKEN", "")
        basic = ""
        if authorization.startswith("Basic "):
            basic = base64.b64decode(authorization.removeprefix("Basic ")).decode()
        bare = private_token or basic or authorization.removeprefix("Bearer ")
        self.received.append(bare)
        echoed = {"authorization": authorization, "privateToken": private_token, "basicAuth": basic, "secret": bare}
        headers = {"X-Echo-Authorization": authorization or private_token}
        if self.mode == "reject":
            body, status, content_type = json.dumps({"message": "Bad credentials", **echoed}), 401, "application/json"
        elif self.mode == "server-error":
            body, status, content_type = json.dumps({"error": f"failed for {bare}", **echoed}), 500, "application/json"
        elif self.mode == "redirect":
            body, status, content_type = json.dumps(echoed), 302, "application/json"
            headers["Location"] = f"https://sso.canary.test/login?token={bare}"
        elif self.mode == "not-json":
            body, status, content_type = f"<html>Welcome {authorization} {bare}</html>", 200, "text/html"
        else:
            login = (authorization or private_token) if self.mode == "accept-raw" else bare
            identity = {
                "login": login,
                "username": login,
                "display_name": login,
                "authenticatedUser": {"providerDisplayName": login},
            }
            body, status, content_type = json.dumps({**identity, **echoed}), 200, "application/json"
        self.answers.append(body)
        return Response(body, status=status, content_type=content_type, headers=headers)


def provider_urls(httpserver, provider_id: str) -> dict[str, str]:
    return {"base": httpserver.url_for(f"/{provider_id}/org"), "apiBase": httpserver.url_for(f"/{provider_id}/api")}


def in_days(days: int):
    return timezone.now() + timedelta(days=days)


@dataclass
class Lifecycle:
    canaries: Canaries
    echo: EchoProvider
    api: list[tuple[str, str]] = field(default_factory=list)
    admin: list[tuple[str, str]] = field(default_factory=list)
    connection_tests: list[tuple[str, str]] = field(default_factory=list)

    @property
    def secrets(self) -> list[str]:
        return self.canaries.unique

    @property
    def provider_ids(self) -> list[str]:
        return [provider_id for provider_id, _, _ in (*API_PROVIDERS, *ADMIN_PROVIDERS)]


def run_api_flow(operator, httpserver, run: Lifecycle) -> None:
    """Create, rotate, roll back, fail, test and read through the API as an operator."""
    client = client_for(operator)
    canaries, surfaces = run.canaries, run.api

    def record(label: str, response, expected: int):
        assert response.status_code == expected, (label, response.status_code, response.content[:500])
        surfaces.append((label, response_text(response)))
        return response

    for days, (provider_id, provider_type, credential_type) in enumerate(API_PROVIDERS, start=5):
        url = f"{PROVIDERS}/{provider_id}"
        token_url = httpserver.url_for(f"/{provider_id}/oauth2/token")

        def credentials(days: int = days, credential_type: str = credential_type, token_url: str = token_url) -> dict:
            return {
                "type": credential_type,
                "content": canaries.content(credential_type, token_url=token_url),
                "expiresAt": in_days(days).isoformat(),
            }

        body = {
            "id": provider_id,
            "label": f"Canary {provider_id}",
            "type": provider_type,
            "urls": provider_urls(httpserver, provider_id),
            "credentials": credentials(),
        }
        record(f"POST provider {provider_id}", client.post(PROVIDERS, body), 201)
        for n in range(ROTATIONS):
            record(f"PATCH rotate {provider_id} #{n}", client.patch(url, {"credentials": credentials()}), 200)
        history = record(f"GET credentials {provider_id}", client.get(f"{url}/credentials"), 200).json()
        assert len(history["history"]) == ROTATIONS, history
        oldest = history["history"][-1]["id"]
        record(
            f"POST rollback {provider_id} (oldest)",
            client.post(f"{url}/credentials/rollback", {"version": oldest}),
            200,
        )
        history = record(
            f"GET credentials {provider_id} (after rollback)", client.get(f"{url}/credentials"), 200
        ).json()
        newest = history["history"][0]["id"]
        record(
            f"POST rollback {provider_id} (newest)",
            client.post(f"{url}/credentials/rollback", {"version": newest}),
            200,
        )
        record(
            f"POST rollback {provider_id} (unknown version)",
            client.post(f"{url}/credentials/rollback", {"version": 999_999}),
            400,
        )
        record(f"GET credentials {provider_id} (final)", client.get(f"{url}/credentials"), 200)

    # Rotations that fail while carrying a secret.
    app_url = f"{PROVIDERS}/api-gh-app"
    bad_app = {
        "type": "githubApp",
        "content": {"appId": "not-a-number", "privateKey": canaries.pem(), "installationId": "1"},
    }
    record("PATCH githubApp with a bad app id", client.patch(app_url, {"credentials": bad_app}), 400)
    not_pem = "-----BEGIN RSA PRIVATE KEY-----\n" + canaries.secret("not-pem") + "\n-----END RSA PRIVATE KEY-----\n"
    bad_pem = {"type": "githubApp", "content": {"appId": "1", "privateKey": not_pem, "installationId": "1"}}
    record("PATCH githubApp with a key that is not PEM", client.patch(app_url, {"credentials": bad_pem}), 400)
    bad_url = {
        "type": "oauth2ClientCredentials",
        "content": canaries.content("oauth2ClientCredentials", token_url="ftp://x"),
    }
    record(
        "PATCH oauth2 with a bad token URL", client.patch(f"{PROVIDERS}/api-bb-oauth", {"credentials": bad_url}), 400
    )
    past = {
        "type": "userPass",
        "content": canaries.content("userPass", token_url=""),
        "expiresAt": in_days(-1).isoformat(),
    }
    record(
        "PATCH userPass expiring in the past", client.patch(f"{PROVIDERS}/api-gh-userpass", {"credentials": past}), 400
    )

    # Refused attempts (audited as "denied") carrying a secret.
    owner = client_for(ProjectOwnerFactory(username=f"owner-{uuid4().hex[:6]}"))
    token = {"type": "token", "content": {"accessToken": canaries.secret("denied")}}
    record("owner PATCH credentials", owner.patch(f"{PROVIDERS}/api-gh-token", {"credentials": token}), 403)
    record("owner POST test", owner.post(f"{PROVIDERS}/api-gh-token/test"), 403)
    record("owner POST rollback", owner.post(f"{PROVIDERS}/api-gh-token/credentials/rollback", {"version": 1}), 403)

    # Test connection against the echoing provider, in every shape of answer.
    for mode in ECHO_MODES:
        run.echo.mode = mode
        for provider_id, _, _ in API_PROVIDERS:
            response = record(f"POST test {provider_id} ({mode})", client.post(f"{PROVIDERS}/{provider_id}/test"), 200)
            run.connection_tests.append((f"API test answer {provider_id} ({mode})", response_text(response)))
            message = Provider.objects.get(provider_id=provider_id).last_test_message
            run.connection_tests.append((f"Provider.last_test_message {provider_id} ({mode})", message))
            detail = record(
                f"GET provider {provider_id} after test ({mode})", client.get(f"{PROVIDERS}/{provider_id}"), 200
            )
            run.connection_tests.append((f"API lastTest {provider_id} ({mode})", response_text(detail)))

    # Reads.
    for query in ("", "?type=github", "?capability=git", "?search=canary", "?page_size=1"):
        record(f"GET providers{query}", client.get(f"{PROVIDERS}{query}"), 200)


def admin_form(provider_id: str, provider_type: str, httpserver, credential_type: str, content: dict, **extra) -> dict:
    """The admin provider form as a browser posts it, credential inputs named as the admin names them."""
    urls = provider_urls(httpserver, provider_id)
    data = {
        "provider_id": provider_id,
        "label": f"Canary {provider_id}",
        "description": "",
        "type": provider_type,
        "enabled": "on",
        "base_url": urls["base"],
        "api_base_url": urls["apiBase"],
        "credential_type": credential_type,
        "credential_expires_at": in_days(20).strftime("%Y-%m-%d %H:%M"),
        "_save": "Save",
    }
    for api_name, form_name in CREDENTIAL_FORM_FIELDS.items():
        data[form_name] = content.get(api_name, "")
    data.update(extra)
    return data


def store_token_provider(operator, httpserver, canaries: Canaries, provider_id: str) -> Provider:
    """A token provider with a replaced version, written through the services."""
    urls = provider_urls(httpserver, provider_id)
    provider = services.provider_create(
        actor=operator,
        provider_id=provider_id,
        label=f"Canary {provider_id}",
        type="github",
        base_url=urls["base"],
        api_base_url=urls["apiBase"],
        credentials=services.CredentialInput("token", canaries.content("token", token_url=""), in_days(3)),
    )
    return services.provider_update(
        provider=provider,
        actor=operator,
        data={},
        credentials=services.CredentialInput("token", canaries.content("token", token_url=""), in_days(3)),
    )
