"""The "canary secret" proof for the credential lifecycle: a stored secret never leaves the server.

Credentials of every type (token, userPass, oauth2ClientCredentials, githubApp) hold unique canary
secrets; they are created, rotated and rolled back through the API and the admin, tested against a
local provider that quotes back every credential it is sent, listed in the audit log, re-encrypted
by the key commands, reported in Django's technical 500 reports and made undecryptable. Every
surface a person, a log collector or an error mail can see is searched for them. The search comes
from tests/canary/ so all canary proofs search the same way."""

import base64
import functools
import io
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.views.debug import ExceptionReporter
from werkzeug import Request, Response

from accounts.services import api_token_create
from providers import keys, services
from providers.admin.provider_form import CREDENTIAL_FORM_FIELDS
from providers.models import AuditEvent, Credential, CredentialVersion, IdentityProvider, Provider
from tests.canary.database import FERNET_PREFIX, all_table_rows, dump_leaks
from tests.canary.identity_flows import canonical_body, jsonapi_document, public_body
from tests.canary.logs import capture_all_logs
from tests.canary.search import admin_client, assert_no_leak, find_leaks, new_canary, response_text
from tests.conftest import client_for
from tests.factories import ProjectOwnerFactory
from tests.providers.test_keys import _clear_field_caches

PROVIDERS = "/api/backend/providers"
AUDIT = "/api/backend/audit-events"
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


@pytest.fixture(scope="session")
def httpserver_listen_address():
    # The IPv4 loopback the test settings allow, whatever "localhost" resolves to on this host.
    return ("127.0.0.1", 0)


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


def audit_queries(provider_ids: list[str]) -> list[str]:
    queries = [
        "",
        "?page_size=500",
        "?page_size=1",
        "?ok=false",
        "?ok=true",
        "?source=api",
        "?source=admin",
        "?actor=operator",
    ]
    queries += [f"?action={action}" for action in AuditEvent.Action.values]
    queries += [f"?objectId={provider_id}" for provider_id in provider_ids]
    queries += ["?objectType=provider&action=test&ok=false", f"?since={in_days(-1).isoformat()}"]
    return queries


def distinct_events() -> list[int]:
    """One audit event per distinct content (action, fields, detail): every value shown once."""
    seen: dict[tuple, int] = {}
    for event in AuditEvent.objects.order_by("pk"):
        seen.setdefault((event.action, tuple(event.fields), event.detail, event.ok), event.pk)
    return sorted(seen.values())


def run_audit_reads(operator, run: Lifecycle) -> None:
    client = client_for(operator)
    for query in audit_queries(run.provider_ids):
        response = client.get(AUDIT + query.replace("+", "%2B"))
        assert response.status_code == 200, (query, response.content[:300])
        run.api.append((f"GET audit-events{query}", response_text(response)))
    for event_id in distinct_events():
        response = client.get(f"{AUDIT}/{event_id}")
        assert response.status_code == 200, (event_id, response.status_code)
        run.api.append((f"GET audit-events/{event_id}", response_text(response)))


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


