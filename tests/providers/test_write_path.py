"""The SQL statements each provider write sends, counted as bench/middleware.py counts them: every
statement through a cursor, savepoints included, transaction control not (psycopg opens and
commits PostgreSQL's transactions itself; SQLite's backend sends its BEGIN as a statement, which is
left out here so both databases give the same list).
The bench floor (bench/floor.py) writes the same rows with bare Django; the product may send one
statement more, the API token's lookup.

The tests run outside a test transaction (`transaction=True`), so each service's transaction is
the outermost one, as in production, and no test savepoint is counted. The token's last-used
stamp is written at most once a minute, as in production (the suite's settings write it on every
request)."""

import json
import re

import pytest
from cryptography.fernet import Fernet
from django.contrib.admin.models import LogEntry
from django.db import connection, transaction

from providers import services
from providers.models import AuditEvent, Credential, CredentialVersion, Project, Provider
from tests.bodies import git_provider_body
from tests.factories import ProjectFactory, ProviderFactory

PROVIDERS = "/api/backend/providers"
# The suite's groups and permissions come from migrations: restored after each flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TOKEN = "SELECT accounts_apitoken"  # the token, its user and the user's permissions, in one query
READ = "SELECT providers_provider"  # the response: the provider's row with its credential metadata


def create_body(provider_id: str = "acme", token: str = "ghp-first") -> dict:
    return git_provider_body(provider_id, label="ACME", token=token)


def statement(sql: str) -> str:
    """`INSERT INTO "providers_provider" …` → "INSERT providers_provider": the statement's own
    table, not one of its subqueries'."""
    outer = sql
    while (inner := re.sub(r"\([^()]*\)", "", outer)) != outer:
        outer = inner
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', outer)
    return f"{sql.split()[0]} {table.group(1) if table else ''}".strip()


def statements(send) -> tuple[object, list[str], list[str]]:
    sent: list[str] = []

    def record(execute, sql, params, many, context):
        if not sql.startswith("BEGIN"):  # BEGIN, or BEGIN IMMEDIATE (config/settings/base.py)
            sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = send()
    return response, [statement(sql) for sql in sent], sent


@pytest.fixture
def client(operator_client, settings):
    """The operator's client, warmed up: the token's last-used stamp and the content type cache
    (admin history entries) are what a running server already has."""
    settings.API_TOKEN_LAST_USED_RESOLUTION = 60
    assert operator_client.post(PROVIDERS, create_body("warm-up"), format="json").status_code == 201
    return operator_client


def test_create_with_credentials_sends_six_statements(client):
    response, sent, raw = statements(lambda: client.post(PROVIDERS, create_body(), format="json"))

    assert response.status_code == 201, response.content
    assert sent == [
        TOKEN,
        "INSERT providers_provider",  # no lookup first: the unique constraint refuses a taken id
        "INSERT providers_credential",
        "INSERT django_admin_log",  # the content type comes from its cache
        "INSERT providers_auditevent",
        READ,
    ], raw
    provider = Provider.objects.get(provider_id="acme")
    assert services.credential_content(provider=provider) == {"accessToken": "ghp-first"}
    assert LogEntry.objects.filter(object_id=str(provider.pk)).count() == 1
    assert list(AuditEvent.objects.filter(object_id="acme").values_list("action", flat=True)) == ["create"]
    assert not any("ghp-first" in sql for sql in raw)  # the secret is sent encrypted only


def test_patch_of_a_label_sends_six_statements(client):
    client.post(PROVIDERS, create_body(), format="json")

    response, sent, raw = statements(lambda: client.patch(f"{PROVIDERS}/acme", {"label": "New"}, format="json"))

    assert response.status_code == 200, response.content
    assert response.json()["label"] == "New"
    assert sent == [
        TOKEN,
        "SELECT providers_provider",  # found by its id and locked (FOR UPDATE): If-Match, the rules
        "UPDATE providers_provider",
        "INSERT django_admin_log",
        "INSERT providers_auditevent",
        READ,
    ], raw
    if connection.vendor == "postgresql":
        assert raw[1].endswith("FOR UPDATE")


def test_patch_with_new_credentials_sends_eleven_statements(client):
    client.post(PROVIDERS, create_body(), format="json")
    body = {"credentials": {"type": "token", "content": {"accessToken": "ghp-second"}}}

    response, sent, raw = statements(lambda: client.patch(f"{PROVIDERS}/acme", body, format="json"))

    assert response.status_code == 200, response.content
    assert sent == [
        TOKEN,
        "SELECT providers_provider",
        "UPDATE providers_provider",
        "SELECT providers_credential",  # the current credentials with their content, in one read
        "INSERT providers_credentialversion",  # they become a version (set_by taken as an id)
        "DELETE providers_credentialversion",  # versions past the rollback window
        "UPDATE providers_credential",  # the row just read, updated in place
        "INSERT providers_auditevent",  # rotate
        "INSERT django_admin_log",
        "INSERT providers_auditevent",  # update
        READ,
    ], raw
    provider = Provider.objects.get(provider_id="acme")
    assert services.credential_content(provider=provider) == {"accessToken": "ghp-second"}
    version = CredentialVersion.objects.get(provider=provider)
    assert json.loads(version.secret) == {"accessToken": "ghp-first"}
    assert version.set_by is not None and version.replaced_by == version.set_by
    assert list(AuditEvent.objects.filter(object_id="acme").order_by("id").values_list("action", flat=True)) == [
        "create",
        "rotate",
        "update",
    ]
    assert not any(token in sql for sql in raw for token in ("ghp-first", "ghp-second"))


