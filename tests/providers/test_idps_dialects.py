"""The two reference-document dialects over identity providers: `/api/idps` (public login list plus a
small admin API) and `/api/identity_providers` (JSON:API). Every example request of the documents is
sent verbatim and must get the document's status code and body shape. What they do alike with the
canonical dialect (404s, 400s naming the field, 409, keeping the secret, delete, 401) is in
test_identity_dialects_shared.py."""

import json
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.identity.services import SECRET_MASK
from providers.models import IdentityProvider, Provider
from tests.factories import ProviderFactory

from .dialects import (
    IDPS,
    IDPS_CREATE_EXAMPLE,
    IDPS_UPDATE_EXAMPLE,
    JSONAPI,
    JSONAPI_CREATE_EXAMPLE,
    MEDIA_TYPE,
    assert_jsonapi_errors,
    jsonapi,
    with_attributes,
)

JSONAPI_SECRET = "s6CD55v1ZV99ArtOcfYVEZRnDDf"
JSONAPI_ATTRIBUTES = {
    "name",
    "client_id",
    "client_secret",
    "issuer",
    "status",
    "domains",
    "token_url",
    "authorize_url",
    "jwks_url",
    "txt_record",
    "organization",
    "created_at",
    "updated_at",
    "reference",
    "reference_origin",
    "metadata",
    "disabled_at",
}
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def is_uuid(value) -> bool:
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------------
# /api/idps
# ---------------------------------------------------------------------------------------------


def idps_create(client, **overrides):
    return client.post(IDPS, {**IDPS_CREATE_EXAMPLE, **overrides}, format="json")