def run_admin_flow(operator, httpserver, run: Lifecycle) -> None:
    """Create, rotate, fail, restore and test through the admin, then every admin page for the data."""
    client = admin_client(operator)
    canaries, surfaces = run.canaries, run.admin

    def page(label: str, response, expected: int = 200):
        assert response.status_code == expected, (label, response.status_code)
        for url, _ in getattr(response, "redirect_chain", []):
            surfaces.append((f"{label} (redirected to)", url))
        surfaces.append((label, response_text(response)))
        return response

    def saved(label: str, response):
        form = response.context and response.context.get("adminform")
        assert response.redirect_chain, (label, form.form.errors if form else response.status_code)
        return page(label, response)

    add_url = reverse("admin:providers_provider_add")
    for provider_id, provider_type, credential_type in ADMIN_PROVIDERS:
        token_url = httpserver.url_for(f"/{provider_id}/oauth2/token")

        def form(
            provider_id=provider_id,
            provider_type=provider_type,
            credential_type=credential_type,
            token_url=token_url,
            **extra,
        ):
            content = canaries.content(credential_type, token_url=token_url)
            return admin_form(provider_id, provider_type, httpserver, credential_type, content, **extra)

        saved(f"admin add {provider_id}", client.post(add_url, form(), follow=True))
        provider = Provider.objects.get(provider_id=provider_id)
        change_url = reverse("admin:providers_provider_change", args=[provider.pk])
        for n in range(ROTATIONS):
            saved(f"admin rotate {provider_id} #{n}", client.post(change_url, form(), follow=True))
        failed = client.post(change_url, form(base_url="not a url"))
        assert failed.status_code == 200 and failed.context["adminform"].form.errors, f"{provider_id}: should fail"
        page(f"admin change POST {provider_id} (invalid URL + secret)", failed)

        change = page(f"admin change {provider_id} (rotation history)", client.get(change_url))
        version_ids = change.context["rollback_version_ids"]
        assert len(version_ids) == ROTATIONS, version_ids
        assert f'form="rollback-{version_ids[-1]}"' in change.content.decode(), "a restore button per version"
        for version_id in (version_ids[-1], version_ids[0], 999_999):
            rollback_url = reverse("admin:providers_provider_rollback", args=[provider.pk, version_id])
            restored = page(f"admin restore {provider_id} v{version_id}", client.post(rollback_url, follow=True))
            shown = [str(message) for message in restored.context["messages"]]
            assert shown, "the restore answers with a message"
            surfaces.append((f"admin messages restore {provider_id} v{version_id}", "\n".join(shown)))

    # A githubApp form that fails after the key was typed: the textarea must come back empty.
    app = Provider.objects.get(provider_id="adm-gh-app")
    app_change = reverse("admin:providers_provider_change", args=[app.pk])
    content = canaries.content("githubApp", token_url="")
    failed = client.post(app_change, admin_form("adm-gh-app", "github", httpserver, "githubApp", content, app_id="x"))
    assert failed.status_code == 200 and "app_id" in failed.context["adminform"].form.errors
    assert 'name="private_key"' in failed.content.decode()
    page("admin change POST githubApp (bad app id, key typed)", failed)

    # The test-connection action against the echoing provider, in every shape of answer.
    changelist = reverse("admin:providers_provider_changelist")
    pks = list(Provider.objects.order_by("pk").values_list("pk", flat=True))
    assert 0 < len(pks) <= 20
    for action_name in ("test_connection", "disable_selected", "enable_selected"):
        unconfirmed = {"action": action_name, "_selected_action": pks, "index": "0"}
        page(f"admin {action_name} confirmation page", client.post(changelist, unconfirmed))
    for mode in ECHO_MODES:
        run.echo.mode = mode
        action = {
            "action": "test_connection",
            "confirmed": "yes",
            "_selected_action": pks,
            "index": "0",
            "select_across": "0",
        }
        response = page(f"admin test action ({mode})", client.post(changelist, action, follow=True))
        shown = [str(message) for message in response.context["messages"]]
        assert len(shown) == len(pks), shown
        run.connection_tests.append((f"admin messages test action ({mode})", "\n".join(shown)))
        run.connection_tests.append((f"admin changelist after test action ({mode})", response_text(response)))
        for provider in Provider.objects.filter(provider_id="adm-bb-userpass"):
            change = page(
                f"admin change {provider.provider_id} after test ({mode})",
                client.get(reverse("admin:providers_provider_change", args=[provider.pk])),
            )
            run.connection_tests.append((f"admin change {provider.provider_id} ({mode})", response_text(change)))

    # Every page showing the data.
    page("admin index (recent actions)", client.get(reverse("admin:index")))
    for params in ({}, {"q": "canary"}, {"expiry": "30"}, {"expiry": "7"}, {"credential__type__exact": "githubApp"}):
        page(f"admin provider changelist {params}", client.get(changelist, params))
    for provider in Provider.objects.all():
        views = ("change", "history", "delete") if provider.provider_id.endswith("app") else ("change", "history")
        for view in views:
            page(
                f"admin provider {view} {provider.provider_id}",
                client.get(reverse(f"admin:providers_provider_{view}", args=[provider.pk])),
            )
    audit_changelist = reverse("admin:providers_auditevent_changelist")
    for params in (
        {},
        {"action__exact": "test"},
        {"action__exact": "rotate"},
        {"action__exact": "rollback"},
        {"action__exact": "denied"},
        {"ok__exact": "0"},
        {"source__exact": "admin"},
        {"q": "adm-gh-app"},
    ):
        page(f"admin audit changelist {params}", client.get(audit_changelist, params))
    pages = AuditEvent.objects.count() // 100 + 1
    for number in range(pages):
        page(f"admin audit changelist page {number}", client.get(audit_changelist, {"p": number + 1}))
    for event_id in distinct_events():
        page(f"admin audit event {event_id}", client.get(reverse("admin:providers_auditevent_change", args=[event_id])))


