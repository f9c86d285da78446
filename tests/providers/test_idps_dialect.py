"""The `/api/idps` reference-document dialect (public login list plus a small admin API): every
example request of the document sent verbatim gets the document's status code and body shape, and the
public login list is cacheable, revalidated and changed by whatever shows on the login page. What it
does alike with the canonical dialect is in test_identity_dialects_shared.py."""

import re
import uuid

from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.models import IdentityProvider, Provider
from tests.providers.reference_dialects_helpers import ISO_Z

from .dialects import (
    IDPS,
    IDPS_CREATE_EXAMPLE,
    IDPS_UPDATE_EXAMPLE,
)


def is_uuid(value) -> bool:
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


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
