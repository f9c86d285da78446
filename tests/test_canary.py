"""The "canary secret" proof: a stored secret never leaves the server.

Unique canary values are stored as credentials through the API and the admin, then every surface
a person or a log collector can see is searched for them: API bodies and headers (successes and
errors), admin pages, admin history, log records (SQL included) and the raw database."""

import hashlib
import json
import logging
from dataclasses import dataclass, field
from uuid import uuid4

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken
from accounts.services import api_token_create
from providers.models import Credential, Project, Provider
from tests.bodies import git_provider_body
from tests.conftest import client_for
from tests.factories import ProjectFactory

PROVIDERS = "/api/backend/providers"
PROJECTS = "/api/backend/projects"
FERNET_PREFIX = b"gAAAAA"


def new_canary(kind: str) -> str:
    return f"canary-{kind}-{uuid4().hex}"


def find_leaks(surfaces: list[tuple[str, str]], secrets: list[str]) -> list[str]:
    """Every (surface, secret) pair where the secret shows, with a little context."""
    leaks = []
    for label, text in surfaces:
        for secret in secrets:
            index = text.find(secret)
            if index >= 0:
                context = text[max(0, index - 60) : index + len(secret) + 20].replace("\n", " ")
                leaks.append(f"{label}: …{context}…")
    return leaks


def assert_no_leak(surfaces: list[tuple[str, str]], secrets: list[str]) -> None:
    assert surfaces, "nothing was collected"
    assert all(secrets), "empty canary"
    leaks = find_leaks(surfaces, secrets)
    assert not leaks, "canary secret leaked on these surfaces:\n" + "\n".join(leaks)


def response_text(response) -> str:
    """Body plus every header, so a secret in a Location or a custom header is caught too."""
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return f"{headers}\n\n{body.decode('utf-8', errors='replace')}"


def token_body(provider_id: str, token: str, **overrides) -> dict:
    body = git_provider_body(
        provider_id, label=f"Canary GitHub {provider_id}", urls={"baseUrl": "", "apiBase": ""}, token=token
    )
    return {**body, **overrides}


def user_pass_body(provider_id: str, password: str, **overrides) -> dict:
    gitlab = "https://gitlab.canary.test"
    body = git_provider_body(
        provider_id,
        label=f"Canary GitLab {provider_id}",
        type="gitlab",
        urls={"base": gitlab, "apiBase": f"{gitlab}/api/v4"},
        credentials={"type": "userPass", "content": {"userName": "svc-ci", "password": password}},
    )
    return {**body, **overrides}


@dataclass
class Flow:
    """What one run of the API flow stored and what every response looked like."""

    token_provider: str
    user_pass_provider: str
    project: str
    first_token: str
    password: str
    rotated_token: str
    rejected: list[str]
    surfaces: list[tuple[str, str]] = field(default_factory=list)

    @property
    def secrets(self) -> list[str]:
        return [self.first_token, self.password, self.rotated_token, *self.rejected]


