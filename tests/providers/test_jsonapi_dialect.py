"""The `/api/identity_providers` (JSON:API) reference-document dialect: the document's example
creates the resource, reads, disabling, errors as JSON:API errors arrays pointing at the member at
fault, domains verified through DNS, aliases numbered from the name, and If-Match honoured by both
reference dialects. What it does alike with the canonical dialect is in
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
from tests.providers.reference_dialects_helpers import ISO_Z

from .dialects import (
    IDPS,
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
    """`organization` is the workspace's public id (the default workspace's here)."""
    document = with_attributes(
        organization="org_default",
        reference="ANY-EXTERNAL-REFEFERNCE",
        reference_origin="ANY-EXTERNAL-REFEFERNCE-ORIGIN",
        metadata={"foo": "bar"},
    )

    attributes = jsonapi_create(operator_client, document)["attributes"]

    assert attributes["organization"] == "org_default"
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


@pytest.mark.parametrize("client_id", ["8cd7a4f9-21f5-4669-9e1f-6fc017f01975", "mine", None])
def test_jsonapi_create_with_a_client_generated_id_is_403(operator_client, client_id):
    document = {"data": {**JSONAPI_CREATE_EXAMPLE["data"], "id": client_id}}

    response = jsonapi(operator_client, "post", JSONAPI, document)

    assert response["Content-Type"].split(";")[0] == MEDIA_TYPE
    errors = assert_jsonapi_errors(response, 403)
    assert [error["source"]["pointer"] for error in errors] == ["/data/id"], errors
    assert "Client-generated ids are not supported" in errors[0]["detail"]
    assert not Provider.objects.exists()


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