def test_idps_document_examples_end_to_end(operator_client, client):
    created = operator_client.post(IDPS, IDPS_CREATE_EXAMPLE, format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert set(body) == {"id", "message"}
    assert body["message"] == "Identity provider created"
    assert is_uuid(body["id"])
    idp_id = body["id"]

    listed = client.get(IDPS)
    assert listed.status_code == 200
    providers = listed.json()["providers"]
    assert set(listed.json()) == {"providers"}
    assert len(providers) == 1
    item = providers[0]
    assert set(item) == {"id", "name", "type", "display_name", "enabled", "created_at"}
    assert {k: item[k] for k in ("id", "name", "type", "display_name", "enabled")} == {
        "id": idp_id,
        "name": "github",
        "type": "oauth2",
        "display_name": "GitHub",
        "enabled": True,
    }
    assert ISO_Z.match(item["created_at"]), item["created_at"]
    assert "secret123" not in listed.content.decode()

    detail = operator_client.get(f"{IDPS}/{idp_id}")
    assert detail.status_code == 200
    detail_body = detail.json()
    documented = {
        "id": idp_id,
        "name": "github",
        "type": "oauth2",
        "display_name": "GitHub",
        "enabled": True,
        "authorization_endpoint": "https://github.com/login/oauth/authorize",
        "token_endpoint": "https://github.com/login/oauth/access_token",
        "userinfo_endpoint": "https://api.github.com/user",
        "scopes": "read:user user:email",
    }
    assert {k: detail_body.get(k) for k in documented} == documented
    assert ISO_Z.match(detail_body["created_at"])
    assert "client_secret" not in detail_body
    assert "secret123" not in detail.content.decode()

    updated = operator_client.put(f"{IDPS}/{idp_id}", IDPS_UPDATE_EXAMPLE, format="json")
    assert updated.status_code == 200, updated.content
    assert updated.json() == {"message": "Identity provider updated"}
    assert Provider.objects.get(provider_id="github").label == "GitHub SSO"
    assert operator_client.get(f"{IDPS}/{idp_id}").json()["display_name"] == "GitHub SSO"
    assert client.get(IDPS).json()["providers"][0]["display_name"] == "GitHub SSO"
    assert IdentityProvider.objects.get(provider__provider_id="github").client_secret == "secret123"

    deleted = operator_client.delete(f"{IDPS}/{idp_id}")
    assert deleted.status_code == 200
    assert deleted.json() == {"message": "Identity provider deleted"}
    assert not Provider.objects.filter(provider_id="github").exists()
    assert operator_client.get(f"{IDPS}/{idp_id}").status_code == 404
    assert client.get(IDPS).json() == {"providers": []}


def test_idps_scopes_are_optional(operator_client):
    body = {key: value for key, value in IDPS_CREATE_EXAMPLE.items() if key != "scopes"}

    assert operator_client.post(IDPS, body, format="json").status_code == 201


def test_idps_oidc_type_is_accepted(operator_client):
    response = idps_create(operator_client, name="google", type="oidc", display_name="Google")

    assert response.status_code == 201, response.content
    assert IdentityProvider.objects.get(provider__provider_id="google").protocol == "oidc"


def test_idps_saml_type_is_400_naming_type(operator_client):
    response = idps_create(operator_client, type="saml")

    assert response.status_code == 400
    assert "type" in response.json()
    assert not Provider.objects.exists()


def test_idps_update_validates_and_disables(operator_client):
    idp_id = idps_create(operator_client).json()["id"]
    url = f"{IDPS}/{idp_id}"

    assert operator_client.put(url, {"enabled": "yes"}, format="json").status_code == 400
    assert "name" in operator_client.put(url, {"name": "renamed"}, format="json").json()
    assert operator_client.put(url, {"enabled": False}, format="json").status_code == 200
    identity = IdentityProvider.objects.select_related("provider").get(provider__provider_id="github")
    assert identity.provider.enabled is False and identity.disabled_at is not None


def test_idps_public_list_leaves_out_disabled_providers(operator_client, client):
    idp_id = idps_create(operator_client).json()["id"]

    operator_client.put(f"{IDPS}/{idp_id}", {"enabled": False}, format="json")

    assert client.get(IDPS).json() == {"providers": []}
    assert operator_client.get(f"{IDPS}/{idp_id}").json()["enabled"] is False


# ---------------------------------------------------------------------------------------------
# /api/identity_providers (JSON:API)
# ---------------------------------------------------------------------------------------------


def jsonapi_create(client, document=None):
    response = jsonapi(client, "post", JSONAPI, document or JSONAPI_CREATE_EXAMPLE)
    assert response.status_code == 201, response.content
    return response.json()["data"]


def test_jsonapi_document_example_creates_the_resource(operator_client):
    response = jsonapi(operator_client, "post", JSONAPI, JSONAPI_CREATE_EXAMPLE)

    assert response.status_code == 201, response.content
    assert response["Content-Type"].split(";")[0] == MEDIA_TYPE
    raw = response.content.decode()
    assert JSONAPI_SECRET not in raw
    data = response.json()["data"]
    assert isinstance(data["id"], str) and data["id"]
    assert data["type"] == "identity_providers"
    assert data["links"]["self"].endswith(f"/api/identity_providers/{data['id']}")
    attributes = data["attributes"]
    assert set(attributes) >= JSONAPI_ATTRIBUTES, JSONAPI_ATTRIBUTES - set(attributes)
    assert {k: attributes[k] for k in ("name", "client_id", "issuer", "token_url", "authorize_url", "jwks_url")} == {
        "name": "Org auth0",
        "client_id": "a6CDk5v1ZV99GrtOcfYVEZRnDDt",
        "issuer": "https://dev.auth987.com/",
        "token_url": "https://dev.auth987.com/oauth/token",
        "authorize_url": "https://dev.auth987.com/authorize",
        "jwks_url": "https://dev.auth987.com/.well-known/jwks.json",
    }
    assert attributes["status"] == "pending"
    assert attributes["domains"] == "dev.auth987.com,stg.auth987.com"
    assert re.match(r"^registry-verification=\S+$", attributes["txt_record"]), attributes["txt_record"]
    assert attributes["client_secret"] == SECRET_MASK
    assert attributes["disabled_at"] is None
    assert ISO_Z.match(attributes["created_at"]) and ISO_Z.match(attributes["updated_at"])
    assert isinstance(attributes["metadata"], dict)

    identity = IdentityProvider.objects.select_related("provider").get(internal_id=data["id"])
    assert identity.client_secret == JSONAPI_SECRET
    assert identity.protocol == "oidc"
    assert identity.provider.label == "Org auth0"

    links = data["relationships"]["user"]["links"]
    assert links["self"].endswith(f"/api/identity_providers/{data['id']}/relationships/user")
    assert links["related"].endswith(f"/api/identity_providers/{data['id']}/user")
    for url in (links["self"], links["related"]):
        followed = operator_client.get(url, HTTP_ACCEPT=MEDIA_TYPE)
        assert followed.status_code == 200, (url, followed.content)
        assert followed.json()["data"]["type"] == "users"


def test_jsonapi_optional_attributes_read_back(operator_client):
    document = with_attributes(
        organization="org_76gsfs5gd",
        reference="ANY-EXTERNAL-REFEFERNCE",
        reference_origin="ANY-EXTERNAL-REFEFERNCE-ORIGIN",
        metadata={"foo": "bar"},
    )

    attributes = jsonapi_create(operator_client, document)["attributes"]

    assert attributes["organization"] == "org_76gsfs5gd"
    assert attributes["reference"] == "ANY-EXTERNAL-REFEFERNCE"
    assert attributes["reference_origin"] == "ANY-EXTERNAL-REFEFERNCE-ORIGIN"
    assert attributes["metadata"] == {"foo": "bar"}


def test_jsonapi_list_and_retrieve(operator_client):
    created = jsonapi_create(operator_client)

    listed = jsonapi(operator_client, "get", JSONAPI)
    assert listed.status_code == 200
    assert listed["Content-Type"].split(";")[0] == MEDIA_TYPE
    body = listed.json()
    assert set(body) == {"data", "links"}
    assert isinstance(body["links"], dict)
    assert [item["id"] for item in body["data"]] == [created["id"]]
    assert body["data"][0]["type"] == "identity_providers"
    assert JSONAPI_SECRET not in listed.content.decode()

    one = jsonapi(operator_client, "get", f"{JSONAPI}/{created['id']}")
    assert one.status_code == 200
    assert one.json()["data"]["id"] == created["id"]
    assert set(one.json()["data"]["attributes"]) >= JSONAPI_ATTRIBUTES
    assert JSONAPI_SECRET not in one.content.decode()


def test_jsonapi_disable_and_enable(operator_client):
    created = jsonapi_create(operator_client)
    url = f"{JSONAPI}/{created['id']}"

    def patch(attributes):
        document = {"data": {"type": "identity_providers", "id": created["id"], "attributes": attributes}}
        return jsonapi(operator_client, "patch", url, document)

    disabled = patch({"_disable": True})
    assert disabled.status_code == 200, disabled.content
    assert disabled["Content-Type"].split(";")[0] == MEDIA_TYPE
    assert disabled.json()["data"]["attributes"]["disabled_at"]
    assert ISO_Z.match(disabled.json()["data"]["attributes"]["disabled_at"])
    provider = Provider.objects.select_related("identity").get(identity__internal_id=created["id"])
    assert provider.enabled is False and provider.identity.disabled_at is not None

    enabled = patch({"_enable": True})
    assert enabled.status_code == 200, enabled.content
    assert enabled.json()["data"]["attributes"]["disabled_at"] is None
    provider = Provider.objects.select_related("identity").get(identity__internal_id=created["id"])
    assert provider.enabled is True and provider.identity.disabled_at is None

    both = patch({"_enable": True, "_disable": True})
    assert_jsonapi_errors(both, 400)


def test_jsonapi_patch_with_wrong_type_is_an_errors_array(operator_client):
    created = jsonapi_create(operator_client)
    document = {"data": {"type": "users", "id": created["id"], "attributes": {"_disable": True}}}

    response = jsonapi(operator_client, "patch", f"{JSONAPI}/{created['id']}", document)

    assert 400 <= response.status_code < 500, response.content
    errors = assert_jsonapi_errors(response, response.status_code)
    assert any(error.get("source", {}).get("pointer") == "/data/type" for error in errors), errors
    assert Provider.objects.get(identity__internal_id=created["id"]).enabled is True


def test_jsonapi_patch_with_mismatched_id_is_refused(operator_client):
    created = jsonapi_create(operator_client)
    document = {"data": {"type": "identity_providers", "id": str(uuid.uuid4()), "attributes": {"_disable": True}}}

    response = jsonapi(operator_client, "patch", f"{JSONAPI}/{created['id']}", document)

    errors = assert_jsonapi_errors(response, response.status_code)
    assert 400 <= response.status_code < 500
    assert any(error.get("source", {}).get("pointer") == "/data/id" for error in errors), errors
    assert Provider.objects.get(identity__internal_id=created["id"]).enabled is True


@pytest.mark.parametrize("document", [{}, {"data": None}, {"data": []}], ids=["missing", "null", "list"])
def test_jsonapi_bad_primary_data_points_at_data(operator_client, document):
    response = jsonapi(operator_client, "post", JSONAPI, document)

    errors = assert_jsonapi_errors(response, 400)
    assert [error["source"]["pointer"] for error in errors] == ["/data"], errors


def test_jsonapi_top_level_member_is_not_mistaken_for_an_attribute(operator_client):
    response = jsonapi(operator_client, "post", JSONAPI, {"meta": {"foo": "bar"}, **JSONAPI_CREATE_EXAMPLE})

    if response.status_code != 201:
        errors = assert_jsonapi_errors(response, 400)
        assert [error["source"]["pointer"] for error in errors] == ["/meta"], errors


def test_jsonapi_bad_domain_points_at_domains(operator_client):
    response = jsonapi(operator_client, "post", JSONAPI, with_attributes(domains="dev.auth987.com,not a domain"))

    errors = assert_jsonapi_errors(response, 400)
    assert [error["source"]["pointer"] for error in errors] == ["/data/attributes/domains"]
    assert not Provider.objects.exists()


def test_jsonapi_same_name_twice_gets_a_new_alias(operator_client):
    first = jsonapi_create(operator_client)
    second = jsonapi_create(operator_client)

    assert first["id"] != second["id"]
    aliases = sorted(Provider.objects.filter(identity__isnull=False).values_list("provider_id", flat=True))
    assert aliases == ["org-auth0", "org-auth0-2"]


def test_jsonapi_domains_become_active_through_dns_verification(operator_client, fake_dns):
    created = jsonapi_create(operator_client)
    attributes = created["attributes"]
    assert attributes["status"] == "pending"
    listed = operator_client.get("/api/identity-providers").json()["results"]
    (canonical,) = [item for item in listed if item["internal_id"] == created["id"]]
    alias = canonical["alias"]
    assert canonical["txt_record"] == attributes["txt_record"]

    fake_dns.records["dev.auth987.com"] = [attributes["txt_record"]]
    first = operator_client.post(f"/api/identity-providers/{alias}/verify-domains")
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "pending"
    assert jsonapi(operator_client, "get", f"{JSONAPI}/{created['id']}").json()["data"]["attributes"]["status"] == (
        "pending"
    )

    fake_dns.records["stg.auth987.com"] = ["v=spf1 -all", attributes["txt_record"]]
    second = operator_client.post(f"/api/identity-providers/{alias}/verify-domains")
    assert second.status_code == 200, second.content
    assert second.json()["status"] == "active"

    read = jsonapi(operator_client, "get", f"{JSONAPI}/{created['id']}").json()["data"]["attributes"]
    assert read["status"] == "active"
    assert read["domains"] == "dev.auth987.com,stg.auth987.com"


def test_jsonapi_url_outside_the_routes_is_a_jsonapi_404(operator_client):
    response = jsonapi(operator_client, "get", f"{JSONAPI}/%C2%84")

    assert response["Content-Type"] == MEDIA_TYPE
    assert_jsonapi_errors(response, 404)


def test_jsonapi_nul_in_a_query_parameter_is_a_jsonapi_400_naming_it(operator_client):
    response = operator_client.get(JSONAPI, {"page[cursor]": "a\x00b"}, HTTP_ACCEPT=MEDIA_TYPE)

    errors = assert_jsonapi_errors(response, 400)
    assert errors[0]["source"] == {"parameter": "page[cursor]"}


def test_both_dialects_honour_if_match(operator_client):
    resource_id = jsonapi_create(operator_client)["id"]
    jsonapi_tag = jsonapi(operator_client, "get", f"{JSONAPI}/{resource_id}")["ETag"]
    idps_tag = operator_client.get(f"{IDPS}/{resource_id}")["ETag"]
    assert jsonapi_tag == idps_tag
    jsonapi(operator_client, "patch", f"{JSONAPI}/{resource_id}", with_attributes(name="Changed elsewhere"))

    stale_patch = operator_client.generic(
        "PATCH",
        f"{JSONAPI}/{resource_id}",
        json.dumps(with_attributes(name="Mine")),
        content_type=MEDIA_TYPE,
        HTTP_IF_MATCH=jsonapi_tag,
    )
    stale_put = operator_client.put(f"{IDPS}/{resource_id}", IDPS_UPDATE_EXAMPLE, format="json", HTTP_IF_MATCH=idps_tag)
    stale_delete = operator_client.delete(f"{IDPS}/{resource_id}", HTTP_IF_MATCH=idps_tag)
    stale_jsonapi_delete = operator_client.delete(f"{JSONAPI}/{resource_id}", HTTP_IF_MATCH=jsonapi_tag)

    assert_jsonapi_errors(stale_patch, 412)
    assert stale_put.status_code == 412
    assert stale_delete.status_code == 412
    assert_jsonapi_errors(stale_jsonapi_delete, 412)
    identity = IdentityProvider.objects.get(internal_id=resource_id)
    assert identity.provider.label == "Changed elsewhere"
    fresh = operator_client.get(f"{IDPS}/{resource_id}")["ETag"]
    assert operator_client.delete(f"{IDPS}/{resource_id}", HTTP_IF_MATCH=fresh).status_code == 200
    assert not IdentityProvider.objects.filter(internal_id=resource_id).exists()


def public_list(client, etag: str | None = None):
    return client.get(IDPS, **({"HTTP_IF_NONE_MATCH": etag} if etag else {}))


def test_public_list_is_cacheable_and_revalidates_with_304(operator_client, client):
    idps_create(operator_client)
    first = public_list(client)

    with CaptureQueriesContext(connection) as ctx:
        not_modified = public_list(client, first["ETag"])
    queries = len(ctx.captured_queries)
    weak = public_list(client, f'"other", W/{first["ETag"]}')

    assert first.status_code == 200
    assert first["Cache-Control"] == "public, max-age=0, must-revalidate"
    assert re.fullmatch(r'"[0-9a-f]{32}"', first["ETag"])
    assert [item["name"] for item in first.json()["providers"]] == ["github"]
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == first["ETag"]
    assert queries == 1
    assert weak.status_code == 304
    assert public_list(client, '"stale"').status_code == 200


def test_public_list_max_age_comes_from_settings(client, db, settings):
    settings.PUBLIC_IDPS_MAX_AGE = 30

    assert public_list(client)["Cache-Control"] == "public, max-age=30, must-revalidate"


def test_every_change_that_shows_on_the_login_page_changes_the_public_list(operator_client, client, fake_dns):
    created = idps_create(operator_client).json()
    etags = [public_list(client)["ETag"]]

    def changed_list() -> list[str]:
        stale = public_list(client, etags[-1])
        assert stale.status_code == 200, "the cached list was served after a change"
        etags.append(stale["ETag"])
        return [item["display_name"] for item in stale.json()["providers"]]

    operator_client.put(f"{IDPS}/{created['id']}", {"display_name": "GitHub SSO"}, format="json")
    assert changed_list() == ["GitHub SSO"]
    operator_client.put(f"{IDPS}/{created['id']}", {"enabled": False}, format="json")
    assert changed_list() == []
    operator_client.put(f"{IDPS}/{created['id']}", {"enabled": True}, format="json")
    assert changed_list() == ["GitHub SSO"]
    operator_client.patch("/api/identity-providers/github", {"domains": ["corp.test"]}, format="json")
    assert changed_list() == []  # pending until the domain is verified
    txt_record = operator_client.get("/api/identity-providers/github").json()["txt_record"]
    fake_dns.records["corp.test"] = [txt_record]
    assert operator_client.post("/api/identity-providers/github/verify-domains").json()["status"] == "active"
    assert changed_list() == ["GitHub SSO"]
    operator_client.delete(f"{IDPS}/{created['id']}")
    assert changed_list() == []
    assert len(set(etags)) == len(etags)


def test_public_list_query_count_is_flat(operator_client, client):
    counts = {}
    created = 0
    for size in (1, 20, 100):
        for n in range(created, size):
            assert idps_create(operator_client, name=f"idp-{n:03d}").status_code == 201
        created = size
        with CaptureQueriesContext(connection) as ctx:
            response = public_list(client)
        first = list(ctx.captured_queries)
        with CaptureQueriesContext(connection) as cached:
            public_list(client)
        assert len(response.json()["providers"]) == size
        counts[size] = (len(first), len(cached.captured_queries))
        assert not any("client_secret" in query["sql"] for query in first)

    assert counts[1] == counts[20] == counts[100] == (2, 1), counts


def test_jsonapi_aliases_are_the_name_numbered_with_the_first_free_number_in_one_query(operator_client):
    def create() -> str:
        response = operator_client.post(JSONAPI, json.dumps(JSONAPI_CREATE_EXAMPLE), content_type=MEDIA_TYPE)
        assert response.status_code == 201, response.content
        return response.json()["data"]["id"]

    create()
    create()
    ProviderFactory(provider_id="org-auth0-4")  # a gap at 3, and an id that only starts like them
    ProviderFactory(provider_id="org-auth0-team")
    with CaptureQueriesContext(connection) as queries:
        create()
    aliases = sorted(Provider.objects.filter(provider_id__startswith="org-auth0").values_list("provider_id", flat=True))
    assert aliases == ["org-auth0", "org-auth0-2", "org-auth0-3", "org-auth0-4", "org-auth0-team"]
    lookups = [q["sql"] for q in queries.captured_queries if "org-auth0" in str(q["sql"]) and "SELECT" in q["sql"]]
    assert len(lookups) == 1, lookups