@pytest.mark.parametrize(
    ("credentials", "named"),
    [({}, ["credentials.type", "credentials.content"]), ({"content": {"accessToken": "t"}}, ["credentials.type"])],
    ids=["empty", "without-type"],
)
def test_patch_with_partial_credentials_is_400_naming_what_is_missing(client, credentials, named):
    client.post(PROVIDERS, create_body(), format="json")

    response = client.patch(f"{PROVIDERS}/acme", {"credentials": credentials}, format="json")

    assert response.status_code == 400, response.content
    assert {name: response.json()[name] for name in named} == {name: ["This field is required."] for name in named}
    assert services.credential_content(provider=Provider.objects.get(provider_id="acme")) == {
        "accessToken": "ghp-first"
    }


def test_patch_of_an_unknown_provider_is_404_and_writes_nothing(client):
    before = {model: model.objects.count() for model in (Provider, LogEntry, AuditEvent)}

    response = client.patch(f"{PROVIDERS}/nobody", {"label": "New"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert {model: model.objects.count() for model in before} == before


def test_duplicate_id_is_409_from_the_constraint_and_writes_nothing(client):
    client.post(PROVIDERS, create_body(), format="json")
    before = {model: model.objects.count() for model in (Provider, Credential, LogEntry, AuditEvent)}

    response, sent, raw = statements(lambda: client.post(PROVIDERS, create_body(token="ghp-duplicate"), format="json"))

    message = "A provider with id “acme” already exists."
    assert response.status_code == 409
    assert response.json() == {"detail": message, "id": [message]}
    assert sent == [TOKEN, "INSERT providers_provider"], raw
    assert {model: model.objects.count() for model in before} == before
    assert "ghp-duplicate" not in response.content.decode()


def test_duplicate_id_inside_an_outer_transaction_leaves_it_usable(operator):
    """The admin and imports call the service inside their own transaction: the refused INSERT is
    rolled back to the service's savepoint, and the caller's transaction goes on (on PostgreSQL a
    failed statement would otherwise abort it)."""
    arguments = {
        "actor": operator,
        "provider_id": "acme",
        "label": "ACME",
        "type": "github",
        "credentials": services.CredentialInput("token", {"accessToken": "t"}),
    }
    services.provider_create(**arguments)

    with transaction.atomic():
        with pytest.raises(services.ConflictError) as refused:
            services.provider_create(**arguments)
        ProviderFactory(provider_id="after-the-conflict")

    assert refused.value.field == "provider_id"
    assert set(Provider.objects.values_list("provider_id", flat=True)) == {"acme", "after-the-conflict"}


def test_rotation_replaces_credentials_no_key_decrypts_without_keeping_them(client):
    client.post(PROVIDERS, create_body(), format="json")
    provider = Provider.objects.get(provider_id="acme")
    lost = Fernet(Fernet.generate_key()).encrypt(b'{"accessToken": "ghp-lost"}')
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Credential._meta.db_table} SET secret = %s WHERE provider_id = %s", [lost, provider.pk]
        )
    body = {"credentials": {"type": "token", "content": {"accessToken": "ghp-new"}}}

    response = client.patch(f"{PROVIDERS}/acme", body, format="json")

    assert response.status_code == 200, response.content
    assert services.credential_content(provider=provider) == {"accessToken": "ghp-new"}
    assert not CredentialVersion.objects.filter(provider=provider).exists()
    assert AuditEvent.objects.filter(object_id="acme", action="rotate").exists()


def test_a_taken_project_id_is_a_conflict_from_the_constraint_and_the_first_project_stays(operator):
    services.project_create(actor=operator, project_id="shop", name="Shop")

    with transaction.atomic():
        sent: list[str] = []
        with (
            connection.execute_wrapper(lambda execute, sql, *args: sent.append(sql) or execute(sql, *args)),
            pytest.raises(services.ConflictError) as refused,
        ):
            services.project_create(actor=operator, project_id="shop", name="Another shop")
        ProviderFactory(provider_id="after-the-conflict")  # the caller's transaction goes on

    assert refused.value.field == "project_id"
    assert refused.value.message == "A project with id “shop” already exists."
    assert not any(sql.startswith("SELECT") and "providers_project" in sql for sql in sent)  # no lookup first
    assert Project.objects.get(project_id="shop").name == "Shop"


def test_patch_of_a_project_reads_its_provider_with_the_lock(client):
    ProjectFactory(project_id="shop", provider=ProviderFactory(provider_id="gh"))

    response, sent, raw = statements(
        lambda: client.patch("/api/backend/projects/shop", {"description": "d"}, format="json")
    )

    assert response.status_code == 200, response.content
    assert sent == [
        TOKEN,
        "SELECT providers_project",  # the view's lookup (visibility, 404)
        "SELECT accounts_user",  # its owners (the field rules)
        "SELECT providers_project",  # locked, with its provider for the workspace rule
        "SELECT providers_provider",  # the provider is still a git provider (the field's limit)
        "UPDATE providers_project",
        "INSERT django_admin_log",
        "INSERT providers_auditevent",
        "SELECT providers_project",  # the response's row
        "SELECT providers_project_owners",
    ], raw
