"""The "canary secret" proof for identity providers: a client secret never leaves the server.

Unique canary client secrets are stored through all three API dialects (canonical, `/api/idps`,
JSON:API), rotated, sent back masked and sent in failing requests; then every surface a person or
a log collector can see is searched for them: API bodies and headers, admin pages, admin history,
log records (SQL included) and the raw database. The API flows are in
tests/canary/identity_flows.py; the search comes from the shared
canary helpers (tests/canary/) so both proofs search the same way."""

import json
from uuid import uuid4

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.urls import NoReverseMatch, reverse

from accounts.roles import IDENTITY_VIEWERS
from providers.identity.services import SECRET_MASK
from providers.models import IdentityProvider, IdentityProviderMapper, Provider
from tests.canary.database import FERNET_PREFIX, all_table_rows, dump_leaks
from tests.canary.git_flows import AdminRun
from tests.canary.identity_flows import PUBLIC, IdentityFlow, new_canary, run_api_flow, stored_secret
from tests.canary.logs import assert_logs_hold_none_of, capture_all_logs, with_sql_logged
from tests.canary.search import admin_client, assert_no_leak, find_leaks, response_text
from tests.conftest import client_for
from tests.factories import UserFactory


def identity_admin_registered() -> bool:
    try:
        reverse("admin:providers_identityprovider_changelist")
    except NoReverseMatch:
        return False
    return True


def admin_form_data(response, **overrides) -> dict:
    """The POST body the browser would send back for an admin change or add page as rendered:
    every editable field of the form and its inlines with its current value."""
    forms = [response.context["adminform"].form]
    data: dict = {}
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
        forms += list(inline.formset.forms)
    for form in forms:
        for name, form_field in form.fields.items():
            if form_field.disabled:
                continue
            value = form[name].value()
            if isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            if value is not None and not isinstance(value, list):
                value = form_field.widget.format_value(value)
            data[form.add_prefix(name)] = "" if value is None else value
    data.update(overrides)
    data["_save"] = "Save"
    return data


def run_admin_flow(operator, flow: IdentityFlow) -> AdminRun:
    """Admin writes with canaries (when the identity-provider admin is registered), then every admin
    page that exists for the identity providers, as an operator and as a read-only viewer."""
    client = admin_client(operator)
    surfaces: list[tuple[str, str]] = []
    secrets = list(flow.secrets)

    def get(label: str, url: str, who=client, **params):
        response = who.get(url, params)
        assert response.status_code == 200, (label, response.status_code)
        surfaces.append((label, response_text(response)))
        return response

    def failed(label: str, response) -> None:
        assert response.status_code == 200 and response.context["adminform"].form.errors, (label, "should fail")
        surfaces.append((label, response_text(response)))

    if identity_admin_registered():
        identity = IdentityProvider.objects.get(provider__provider_id=flow.canonical)
        change_url = reverse("admin:providers_identityprovider_change", args=[identity.pk])
        page = get("admin identity provider change (before writes)", change_url)
        bad_url, bad_domain, bad_add, saved = (new_canary() for _ in range(4))
        secrets += [bad_url, bad_domain, bad_add, saved]
        failed(
            "admin change POST (invalid token URL + secret)",
            client.post(change_url, admin_form_data(page, client_secret=bad_url, token_url="not a url")),
        )
        failed(
            "admin change POST (invalid domain + secret)",
            client.post(change_url, admin_form_data(page, client_secret=bad_domain, domain_names="not a domain")),
        )
        response = client.post(change_url, admin_form_data(page, client_secret=SECRET_MASK, display_name="Masked"))
        assert response.status_code == 302, response.content[:2000]
        assert stored_secret(flow.canonical) == flow.rotated, "the mask typed into the admin must keep the secret"
        response = client.post(change_url, admin_form_data(page, client_secret=""))
        assert response.status_code == 302, response.content[:2000]
        assert stored_secret(flow.canonical) == flow.rotated, "a blank secret input must keep the secret"
        response = client.post(change_url, admin_form_data(page, client_secret=saved))
        assert response.status_code == 302, response.content[:2000]
        assert stored_secret(flow.canonical) == saved
        surfaces.append(("admin changelist after save", response_text(client.get(response["Location"]))))
        add_url = reverse("admin:providers_identityprovider_add")
        add_page = get("admin identity provider add", add_url)
        failed(
            "admin add POST (invalid issuer + secret)",
            client.post(
                add_url,
                admin_form_data(
                    add_page,
                    alias="canary-admin-add",
                    display_name="Canary admin add",
                    protocol="oidc",
                    client_id="admin-client",
                    client_secret=bad_add,
                    issuer="javascript:alert(1)",
                ),
            ),
        )
        assert not Provider.objects.filter(provider_id="canary-admin-add").exists()

    get("admin index (recent actions)", reverse("admin:index"))
    changelist = reverse("admin:providers_provider_changelist")
    get("admin provider changelist", changelist)
    get("admin provider changelist (search)", changelist, q="canary")
    for alias in flow.aliases:
        provider = Provider.objects.get(provider_id=alias)
        get(f"admin provider change {alias}", reverse("admin:providers_provider_change", args=[provider.pk]))
        get(f"admin provider history {alias}", reverse("admin:providers_provider_history", args=[provider.pk]))
    if not identity_admin_registered():
        return AdminRun(surfaces=surfaces, secrets=secrets)

    viewer = admin_client(UserFactory(username=f"viewer-{uuid4().hex[:6]}", groups=[IDENTITY_VIEWERS]))
    identity_changelist = reverse("admin:providers_identityprovider_changelist")
    get("admin identity provider changelist", identity_changelist)
    get("admin identity provider changelist (search)", identity_changelist, q="canary")
    get("admin identity provider changelist (viewer)", identity_changelist, who=viewer)
    for alias in flow.aliases:
        identity = IdentityProvider.objects.get(provider__provider_id=alias)
        for view in ("change", "history", "delete"):
            try:
                url = reverse(f"admin:providers_identityprovider_{view}", args=[identity.pk])
            except NoReverseMatch:
                continue
            get(f"admin identity provider {view} {alias}", url)
        get(
            f"admin identity provider change {alias} (viewer, read-only)",
            reverse("admin:providers_identityprovider_change", args=[identity.pk]),
            who=viewer,
        )
    return AdminRun(surfaces=surfaces, secrets=secrets)