def run_api_flow(operator) -> Flow:
    """Create, rotate, fail and read through the API as an operator (bearer token)."""
    client = client_for(operator)
    suffix = uuid4().hex[:8]
    flow = Flow(
        token_provider=f"canary-gh-{suffix}",
        user_pass_provider=f"canary-gl-{suffix}",
        project=f"canary-project-{suffix}",
        first_token=new_canary("token"),
        password=new_canary("password"),
        rotated_token=new_canary("rotated"),
        rejected=[new_canary(f"rejected{n}") for n in range(12)],
    )
    surfaces = flow.surfaces
    rejected = iter(flow.rejected)

    def record(label: str, response, expected: int) -> None:
        assert response.status_code == expected, (label, response.status_code, response.content[:500])
        surfaces.append((label, response_text(response)))

    token_url = f"{PROVIDERS}/{flow.token_provider}"
    user_pass_url = f"{PROVIDERS}/{flow.user_pass_provider}"

    # Writes that succeed.
    record("POST provider (token)", client.post(PROVIDERS, token_body(flow.token_provider, flow.first_token)), 201)
    record(
        "POST provider (userPass)", client.post(PROVIDERS, user_pass_body(flow.user_pass_provider, flow.password)), 201
    )
    rotate = {
        "label": "Canary GitHub (rotated)",
        "credentials": {"type": "token", "content": {"accessToken": flow.rotated_token}},
    }
    record("PATCH provider (rotate credentials)", client.patch(token_url, rotate), 200)

    # Writes that fail while carrying a secret.
    record(
        "POST invalid URL",
        client.post(PROVIDERS, token_body("canary-bad-url", next(rejected), urls={"base": "not a url"})),
        400,
    )
    record("POST duplicate id", client.post(PROVIDERS, token_body(flow.token_provider, next(rejected))), 409)
    extra = token_body("canary-extra", "unused")
    extra["credentials"]["content"] = {"accessToken": next(rejected), "extra": "x"}
    record("POST unknown content field", client.post(PROVIDERS, extra), 400)
    wrong_type = token_body("canary-wrong-type", "unused")
    wrong_type["credentials"] = {"type": "userPass", "content": {"accessToken": next(rejected)}}
    record("POST content of another credential type", client.post(PROVIDERS, wrong_type), 400)
    not_string = token_body("canary-not-string", "unused")
    not_string["credentials"]["content"] = {"accessToken": [next(rejected)]}
    record("POST non-string secret", client.post(PROVIDERS, not_string), 400)
    not_object = token_body("canary-not-object", "unused")
    not_object["credentials"]["content"] = next(rejected)
    record("POST content not an object", client.post(PROVIDERS, not_object), 400)
    too_long = token_body("canary-too-long", next(rejected) + "x" * 16_400)
    record("POST over-long secret", client.post(PROVIDERS, too_long), 400)
    malformed = json.dumps(token_body("canary-malformed", next(rejected)))[:-2]
    record("POST malformed JSON", client.generic("POST", PROVIDERS, malformed, content_type="application/json"), 400)
    record(
        "PATCH new URLs + invalid credential type",
        client.patch(
            user_pass_url,
            {
                "urls": {"base": "https://gitlab.elsewhere.test", "apiBase": "https://gitlab.elsewhere.test/api/v4"},
                "credentials": {"type": "sshKey", "content": {"password": next(rejected)}},
            },
        ),
        400,
    )
    record(
        "PATCH id change + credentials",
        client.patch(
            token_url, {"id": "renamed", "credentials": {"type": "token", "content": {"accessToken": next(rejected)}}}
        ),
        400,
    )
    record(
        "PATCH invalid URL + credentials",
        client.patch(
            token_url,
            {
                "urls": {"apiBase": "ftp://x"},
                "credentials": {"type": "token", "content": {"accessToken": next(rejected)}},
            },
        ),
        400,
    )
    record(
        "PATCH unknown top-level field",
        client.patch(token_url, {"accessToken": next(rejected)}),
        400,
    )

    # A project linked to the token provider, then reads of everything.
    ProjectFactory(project_id=flow.project, owners=[operator])
    project_url = f"{PROJECTS}/{flow.project}"
    record(
        "PATCH project (link provider)",
        client.patch(project_url, {"repository": {"providerId": flow.token_provider, "path": "acme/canary"}}),
        200,
    )
    record("DELETE linked provider", client.delete(token_url), 409)

    for query in (
        "",
        "?type=github",
        "?type=gitlab",
        "?capability=git",
        "?enabled=true",
        "?search=canary",
        f"?search={flow.token_provider}",
        "?page_size=1",
    ):
        record(f"GET providers{query}", client.get(f"{PROVIDERS}{query}"), 200)
    record("GET provider detail (token)", client.get(token_url), 200)
    record("GET provider detail (userPass)", client.get(user_pass_url), 200)
    record("GET projects", client.get(PROJECTS), 200)
    record("GET projects?providerId", client.get(PROJECTS, {"providerId": flow.token_provider}), 200)
    record("GET project detail", client.get(project_url), 200)
    record("OPTIONS providers", client.options(PROVIDERS), 200)
    record("OPTIONS provider detail", client.options(token_url), 200)
    record("OPTIONS projects", client.options(PROJECTS), 200)
    record("OPTIONS project detail", client.options(project_url), 200)
    record("GET /api/schema/", client.get("/api/schema/"), 200)

    # Sanity: the secrets really are stored (the proof would be empty otherwise).
    stored = Credential.objects.get(provider__provider_id=flow.token_provider)
    assert json.loads(stored.secret) == {"accessToken": flow.rotated_token}
    stored = Credential.objects.get(provider__provider_id=flow.user_pass_provider)
    assert json.loads(stored.secret) == {"userName": "svc-ci", "password": flow.password}
    assert (
        not Provider.objects.filter(provider_id__startswith="canary-")
        .exclude(provider_id__in=[flow.token_provider, flow.user_pass_provider])
        .exists()
    )
    return flow


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def admin_change_data(provider: Provider, **overrides) -> dict:
    data = {
        "label": provider.label,
        "description": provider.description,
        "type": provider.type,
        "enabled": "on",
        "base_url": provider.base_url,
        "api_base_url": provider.api_base_url,
        "credential_type": "",
        "access_token": "",
        "user_name": "",
        "password": "",
        "_save": "Save",
    }
    data.update(overrides)
    return data