def run_lifecycle(operator, httpserver) -> Lifecycle:
    run = Lifecycle(canaries=Canaries(), echo=EchoProvider(httpserver))
    run_api_flow(operator, httpserver, run)
    run_admin_flow(operator, httpserver, run)
    run_audit_reads(operator, run)
    # Sanity: every credential type is stored with its history, and the proof is not empty.
    assert set(Credential.objects.values_list("type", flat=True)) == {
        "token",
        "userPass",
        "oauth2ClientCredentials",
        "githubApp",
    }
    assert CredentialVersion.objects.count() >= ROTATIONS * len(run.provider_ids)
    assert AuditEvent.objects.filter(action="test").count() == len(ECHO_MODES) * (
        len(API_PROVIDERS) + len(run.provider_ids)
    )
    assert AuditEvent.objects.filter(action="rollback").exists() and AuditEvent.objects.filter(action="denied").exists()
    return run


@pytest.fixture
def lifecycle(operator, httpserver) -> Lifecycle:
    return run_lifecycle(operator, httpserver)


def test_credential_lifecycle_never_shows_a_secret(lifecycle):
    """API bodies and headers, admin pages and messages, what the connection tests stored and
    showed, history entries, audit rows and the raw tables: searched together, every leak listed."""
    # Sanity: the provider really was sent the secrets and quoted them back in every mode.
    stored = [json.loads(credential.secret) for credential in Credential.objects.all()]
    tested = [content.get("accessToken") or content.get("password") for content in stored]
    assert len([secret for secret in tested if secret]) == 7
    for secret in filter(None, tested):
        assert any(secret in received for received in lifecycle.echo.received), secret
        assert sum(secret in answer for answer in lifecycle.echo.answers) >= len(ECHO_MODES), secret
    assert len(lifecycle.api) > 200 and len(lifecycle.admin) > 100
    entries = list(LogEntry.objects.all())
    events = list(AuditEvent.objects.all())
    assert {event.action for event in events} >= {"create", "rotate", "rollback", "test", "denied"}
    tables = {table for table, _ in all_table_rows()}
    assert {"providers_credential", "providers_credentialversion", "providers_auditevent", "django_admin_log"} <= tables
    table = connection.ops.quote_name(CredentialVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {table}")
        versions = [bytes(value) for (value,) in cursor.fetchall()]
    assert versions and all(value.startswith(FERNET_PREFIX) for value in versions)

    surfaces = [*lifecycle.api, *lifecycle.admin, *lifecycle.connection_tests]
    surfaces += [(f"Provider {p.provider_id} last_test_message", p.last_test_message) for p in Provider.objects.all()]
    surfaces += [(f"LogEntry #{entry.pk} object_repr", entry.object_repr) for entry in entries]
    surfaces += [(f"LogEntry #{entry.pk} change_message", entry.change_message) for entry in entries]
    surfaces += [(f"LogEntry #{entry.pk} message shown", str(entry.get_change_message())) for entry in entries]
    surfaces += [(f"AuditEvent #{event.pk}", repr(vars(event))) for event in events]
    leaks = find_leaks(surfaces, lifecycle.secrets) + dump_leaks(lifecycle.secrets)
    assert not leaks, "canary secret leaked on these surfaces:\n" + "\n".join(leaks)


def test_logs_never_contain_a_lifecycle_secret(operator, httpserver, caplog):
    capture_all_logs(caplog)
    previous = connection.force_debug_cursor
    connection.force_debug_cursor = True
    try:
        run = run_lifecycle(operator, httpserver)
    finally:
        connection.force_debug_cursor = previous

    sql = [record.getMessage() for record in caplog.records if record.name == "django.db.backends"]
    assert any("providers_credentialversion" in message for message in sql)
    assert any("providers_auditevent" in message for message in sql)
    assert any(record.name == "django.request" for record in caplog.records)  # the 4xx answers
    surfaces = [("caplog.text", caplog.text)]
    surfaces += [(f"log record {record.name} attributes", str(vars(record))) for record in caplog.records]
    hexed = [variant for secret in run.secrets for variant in (secret.encode().hex(), secret.encode().hex().upper())]
    assert_no_leak(surfaces, [*run.secrets, *hexed])


# --- Keys: commands and undecryptable secrets ---------------------------------------------------


@pytest.fixture
def fernet_keys(settings):
    """`fernet_keys("lost")` switches FERNET_KEYS (and the fields' cached keys, as tests/providers/
    test_keys.py does); `fernet_keys()` goes back to the suite's keys."""
    original = list(settings.FERNET_KEYS)

    def use(*names: str) -> None:
        settings.FERNET_KEYS = list(names) or original
        _clear_field_caches()

    _clear_field_caches()
    yield use
    settings.FERNET_KEYS = original
    _clear_field_caches()


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
        provider_id=provider.provider_id,
        actor=operator,
        data={},
        credentials=services.CredentialInput("token", canaries.content("token", token_url=""), in_days(3)),
    )