def test_api_responses_never_contain_an_identity_secret(operator, fake_dns):
    flow = run_api_flow(operator, fake_dns)

    assert len(flow.surfaces) > 60
    assert_no_leak(flow.surfaces, flow.secrets)


def test_the_mask_sent_back_keeps_each_stored_secret(operator, fake_dns):
    flow = run_api_flow(operator, fake_dns)

    assert stored_secret(flow.canonical) == flow.rotated
    assert stored_secret(flow.public) == flow.public_secret
    assert stored_secret(flow.jsonapi) == flow.jsonapi_secret
    assert IdentityProvider.objects.get(provider__provider_id=flow.canonical).provider.label == "Canary OIDC (renamed)"


def test_public_list_shows_no_client_id(operator, fake_dns):
    flow = run_api_flow(operator, fake_dns)

    response = client_for(None).get(PUBLIC)

    assert response.status_code == 200
    text = response_text(response)
    names = [item["name"] for item in response.json()["providers"]]
    assert flow.canonical in names, "the canonical provider must be listed for this check to mean anything"
    client_ids = list(IdentityProvider.objects.values_list("client_id", flat=True))
    assert flow.canonical_client_id in client_ids
    assert not find_leaks([("public list", text)], [client_id for client_id in client_ids if client_id])
    for item in response.json()["providers"]:
        assert set(item) == {"id", "name", "type", "display_name", "enabled", "created_at"}


def test_admin_pages_never_contain_an_identity_secret(operator, fake_dns):
    flow = run_api_flow(operator, fake_dns)

    run = run_admin_flow(operator, flow)

    assert len(run.surfaces) >= 9
    assert_no_leak(run.surfaces, run.secrets)


@pytest.mark.skipif(not identity_admin_registered(), reason="no identity-provider admin registered")
def test_admin_change_form_never_loads_the_plaintext_secret(operator, fake_dns):
    flow = run_api_flow(operator, fake_dns)
    identity = IdentityProvider.objects.get(provider__provider_id=flow.canonical)

    response = admin_client(operator).get(reverse("admin:providers_identityprovider_change", args=[identity.pk]))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert_no_leak([("admin change form initial", repr(form.initial))], flow.secrets)
    assert_no_leak([("admin change form bound values", repr([bound.value() for bound in form]))], flow.secrets)


def test_history_entries_never_contain_an_identity_secret(operator, fake_dns):
    flow = run_api_flow(operator, fake_dns)

    entries = list(LogEntry.objects.all())

    assert {entry.object_repr for entry in entries} and len(entries) >= 8
    changes = [json.loads(entry.change_message) for entry in entries if entry.is_change()]
    assert any("client secret" in change[0]["changed"]["fields"] for change in changes)  # the rotation, by name
    surfaces = [(f"LogEntry #{entry.pk} object_repr", entry.object_repr) for entry in entries]
    surfaces += [(f"LogEntry #{entry.pk} change_message", entry.change_message) for entry in entries]
    surfaces += [(f"LogEntry #{entry.pk} message shown", str(entry.get_change_message())) for entry in entries]
    assert_no_leak(surfaces, flow.secrets)


