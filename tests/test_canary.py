"""The "canary secret" proof: a stored secret never leaves the server.

Unique canary values are stored as credentials through the API and the admin, then every surface
a person or a log collector can see is searched for them: API bodies and headers (successes and
errors), admin pages, admin history, log records (SQL included) and the raw database.

The flows are in tests/canary/git_flows.py, the search in tests/canary/ (search, database, logs)."""

import hashlib
import json

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.urls import reverse

from accounts.models import ApiToken
from accounts.services import api_token_create
from providers.models import Credential, Provider
from tests.canary.database import FERNET_PREFIX, all_table_rows, dump_leaks
from tests.canary.git_flows import PROVIDERS, admin_change_data, run_admin_flow, run_api_flow
from tests.canary.logs import assert_logs_hold_none_of, capture_all_logs, with_sql_logged
from tests.canary.search import admin_client, assert_no_leak, find_leaks, new_canary, response_text
from tests.conftest import client_for


def test_leak_helper_names_the_surface():
    secret = new_canary("helper")
    leaks = find_leaks([("clean", "nothing here"), ("dirty", f"x {secret} y")], [secret])
    assert len(leaks) == 1 and leaks[0].startswith("dirty:")
    with pytest.raises(AssertionError, match="dirty"):
        assert_no_leak([("dirty", secret)], [secret])


def test_api_responses_never_contain_a_stored_or_rejected_secret(operator):
    flow = run_api_flow(operator)

    assert len(flow.surfaces) > 30
    assert_no_leak(flow.surfaces, flow.secrets)


def test_searching_by_a_secret_finds_nothing(operator):
    """A search is the caller's own input, so it may show in that one answer (the admin's search
    box echoes it, the SQL log holds it): each search is checked for every *other* secret, and its
    results must not include the provider holding the searched secret."""
    flow = run_api_flow(operator)
    run = run_admin_flow(operator, flow)
    api, admin = client_for(operator), admin_client(operator)
    changelist = reverse("admin:providers_provider_changelist")

    for secret in run.secrets:
        others = [other for other in run.secrets if other != secret]
        response = api.get(PROVIDERS, {"search": secret})
        assert response.status_code == 200
        assert response.json()["results"] == [], "the API search must not look into credentials"
        assert_no_leak([("GET providers?search=<secret>", response_text(response))], run.secrets)
        response = admin.get(changelist, {"q": secret})
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [], "the admin search must not look into credentials"
        assert_no_leak([("admin provider changelist ?q=<secret>", response_text(response))], others)


def test_api_reads_show_credential_metadata_only(operator):
    flow = run_api_flow(operator)
    client = client_for(operator)

    body = client.get(f"{PROVIDERS}/{flow.user_pass_provider}").json()

    assert set(body["credentials"]) == {"type", "set", "fingerprint", "updatedAt", "expiresAt"}
    assert body["credentials"]["type"] == "userPass"
    assert "svc-ci" not in json.dumps(body)  # not even the non-secret user name is read back


def test_admin_pages_never_contain_a_secret(operator):
    flow = run_api_flow(operator)

    run = run_admin_flow(operator, flow)

    assert_no_leak(run.surfaces, run.secrets)


def test_admin_failed_form_does_not_render_secret_inputs(operator):
    flow = run_api_flow(operator)
    provider = Provider.objects.get(provider_id=flow.user_pass_provider)
    client = admin_client(operator)
    token, password = new_canary("form-token"), new_canary("form-password")
    url = reverse("admin:providers_provider_change", args=[provider.pk])

    response = client.post(
        url,
        admin_change_data(
            provider, base_url="https://", credential_type="userPass", user_name="svc-new", password=password
        ),
    )
    also = client.post(
        url, admin_change_data(provider, base_url="not a url", credential_type="token", access_token=token)
    )

    for label, page in (("userPass form", response), ("token form", also)):
        assert page.status_code == 200, label
        form = page.context["adminform"].form
        assert "base_url" in form.errors, (label, form.errors)
        html = page.content.decode()
        assert 'name="password"' in html and 'name="access_token"' in html
        assert_no_leak([(f"admin re-rendered {label}", html)], [token, password])
    # Nothing was saved by the failed forms.
    assert json.loads(Credential.objects.get(provider=provider).secret)["password"] == flow.password


def test_history_entries_never_contain_a_secret(operator):
    flow = run_api_flow(operator)
    run = run_admin_flow(operator, flow)

    entries = list(LogEntry.objects.all())

    providers = {flow.token_provider, flow.user_pass_provider}
    assert {entry.object_repr.rsplit("(", 1)[-1].rstrip(")") for entry in entries} >= providers
    changes = [json.loads(entry.change_message) for entry in entries if entry.is_change()]
    assert [{"changed": {"fields": ["label", "credentials"]}}] in changes  # API rotation: names only
    assert [{"changed": {"fields": ["credentials"]}}] in changes  # admin rotation
    surfaces = [(f"LogEntry #{entry.pk} object_repr", entry.object_repr) for entry in entries]
    surfaces += [(f"LogEntry #{entry.pk} change_message", entry.change_message) for entry in entries]
    surfaces += [(f"LogEntry #{entry.pk} message shown", str(entry.get_change_message())) for entry in entries]
    assert_no_leak(surfaces, run.secrets)


def test_logs_never_contain_a_secret(operator, caplog):
    capture_all_logs(caplog)

    run = with_sql_logged(lambda: run_admin_flow(operator, run_api_flow(operator)))

    assert_logs_hold_none_of(caplog, run.secrets, "providers_credential")


def test_raw_credential_row_holds_fernet_ciphertext_only(operator):
    flow = run_api_flow(operator)
    table = connection.ops.quote_name(Credential._meta.db_table)
    column = connection.ops.quote_name(Credential._meta.get_field("secret").column)

    for provider_id, secret, content in (
        (flow.token_provider, flow.rotated_token, {"accessToken": flow.rotated_token}),
        (flow.user_pass_provider, flow.password, {"userName": "svc-ci", "password": flow.password}),
    ):
        credential = Credential.objects.get(provider__provider_id=provider_id)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [credential.pk])
            (value,) = cursor.fetchone()
        raw = bytes(value)
        assert secret.encode() not in raw
        assert b"svc-ci" not in raw
        assert raw.startswith(FERNET_PREFIX), raw[:20]
        assert json.loads(credential.secret) == content
    # The replaced token is gone for good, not kept next to the new one.
    assert not dump_leaks([flow.first_token])


def test_database_dump_never_contains_a_secret(operator):
    flow = run_api_flow(operator)
    run = run_admin_flow(operator, flow)
    _, raw_api_token = api_token_create(user=operator, name="dump check")

    leaks = dump_leaks([*run.secrets, raw_api_token])

    assert not leaks, "secret found in the database:\n" + "\n".join(leaks)
    tables = {table for table, _ in all_table_rows()}
    assert {Credential._meta.db_table, LogEntry._meta.db_table, ApiToken._meta.db_table} <= tables


def test_api_token_raw_value_is_not_stored(operator):
    token, raw = api_token_create(user=operator, name="canary token")
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert client.get(PROVIDERS).status_code == 200

    token.refresh_from_db()
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:10] and len(token.prefix) == 10
    for row in ApiToken.objects.values():
        assert len(row["key_hash"]) == 64 and int(row["key_hash"], 16) >= 0
        assert len(row["prefix"]) == 10
    assert raw not in str(list(ApiToken.objects.values()))
    leaks = dump_leaks([raw, raw[10:]])
    assert not leaks, "raw API token found in the database:\n" + "\n".join(leaks)