@dataclass
class AdminRun:
    surfaces: list[tuple[str, str]]
    secrets: list[str]


def run_admin_flow(operator, flow: Flow) -> AdminRun:
    """Failed and successful admin writes with canaries, then every admin page for the data."""
    client = admin_client(operator)
    surfaces: list[tuple[str, str]] = []
    token_provider = Provider.objects.get(provider_id=flow.token_provider)
    user_pass_provider = Provider.objects.get(provider_id=flow.user_pass_provider)
    project = Project.objects.get(project_id=flow.project)
    failed_token, failed_password, failed_add, saved_token = (new_canary(f"admin{n}") for n in range(4))

    def get(label: str, url: str, **params):
        response = client.get(url, params)
        assert response.status_code == 200, (label, response.status_code)
        surfaces.append((label, response_text(response)))
        return response

    # Writes through the admin form.
    change_url = reverse("admin:providers_provider_change", args=[user_pass_provider.pk])
    response = client.post(
        change_url,
        admin_change_data(user_pass_provider, base_url="not a url", credential_type="token", access_token=failed_token),
    )
    assert response.status_code == 200 and response.context["adminform"].form.errors, "the form should fail"
    surfaces.append(("admin change POST (invalid URL + token)", response_text(response)))
    response = client.post(
        change_url, admin_change_data(user_pass_provider, credential_type="userPass", password=failed_password)
    )
    assert response.status_code == 200 and response.context["adminform"].form.errors, "the form should fail"
    surfaces.append(("admin change POST (password without user name)", response_text(response)))
    add_data = admin_change_data(
        user_pass_provider,
        api_base_url="javascript:alert(1)",
        credential_type="token",
        access_token=failed_add,
    )
    add_data["provider_id"] = "canary-admin-add"
    response = client.post(reverse("admin:providers_provider_add"), add_data)
    assert response.status_code == 200 and response.context["adminform"].form.errors, "the form should fail"
    surfaces.append(("admin add POST (invalid API URL + token)", response_text(response)))
    assert not Provider.objects.filter(provider_id="canary-admin-add").exists()

    token_change_url = reverse("admin:providers_provider_change", args=[token_provider.pk])
    response = client.post(
        token_change_url, admin_change_data(token_provider, credential_type="token", access_token=saved_token)
    )
    assert response.status_code == 302, response.content[:2000]
    assert json.loads(Credential.objects.get(provider=token_provider).secret) == {"accessToken": saved_token}
    response = client.get(response["Location"])  # the changelist with the success message
    surfaces.append(("admin changelist after save", response_text(response)))

    # Every page showing the data.
    index = get("admin index (recent actions)", reverse("admin:index"))
    assert flow.token_provider in index.content.decode(), "the recent actions should list the API's changes"
    get("admin providers app index", reverse("admin:app_list", args=["providers"]))
    changelist = reverse("admin:providers_provider_changelist")
    get("admin provider changelist", changelist)
    get("admin provider changelist (search by id)", changelist, q=flow.token_provider)
    get("admin provider changelist (filtered)", changelist, credential__type__exact="token")
    for provider in (token_provider, user_pass_provider):
        get(
            f"admin provider change {provider.provider_id}",
            reverse("admin:providers_provider_change", args=[provider.pk]),
        )
        get(
            f"admin provider history {provider.provider_id}",
            reverse("admin:providers_provider_history", args=[provider.pk]),
        )
        get(
            f"admin provider delete {provider.provider_id}",
            reverse("admin:providers_provider_delete", args=[provider.pk]),
        )
    get("admin provider add", reverse("admin:providers_provider_add"))
    get("admin project changelist", reverse("admin:providers_project_changelist"))
    get("admin project change", reverse("admin:providers_project_change", args=[project.pk]))
    get("admin project history", reverse("admin:providers_project_history", args=[project.pk]))
    get("admin project delete", reverse("admin:providers_project_delete", args=[project.pk]))
    get(
        "admin provider autocomplete",
        reverse("admin:autocomplete"),
        term="canary",
        app_label="providers",
        model_name="project",
        field_name="provider",
    )
    get("admin API token changelist", reverse("admin:accounts_apitoken_changelist"))

    return AdminRun(surfaces=surfaces, secrets=[*flow.secrets, failed_token, failed_password, failed_add, saved_token])