def test_logs_never_contain_an_identity_secret(operator, fake_dns, caplog):
    capture_all_logs(caplog)

    run = with_sql_logged(lambda: run_admin_flow(operator, run_api_flow(operator, fake_dns)))

    assert_logs_hold_none_of(caplog, run.secrets, "providers_identityprovider")


def test_raw_identity_rows_hold_fernet_ciphertext_only(operator, fake_dns):
    flow = run_api_flow(operator, fake_dns)
    table = connection.ops.quote_name(IdentityProvider._meta.db_table)
    column = connection.ops.quote_name(IdentityProvider._meta.get_field("client_secret").column)

    for alias, secret in (
        (flow.canonical, flow.rotated),
        (flow.public, flow.public_secret),
        (flow.jsonapi, flow.jsonapi_secret),
    ):
        identity = IdentityProvider.objects.get(provider__provider_id=alias)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [identity.pk])
            (value,) = cursor.fetchone()
        raw = value.encode() if isinstance(value, str) else bytes(value)
        assert secret.encode() not in raw
        assert raw.startswith(FERNET_PREFIX), raw[:20]
        assert identity.client_secret == secret


def test_database_dump_never_contains_an_identity_secret(operator, fake_dns):
    flow = run_api_flow(operator, fake_dns)
    run = run_admin_flow(operator, flow)

    leaks = dump_leaks(run.secrets)

    assert not leaks, "secret found in the database:\n" + "\n".join(leaks)
    tables = {table for table, _ in all_table_rows()}
    assert {IdentityProvider._meta.db_table, IdentityProviderMapper._meta.db_table, LogEntry._meta.db_table} <= tables


SP_KEY_COLUMNS = tuple(name for name in IdentityProvider.SECRET_COLUMNS if name.startswith("sp_"))


def key_canaries(identity: IdentityProvider) -> list[str]:
    """A line from the middle of each stored SP private key (its base64 body): found anywhere, it
    is the key leaking, whichever of its lines a surface would carry."""
    canaries = []
    for column in SP_KEY_COLUMNS:
        lines = getattr(identity, column).strip().splitlines()
        canaries += [lines[len(lines) // 2], lines[1]]
    return canaries


def test_sp_private_keys_never_leave_the_server(operator, caplog):
    """Every SP private key column (current, next and the previous one kept after a rollover),
    through the API's rollover actions and every read that shows the identity provider."""
    from tests.factories import IdentityProviderFactory

    IdentityProviderFactory(saml=True, alias="corp-saml")
    api = client_for(operator)
    capture_all_logs(caplog)
    surfaces: list[tuple[str, str]] = []

    def collect():
        # current; next; next → current, current → previous; a refusal; next again.
        for action in ("generate", "generate", "activate_next", "forget_nothing", "generate", "generate"):
            response = api.post("/api/identity-providers/corp-saml/sp-keys", {"action": action}, format="json")
            surfaces.append((f"POST sp-keys {action} ({response.status_code})", response_text(response)))

    with_sql_logged(collect)
    identity = IdentityProvider.objects.get(provider__provider_id="corp-saml")
    assert all(getattr(identity, column) for column in SP_KEY_COLUMNS), "current, next and previous keys"
    secrets = key_canaries(identity)
    internal = identity.internal_id
    for path in (
        "/api/identity-providers/corp-saml/sp-keys",
        "/api/identity-providers/corp-saml",
        "/api/identity-providers/corp-saml?representation=keycloak",
        "/api/identity-providers",
        "/api/idps",
        f"/api/idps/{internal}",
        "/api/identity_providers",
        f"/api/identity_providers/{internal}",
        "/signin/default/corp-saml/saml/metadata",
        "/api/backend/audit-events",
    ):
        surfaces.append((f"GET {path}", response_text(api.get(path))))
    admin = admin_client(operator)
    for url in (
        reverse("admin:providers_identityprovider_change", args=[identity.pk]),
        reverse("admin:providers_identityprovider_history", args=[identity.pk]),
        reverse("admin:providers_identityprovider_changelist"),
    ):
        surfaces.append((f"admin {url}", response_text(admin.get(url))))
    surfaces.append(("history entries", json.dumps(list(LogEntry.objects.values_list("change_message", flat=True)))))

    assert_no_leak(surfaces, secrets)
    assert not find_leaks([("caplog.text", caplog.text)], secrets)
    assert not dump_leaks(secrets)
    table = connection.ops.quote_name(IdentityProvider._meta.db_table)
    for column in SP_KEY_COLUMNS:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s", [identity.pk])
            (value,) = cursor.fetchone()
        raw = value.encode() if isinstance(value, str) else bytes(value)
        assert raw.startswith(FERNET_PREFIX) and b"PRIVATE KEY" not in raw, column
