"""The identity-provider canary flows: canary client secrets stored, rotated, sent back masked and
sent in failing requests through all three API dialects (canonical, `/api/idps`, JSON:API), and the
create bodies each dialect takes."""

import json
from dataclasses import dataclass, field
from uuid import uuid4

from providers.identity.services import SECRET_MASK
from providers.models import IdentityProvider, Provider
from tests.canary.search import response_text
from tests.conftest import client_for

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
        jsonapi("PATCH", jsonapi_url, jsonapi_patch(jsonapi_id, client_secret=SECRET_MASK, reference="acme")),
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