def all_table_rows():
    """Every row of every table, as (table, row), like a database dump."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                yield table, row


def dump_leaks(secrets: list[str]) -> list[str]:
    leaks = []
    encoded = [(secret, secret.encode()) for secret in secrets]
    for table, row in all_table_rows():
        as_text = str(row)
        for secret, raw in encoded:
            if secret in as_text:
                leaks.append(f"{table}: {as_text[:200]}")
            for value in row:
                if isinstance(value, (bytes, bytearray, memoryview)) and raw in bytes(value):
                    leaks.append(f"{table} (binary column): {bytes(value)[:80]!r}")
    return leaks


def capture_all_logs(caplog) -> None:
    """DEBUG for the root logger and for every logger that sets its own level (Django's
    `django` logger is INFO by default, which would hide SQL and template debug records)."""
    caplog.set_level(logging.DEBUG)
    names = {"django", "django.db.backends", "django.request", "django.template", "django.security", "py.warnings"}
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level > logging.DEBUG:
            names.add(name)
    for name in sorted(names):
        caplog.set_level(logging.DEBUG, logger=name)


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


def with_sql_logged(flows):
    """Run `flows()` with every SQL statement logged (as DEBUG does), and return what it returns."""
    previous = connection.force_debug_cursor
    connection.force_debug_cursor = True
    try:
        return flows()
    finally:
        connection.force_debug_cursor = previous


def assert_logs_hold_none_of(caplog, secrets: list[str], table: str) -> None:
    """The logs captured saw the SQL writing `table` (ciphertext there is fine) and the 4xx answers,
    and none of `secrets` is in their text or in any record's attributes."""
    sql_records = [record for record in caplog.records if record.name == "django.db.backends"]
    assert any(table in record.getMessage() for record in sql_records)
    assert any(record.name == "django.request" for record in caplog.records)
    surfaces = [("caplog.text", caplog.text)]
    # Structured handlers (JSON logs) also ship a record's extra attributes (`sql`, `params`, …).
    surfaces += [(f"log record {record.name} attributes", str(vars(record))) for record in caplog.records]
    # SQLite's SQL log shows binary parameters as X'<hex>': an unencrypted blob would hide there.
    hexed = [variant for secret in secrets for variant in (secret.encode().hex(), secret.encode().hex().upper())]
    assert_no_leak(surfaces, [*secrets, *hexed])


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
