"""The "canary secret" proof for identity providers: a client secret never leaves the server.

Unique canary client secrets are stored through all three API dialects (canonical, `/api/idps`,
JSON:API), rotated, sent back masked and sent in failing requests; then every surface a person or
a log collector can see is searched for them: API bodies and headers, admin pages, admin history,
log records (SQL included) and the raw database. The helpers come from the git-provider canary
(tests/test_canary.py) so both proofs search the same way."""

import json
from dataclasses import dataclass, field
from uuid import uuid4

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.urls import NoReverseMatch, reverse

from accounts.roles import IDENTITY_VIEWERS
from providers.identity.services import SECRET_MASK
from providers.models import IdentityProvider, IdentityProviderMapper, Provider
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.test_canary import (
    FERNET_PREFIX,
    AdminRun,
    admin_client,
    all_table_rows,
    assert_logs_hold_none_of,
    assert_no_leak,
    capture_all_logs,
    dump_leaks,
    find_leaks,
    response_text,
    with_sql_logged,
)

IDPS = "/api/identity-providers"
PUBLIC = "/api/idps"
JSONAPI = "/api/identity_providers"
BACKEND = "/api/backend/providers"
JSONAPI_TYPE = "application/vnd.api+json"


def new_canary() -> str:
    return f"canary-client-secret-{uuid4().hex}"


def canonical_body(alias: str, secret: str, **overrides) -> dict:
    body = {
        "alias": alias,
        "display_name": f"Canary OIDC {alias}",
        "provider_id": "oidc",
        "enabled": True,
        "oidc_config": {
            "issuer": "https://sso.canary.test/realms/main",
            "authorization_url": "https://sso.canary.test/realms/main/protocol/openid-connect/auth",
            "token_url": "https://sso.canary.test/realms/main/protocol/openid-connect/token",
            "user_info_url": "https://sso.canary.test/realms/main/protocol/openid-connect/userinfo",
            "client_id": f"client-id-{alias}",
            "client_secret": secret,
            "default_scope": "openid email profile",
        },
        "mappers": [
            {
                "name": "email",
                "identity_provider_mapper": "oidc-user-attribute-idp-mapper",
                "config": {"claim": "email", "user_attribute": "email"},
            }
        ],
    }
    body.update(overrides)
    return body


def public_body(name: str, secret: str, **overrides) -> dict:
    body = {
        "name": name,
        "type": "oauth2",
        "display_name": f"Canary OAuth {name}",
        "client_id": f"client-id-{name}",
        "client_secret": secret,
        "authorization_endpoint": "https://oauth.canary.test/authorize",
        "token_endpoint": "https://oauth.canary.test/token",
        "userinfo_endpoint": "https://api.canary.test/user",
        "scopes": "read:user user:email",
    }
    body.update(overrides)
    return body


def jsonapi_document(name: str, secret: str, domains: str, **overrides) -> dict:
    attributes = {
        "name": name,
        "client_id": f"client-id-{uuid4().hex[:8]}",
        "client_secret": secret,
        "issuer": "https://dev.canary-auth.test/",
        "domains": domains,
        "token_url": "https://dev.canary-auth.test/oauth/token",
        "authorize_url": "https://dev.canary-auth.test/authorize",
        "jwks_url": "https://dev.canary-auth.test/.well-known/jwks.json",
    }
    attributes.update(overrides)
    return {"data": {"type": "identity_providers", "attributes": attributes}}


def jsonapi_patch(resource_id: str, **attributes) -> dict:
    return {"data": {"type": "identity_providers", "id": resource_id, "attributes": attributes}}


def stored_secret(alias: str) -> str | None:
    return IdentityProvider.objects.get(provider__provider_id=alias).client_secret


