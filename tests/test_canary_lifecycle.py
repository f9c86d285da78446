"""The "canary secret" proof for the credential lifecycle: a stored secret never leaves the server.

Credentials of every type (token, userPass, oauth2ClientCredentials, githubApp) hold unique canary
secrets; they are created, rotated and rolled back through the API and the admin, tested against a
local provider that quotes back every credential it is sent and listed in the audit log. Every
surface a person or a log collector can see is searched for them. The key commands and
undecryptable secrets (test_canary_key_commands.py) and Django's technical 500 reports
(test_canary_exception_reports.py) have their own proofs. The flows come from
tests/canary/lifecycle_flows.py, the search from tests/canary/ so all canary proofs search the same
way."""

import json

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.urls import reverse

from providers.models import AuditEvent, Credential, CredentialVersion, Provider
from tests.canary.database import FERNET_PREFIX, all_table_rows, dump_leaks
from tests.canary.lifecycle_flows import (
    ADMIN_PROVIDERS,
    API_PROVIDERS,
    ECHO_MODES,
    ROTATIONS,
    Canaries,
    EchoProvider,
    Lifecycle,
    admin_form,
    in_days,
    run_api_flow,
)
from tests.canary.logs import capture_all_logs
from tests.canary.search import admin_client, assert_no_leak, find_leaks, response_text
from tests.conftest import client_for

AUDIT = "/api/backend/audit-events"


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