def ciphertexts(provider: Provider) -> list[str]:
    """The raw stored tokens of a provider's credentials and versions."""
    tokens = []
    for model in (Credential, CredentialVersion):
        pks = set(model._base_manager.filter(provider=provider).values_list("pk", flat=True))
        rows = keys.raw_values(model, model._meta.get_field("secret"), limit=10_000)
        tokens += [token.decode("ascii") for pk, token in rows if pk in pks]
    assert tokens
    return tokens


def run_command(*args: str) -> tuple[str, str]:
    """stdout, stderr (and the error a failing run ends with) of a management command."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as exc:
        err.write(f"CommandError: {exc}")
    except SystemExit as exc:
        err.write(f"SystemExit: {exc.code}")
    return out.getvalue(), err.getvalue()


def test_key_commands_never_print_a_secret(operator, httpserver, fernet_keys):
    run = Lifecycle(canaries=Canaries(), echo=EchoProvider(httpserver))
    run_api_flow(operator, httpserver, run)
    fernet_keys("test-fernet-key-old")
    old = store_token_provider(operator, httpserver, run.canaries, "under-old-key")
    fernet_keys("lost-key-canary")
    lost = store_token_provider(operator, httpserver, run.canaries, "under-lost-key")
    fernet_keys()
    secrets = [*run.secrets, *ciphertexts(old), *ciphertexts(lost)]

    outputs = {}
    for args in (
        ("rotate_keys", "--check"),
        ("rotate_keys", "--dry-run"),
        ("rotate_keys", "--batch-size", "3"),
        ("rotate_keys", "--check"),
        ("credentials_expiring", "--days", "365"),
        ("credentials_expiring", "--days", "365", "--fail"),
        ("credentials_expiring", "--days", "0"),
    ):
        outputs[" ".join(args)] = run_command(*args)

    first_check = outputs["rotate_keys --check"]
    assert "credential.secret" in first_check[0] and "CommandError" in first_check[1]
    assert "(provider “under-lost-key”)" in outputs["rotate_keys --batch-size 3"][0]
    expiring = outputs["credentials_expiring --days 365"][0]
    assert all(provider_id in expiring for provider_id, _, _ in API_PROVIDERS), expiring
    assert "SystemExit: 1" in outputs["credentials_expiring --days 365 --fail"][1]
    surfaces = [
        (f"{name} {stream}", text)
        for name, pair in outputs.items()
        for stream, text in zip(("stdout", "stderr"), pair, strict=True)
    ]
    assert_no_leak(surfaces, secrets)


def test_undecryptable_secret_errors_name_the_provider_only(operator, httpserver, fernet_keys, caplog):
    canaries = Canaries()
    EchoProvider(httpserver)
    fernet_keys("lost-key-canary")
    provider = store_token_provider(operator, httpserver, canaries, "lost-gh")
    fernet_keys()
    version = CredentialVersion.metadata.get(provider=provider)
    secrets = [*canaries.unique, *ciphertexts(provider), FERNET_PREFIX.decode()]
    client = client_for(operator)
    url = f"{PROVIDERS}/lost-gh"
    surfaces = []

    tested = client.post(f"{url}/test")
    rollback = client.post(f"{url}/credentials/rollback", {"version": version.pk})
    for label, response in (("POST test", tested), ("POST rollback", rollback)):
        assert response.status_code == 503, (label, response.content)
        assert "lost-gh" in response.json()["detail"], response.json()
        assert "cannot be decrypted" in response.json()["detail"]
        surfaces.append((label, response_text(response)))
    for label, path in (("GET list", PROVIDERS), ("GET detail", url), ("GET credentials", f"{url}/credentials")):
        response = client.get(path)
        assert response.status_code == 200, (label, response.content)
        surfaces.append((label, response_text(response)))
    admin = Client(raise_request_exception=False)
    admin.force_login(operator)
    change = admin.get(reverse("admin:providers_provider_change", args=[provider.pk]))
    assert change.status_code == 200
    surfaces.append(("admin change page", response_text(change)))
    # The admin's test action and restore button on it (today both end in a generic 500 page).
    action = {"action": "test_connection", "confirmed": "yes", "_selected_action": [provider.pk], "index": "0"}
    changelist = reverse("admin:providers_provider_changelist")
    surfaces.append(("admin test action", response_text(admin.post(changelist, action, follow=True))))
    restore = reverse("admin:providers_provider_rollback", args=[provider.pk, version.pk])
    surfaces.append(("admin restore", response_text(admin.post(restore, follow=True))))
    surfaces.append(("logs", caplog.text))
    surfaces += [(f"log record {record.name}", str(vars(record))) for record in caplog.records]

    assert_no_leak(surfaces, secrets)
    assert not httpserver.log, "nothing may be sent when the credentials cannot be read"


# --- Exception reports ----------------------------------------------------------------------------


def injected_failure(*args, **kwargs):
    """Stands in for a service step that crashes; keeps no arguments, so no secret sits in its frame."""
    del args, kwargs
    raise RuntimeError("injected failure")


def fresh_exc_info():
    """An exception raised here, with no locals: a report of it shows the request and nothing else."""
    try:
        raise RuntimeError("report check")
    except RuntimeError:
        return sys.exc_info()


@dataclass
class Crash:
    label: str
    request: object
    exc_info: tuple
    secrets: list[str]


def crash_requests(operator, httpserver, monkeypatch, caplog) -> list[Crash]:
    """Requests carrying canaries (admin form posts, API JSON bodies) that end in an unexpected
    exception deep in the services, as a bug or a lost database connection would; Django logs each
    with its request, which is what an error mail or an error tracker turns into a report."""
    canaries = Canaries()
    EchoProvider(httpserver)
    token_provider = store_token_provider(operator, httpserver, canaries, "crash-gh")
    _, api_token = api_token_create(user=operator, name="crash")
    api = client_for(None)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")
    api.raise_request_exception = False
    admin = Client(raise_request_exception=False)
    admin.force_login(operator)

    crashes: list[Crash] = []

    def crashed(label: str, response, secrets: list[str]) -> None:
        assert response.status_code == 500, (label, response.status_code, response.content[:300])
        records = [r for r in caplog.records if r.name == "django.request" and r.levelname == "ERROR" and r.exc_info]
        assert records, label
        crashes.append(Crash(label, records[-1].request, records[-1].exc_info, [*secrets, api_token]))
        caplog.clear()

    monkeypatch.setattr("providers.services.credentials.credential_fingerprint", injected_failure)

    # The admin change form with every secret input filled in (form-encoded POST).
    secret_inputs = {
        "access_token": canaries.secret("form-token"),
        "password": canaries.secret("form-password"),
        "client_secret": canaries.secret("form-client-secret"),
        "private_key": canaries.pem(),
    }
    change = admin_form(
        "crash-gh", "github", httpserver, "token", {}, user_name=USER_NAME, app_id="1", installation_id="2"
    )
    change.update(secret_inputs)
    change_url = reverse("admin:providers_provider_change", args=[token_provider.pk])
    crashed("admin change POST", admin.post(change_url, change), canaries.unique)
    add = admin_form("crash-add", "github", httpserver, "githubApp", canaries.content("githubApp", token_url=""))
    crashed("admin add POST", admin.post(reverse("admin:providers_provider_add"), add), canaries.unique)

    # API JSON bodies.
    body = {
        "id": "crash-api",
        "label": "Crash",
        "type": "bitbucket",
        "urls": provider_urls(httpserver, "crash-api"),
        "credentials": {
            "type": "oauth2ClientCredentials",
            "content": canaries.content("oauth2ClientCredentials", token_url="https://login.canary.test/token"),
        },
    }
    crashed("API POST (JSON body)", api.post(PROVIDERS, body, format="json"), canaries.unique)
    rotate = {"credentials": {"type": "token", "content": canaries.content("token", token_url="")}}
    crashed("API PATCH rotate (JSON body)", api.patch(f"{PROVIDERS}/crash-gh", rotate, format="json"), canaries.unique)
    monkeypatch.undo()

    # Identity providers: a client secret in each dialect's body, the service crashing on it.
    monkeypatch.setattr(IdentityProvider, "fill_from_preset", injected_failure)
    client_secret = canaries.secret("idp-client-secret")
    bodies = [
        ("API canonical identity POST", "/api/identity-providers", canonical_body("crash-oidc", client_secret), None),
        ("API /api/idps POST", "/api/idps", public_body("crash-oauth", client_secret), None),
        (
            "API JSON:API POST",
            "/api/identity_providers",
            jsonapi_document("Crash JSON:API", client_secret, "crash.test"),
            "application/vnd.api+json",
        ),
    ]
    for label, path, body, media_type in bodies:
        if media_type:
            response = api.generic("POST", path, json.dumps(body), content_type=media_type, HTTP_ACCEPT=media_type)
        else:
            response = api.post(path, body, format="json")
        crashed(label, response, canaries.unique)
    monkeypatch.undo()

    # Test connection crashing on the way out (the secret is in the request headers by then).
    monkeypatch.setattr("providers.connection.fetch", injected_failure)
    crashed("API POST test", api.post(f"{PROVIDERS}/crash-gh/test"), canaries.unique)
    action = {"action": "test_connection", "confirmed": "yes", "_selected_action": [token_provider.pk], "index": "0"}
    crashed("admin test action", admin.post(reverse("admin:providers_provider_changelist"), action), canaries.unique)
    monkeypatch.undo()
    return crashes


def report_surfaces(crash: Crash, exc_info) -> list[tuple[str, str]]:
    surfaces = []
    for is_email in (False, True):
        reporter = ExceptionReporter(crash.request, *exc_info, is_email=is_email)
        kind = "mail" if is_email else "page"
        surfaces.append((f"{crash.label}: technical 500 text ({kind})", reporter.get_traceback_text()))
        surfaces.append((f"{crash.label}: technical 500 HTML ({kind})", reporter.get_traceback_html()))
    return surfaces


def test_exception_reports_hide_the_request_data(operator, httpserver, monkeypatch, caplog, settings):
    """The request part of a report (POST, body, META, cookies) of requests that carried secrets:
    the admin's sensitive_post_parameters() masks the form; an API request's JSON body is not in
    the report at all (DRF has consumed the stream, and the report lists POST/FILES/META only);
    the bearer API token is masked by Django's META cleansing."""
    assert settings.DEBUG is False  # the filters are only active with DEBUG off, as in production
    crashes = crash_requests(operator, httpserver, monkeypatch, caplog)

    assert len(crashes) == 9
    for crash in crashes:
        surfaces = report_surfaces(crash, fresh_exc_info())
        text = surfaces[0][1]
        assert "report check" in text and f"Request Method: {crash.request.method}" in text, text[:2000]
        if crash.label.startswith("admin"):
            assert "********************" in text, "the admin form's inputs should be masked"
        assert_no_leak(surfaces, crash.secrets)


def test_exception_reports_hide_secrets_in_frame_variables(operator, httpserver, monkeypatch, caplog, settings):
    assert settings.DEBUG is False
    crashes = crash_requests(operator, httpserver, monkeypatch, caplog)

    leaks = []
    for crash in crashes:
        reporter = ExceptionReporter(crash.request, *crash.exc_info)
        for frame in reporter.get_traceback_frames():
            for name, value in frame["vars"]:
                if find_leaks([("", repr(value))], crash.secrets):
                    leaks.append(f"{crash.label}: {frame['filename']}:{frame['lineno']} {frame['function']}() {name}")
        leaks += find_leaks(report_surfaces(crash, crash.exc_info), crash.secrets)
    assert not leaks, "secret in a technical 500 report:\n" + "\n".join(leaks)