@dataclass
class IdentityFlow:
    """What one run of the API flow stored and what every response looked like."""

    canonical: str
    public: str
    jsonapi: str
    jsonapi_id: str
    public_id: str
    canonical_client_id: str
    first: str
    rotated: str
    public_secret: str
    jsonapi_secret: str
    rejected: list[str]
    surfaces: list[tuple[str, str]] = field(default_factory=list)

    @property
    def secrets(self) -> list[str]:
        return [self.first, self.rotated, self.public_secret, self.jsonapi_secret, *self.rejected]

    @property
    def aliases(self) -> list[str]:
        return [self.canonical, self.public, self.jsonapi]


def run_api_flow(operator, fake_dns) -> IdentityFlow:
    """Create, rotate, send back masks, fail and read through every dialect as an operator."""
    client = client_for(operator)
    anonymous = client_for(None)
    suffix = uuid4().hex[:8]
    canonical, public = f"canary-oidc-{suffix}", f"canary-oauth-{suffix}"
    first, rotated, public_secret, jsonapi_secret = (new_canary() for _ in range(4))
    rejected = [new_canary() for _ in range(20)]
    pending = iter(rejected)
    surfaces: list[tuple[str, str]] = []

    def record(label: str, response, expected: int):
        assert response.status_code == expected, (label, response.status_code, response.content[:500])
        surfaces.append((label, response_text(response)))
        return response

    def jsonapi(method: str, url: str, document):
        payload = document if isinstance(document, str) else json.dumps(document)
        return client.generic(method, url, payload, content_type=JSONAPI_TYPE, HTTP_ACCEPT=JSONAPI_TYPE)

    # Creation through the three dialects.
    created = record("canonical POST", client.post(IDPS, canonical_body(canonical, first), format="json"), 201)
    assert created.json()["oidc_config"]["client_secret"] == SECRET_MASK
    public_created = record("idps POST", client.post(PUBLIC, public_body(public, public_secret), format="json"), 201)
    public_id = public_created.json()["id"]
    domain = f"canary-{suffix}.test"
    jsonapi_created = record(
        "JSON:API POST",
        jsonapi("POST", JSONAPI, jsonapi_document(f"Canary Auth0 {suffix}", jsonapi_secret, domain)),
        201,
    )
    resource = jsonapi_created.json()["data"]
    jsonapi_id = resource["id"]
    jsonapi_alias = Provider.objects.get(identity__internal_id=jsonapi_id).provider_id
    assert resource["attributes"]["client_secret"] == SECRET_MASK
    canonical_url, jsonapi_url = f"{IDPS}/{canonical}", f"{JSONAPI}/{jsonapi_id}"

    # Rotation, then the mask sent back in every dialect keeps the stored secrets.
    record(
        "canonical PATCH (rotate)",
        client.patch(canonical_url, {"oidc_config": {"client_secret": rotated}}, format="json"),
        200,
    )
    assert stored_secret(canonical) == rotated
    read = client.get(canonical_url).json()
    put = canonical_body(canonical, SECRET_MASK, display_name="Canary OIDC (renamed)")
    put["oidc_config"] = {**read["oidc_config"], "client_secret": SECRET_MASK}
    put["oidc_config"].pop("sync_mode")
    record("canonical PUT (mask)", client.put(canonical_url, put, format="json"), 200)
    record(
        "canonical PATCH (mask)",
        client.patch(canonical_url, {"oidc_config": {"client_secret": SECRET_MASK}}, format="json"),
        200,
    )
    record(
        "canonical PATCH (mask, read-then-write)",
        client.patch(canonical_url, {"oidc_config": client.get(canonical_url).json()["oidc_config"]}, format="json"),
        200,
    )
    assert stored_secret(canonical) == rotated
    record(
        "idps PUT (mask)",
        client.put(f"{PUBLIC}/{public_id}", {"client_secret": SECRET_MASK, "display_name": "Renamed"}, format="json"),
        200,
    )
    record(
        "idps PATCH (mask)", client.patch(f"{PUBLIC}/{public_id}", {"client_secret": SECRET_MASK}, format="json"), 200
    )
    assert stored_secret(public) == public_secret
    record(
        "JSON:API PATCH (mask)",
        jsonapi("PATCH", jsonapi_url, jsonapi_patch(jsonapi_id, client_secret=SECRET_MASK, organization="acme")),
        200,
    )
    assert stored_secret(jsonapi_alias) == jsonapi_secret

    # Failing writes that carry a canary: each is refused and stores nothing.
    bad_url = canonical_body(f"canary-bad-{suffix}", next(pending))
    bad_url["oidc_config"]["token_url"] = "not a url"
    record("canonical POST invalid token URL", client.post(IDPS, bad_url, format="json"), 400)
    record(
        "canonical POST duplicate alias",
        client.post(IDPS, canonical_body(canonical, next(pending)), format="json"),
        409,
    )
    no_client_id = canonical_body(f"canary-no-client-{suffix}", next(pending))
    no_client_id["oidc_config"]["client_id"] = ""
    record("canonical POST secret without client id", client.post(IDPS, no_client_id, format="json"), 400)
    bad_mapper = canonical_body(f"canary-bad-mapper-{suffix}", next(pending))
    bad_mapper["mappers"] = [{"name": "x", "identity_provider_mapper": "no-such-mapper", "config": {}}]
    record("canonical POST unknown mapper type", client.post(IDPS, bad_mapper, format="json"), 400)
    too_long = canonical_body(f"canary-too-long-{suffix}", next(pending) + "x" * 5000)
    record("canonical POST over-long secret", client.post(IDPS, too_long, format="json"), 400)
    not_string = canonical_body(f"canary-not-string-{suffix}", "unused")
    not_string["oidc_config"]["client_secret"] = [next(pending)]
    record("canonical POST non-string secret", client.post(IDPS, not_string, format="json"), 400)
    misspelt = canonical_body(f"canary-misspelt-{suffix}", "unused")
    misspelt["oidc_config"].pop("client_secret")
    misspelt["oidc_config"]["clientSecret"] = next(pending)
    record("canonical POST misspelt secret key", client.post(IDPS, misspelt, format="json"), 400)
    malformed = json.dumps(canonical_body(f"canary-malformed-{suffix}", next(pending)))[:-2]
    record(
        "canonical POST malformed JSON",
        client.generic("POST", IDPS, malformed, content_type="application/json"),
        400,
    )
    moved = {"oidc_config": {"token_url": "https://elsewhere.canary.test/token"}}
    record("canonical PATCH token URL without secret", client.patch(canonical_url, moved, format="json"), 400)
    moved_masked = {"oidc_config": {"token_url": "https://elsewhere.canary.test/token", "client_secret": SECRET_MASK}}
    record("canonical PATCH token URL with mask", client.patch(canonical_url, moved_masked, format="json"), 400)
    record(
        "canonical PATCH issuer without secret",
        client.patch(canonical_url, {"oidc_config": {"issuer": "https://elsewhere.canary.test"}}, format="json"),
        400,
    )
    record(
        "canonical PATCH new secret + invalid PKCE method",
        client.patch(
            canonical_url, {"oidc_config": {"client_secret": next(pending), "pkce_method": "S512"}}, format="json"
        ),
        400,
    )
    record(
        "canonical PATCH new secret + alias change",
        client.patch(
            canonical_url, {"alias": "renamed", "oidc_config": {"client_secret": next(pending)}}, format="json"
        ),
        400,
    )
    record(
        "canonical PATCH new secret + invalid token URL",
        client.patch(
            canonical_url,
            {"oidc_config": {"client_secret": next(pending), "token_url": "javascript:alert(1)"}},
            format="json",
        ),
        400,
    )
    record("idps POST duplicate name", client.post(PUBLIC, public_body(public, next(pending)), format="json"), 409)
    record(
        "idps POST invalid token endpoint",
        client.post(PUBLIC, public_body(f"canary-x-{suffix}", next(pending), token_endpoint="ftp://x"), format="json"),
        400,
    )
    missing = public_body(f"canary-y-{suffix}", next(pending))
    del missing["userinfo_endpoint"]
    record("idps POST missing field", client.post(PUBLIC, missing, format="json"), 400)
    record(
        "idps PUT new secret + invalid enabled",
        client.put(f"{PUBLIC}/{public_id}", {"client_secret": next(pending), "enabled": "yes"}, format="json"),
        400,
    )
    record(
        "JSON:API POST invalid domain",
        jsonapi("POST", JSONAPI, jsonapi_document(f"Canary Z {suffix}", next(pending), "not a domain")),
        400,
    )
    wrong_type = jsonapi_document(f"Canary W {suffix}", next(pending), domain)
    wrong_type["data"]["type"] = "users"
    record("JSON:API POST wrong type", jsonapi("POST", JSONAPI, wrong_type), 400)
    record(
        "JSON:API POST mask as secret",
        jsonapi("POST", JSONAPI, jsonapi_document(f"Canary M {suffix}", SECRET_MASK, domain)),
        400,
    )
    record(
        "JSON:API PATCH token URL with mask",
        jsonapi(
            "PATCH",
            jsonapi_url,
            jsonapi_patch(jsonapi_id, client_secret=SECRET_MASK, token_url="https://elsewhere.canary.test/t"),
        ),
        400,
    )
    record(
        "JSON:API PATCH new secret + invalid issuer",
        jsonapi("PATCH", jsonapi_url, jsonapi_patch(jsonapi_id, client_secret=next(pending), issuer="not a url")),
        400,
    )
    record(
        "JSON:API PATCH new secret + wrong id",
        jsonapi("PATCH", jsonapi_url, jsonapi_patch(str(uuid4()), client_secret=next(pending))),
        400,
    )
    record(
        "JSON:API PATCH malformed document",
        jsonapi("PATCH", jsonapi_url, json.dumps(jsonapi_patch(jsonapi_id, client_secret=next(pending)))[:-3]),
        400,
    )
    assert stored_secret(canonical) == rotated
    assert stored_secret(public) == public_secret
    assert stored_secret(jsonapi_alias) == jsonapi_secret

    # Domain verification makes the JSON:API provider active; then reads of everything.
    fake_dns.records[domain] = [resource["attributes"]["txt_record"]]
    verified = record("canonical verify-domains", client.post(f"{IDPS}/{jsonapi_alias}/verify-domains"), 200)
    assert verified.json()["status"] == "active"
    record("canonical verify-domains (no domains)", client.post(f"{canonical_url}/verify-domains"), 200)
    record("canonical disable", client.post(f"{canonical_url}/disable"), 200)
    record("canonical enable", client.post(f"{canonical_url}/enable"), 200)
    for query in ("", "?page_size=1", f"?search={canonical}"):
        record(f"canonical list{query}", client.get(f"{IDPS}{query}"), 200)
    for alias in (canonical, public, jsonapi_alias):
        record(f"canonical detail {alias}", client.get(f"{IDPS}/{alias}"), 200)
        record(f"canonical OPTIONS {alias}", client.options(f"{IDPS}/{alias}"), 200)
        record(f"keycloak detail {alias}", client.get(f"{IDPS}/{alias}?representation=keycloak"), 200)
    mappers = record("canonical mappers", client.get(f"{canonical_url}/mappers"), 200)
    mapper_id = mappers.json()[0]["id"]
    record("canonical mapper detail", client.get(f"{canonical_url}/mappers/{mapper_id}"), 200)
    record(
        "keycloak mapper detail",
        client.get(f"{canonical_url}/mappers/{mapper_id}?representation=keycloak"),
        200,
    )
    record(
        "canonical mappers dry-run",
        client.post(f"{canonical_url}/mappers/dry-run", {"claims": {"email": "a@canary.test"}}, format="json"),
        200,
    )
    record("canonical mapper-types", client.get(f"{IDPS}/mapper-types"), 200)
    record("canonical OPTIONS list", client.options(IDPS), 200)
    public_list = record("idps public list (anonymous)", anonymous.get(PUBLIC), 200)
    record("idps public list (operator)", client.get(PUBLIC), 200)
    assert {item["name"] for item in public_list.json()["providers"]} >= {canonical, public, jsonapi_alias}
    for alias in (canonical, public, jsonapi_alias):
        internal_id = IdentityProvider.objects.get(provider__provider_id=alias).internal_id
        record(f"idps detail {alias}", client.get(f"{PUBLIC}/{internal_id}"), 200)
        record(f"JSON:API detail {alias}", client.get(f"{JSONAPI}/{internal_id}", HTTP_ACCEPT=JSONAPI_TYPE), 200)
        record(f"backend provider detail {alias}", client.get(f"{BACKEND}/{alias}"), 200)
    record("JSON:API list", client.get(JSONAPI, HTTP_ACCEPT=JSONAPI_TYPE), 200)
    record("JSON:API list (page size 1)", client.get(JSONAPI, {"page[size]": 1}, HTTP_ACCEPT=JSONAPI_TYPE), 200)
    record("JSON:API relationships/user", client.get(f"{jsonapi_url}/relationships/user"), 200)
    record("JSON:API user", client.get(f"{jsonapi_url}/user"), 200)
    for query in ("", "?capability=identity", "?search=canary", "?page_size=1"):
        record(f"backend providers{query}", client.get(f"{BACKEND}{query}"), 200)
    record("GET /api/schema/", client.get("/api/schema/"), 200)

    # Mapper writes, import-config, deletion and the audit log they leave.
    mappers = f"{IDPS}/{canonical}/mappers"
    mapper = record("mapper POST", client.post(mappers, {"name": "given", "identity_provider_mapper":
                    "oidc-user-attribute-idp-mapper", "config": {"claim": "given_name", "user_attribute": "first"}},
                    format="json"), 201).json()  # fmt: skip
    record("mapper PATCH", client.patch(f"{mappers}/{mapper['id']}", {"sync_mode": "FORCE"}, format="json"), 200)
    record("mapper DELETE", client.delete(f"{mappers}/{mapper['id']}"), 204)
    record(
        "import-config (unreachable URL)", client.post(f"{IDPS}/import-config", {"url": "https://127.0.0.1:9/x"}), 400
    )
    doomed = f"canary-doomed-{suffix}"
    doomed_secret = new_canary()
    rejected.append(doomed_secret)  # stored, then deleted: it must not show anywhere either
    record("canonical POST (to delete)", client.post(IDPS, canonical_body(doomed, doomed_secret), format="json"), 201)
    record("canonical DELETE", client.delete(f"{IDPS}/{doomed}"), 204)
    for query in ("", "?objectType=identity-provider", "?action=update", "?ok=false", "?page_size=500"):
        events = record(f"audit events{query}", client.get(f"/api/backend/audit-events{query}"), 200)
    first_event = events.json()["results"][0]["id"]
    record("audit event detail", client.get(f"/api/backend/audit-events/{first_event}"), 200)

    # Nothing from the failed writes was saved.
    assert set(Provider.objects.values_list("provider_id", flat=True)) == {canonical, public, jsonapi_alias}
    return IdentityFlow(
        canonical=canonical,
        public=public,
        jsonapi=jsonapi_alias,
        jsonapi_id=jsonapi_id,
        public_id=public_id,
        canonical_client_id=f"client-id-{canonical}",
        first=first,
        rotated=rotated,
        public_secret=public_secret,
        jsonapi_secret=jsonapi_secret,
        rejected=rejected,
        surfaces=surfaces,
    )


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
