"""Every identity-provider endpoint of the three dialects (canonical, /api/idps, JSON:API) × every
role, with the exact status each gets. `identity_provider_viewer` reads; only
`access_token_manager` (and superusers) write; the /api/idps list is public."""

import pytest
from rest_framework.test import APIClient

from providers.models import IdentityProvider, IdentityProviderMapper, Provider
from tests.conftest import client_for
from tests.factories import IdentityProviderFactory

from .dialects import CANONICAL as IDPS
from .dialects import MEDIA_TYPE
from .dialects import jsonapi as jsonapi_request

SECRET = "corp-oidc-client-secret-value"
UNUSED_SECRET = "unused-client-secret-value"

NEW_CANONICAL = {
    "alias": "new-canonical",
    "display_name": "New canonical",
    "provider_id": "oidc",
    "oidc_config": {"issuer": "https://new.corp.test", "client_id": "new", "client_secret": "new-secret"},
}
NEW_IDP = {
    "name": "new-idps",
    "type": "oauth2",
    "display_name": "New idps",
    "client_id": "Iv1.new",
    "client_secret": "new-secret",
    "authorization_endpoint": "https://github.com/login/oauth/authorize",
    "token_endpoint": "https://github.com/login/oauth/access_token",
    "userinfo_endpoint": "https://api.github.com/user",
}
NEW_JSONAPI = {
    "data": {
        "type": "identity_providers",
        "attributes": {
            "name": "New JSONAPI",
            "client_id": "new",
            "client_secret": "new-secret",
            "issuer": "https://new.auth.test/",
            "domains": "new.auth.test",
            "token_url": "https://new.auth.test/oauth/token",
            "authorize_url": "https://new.auth.test/authorize",
            "jwks_url": "https://new.auth.test/.well-known/jwks.json",
        },
    }
}
NEW_MAPPER = {
    "name": "new-mapper",
    "identity_provider_mapper": "oidc-user-attribute-idp-mapper",
    "config": {"claim": "given_name", "user_attribute": "first_name"},
}

# name: (method, path template, body, JSON:API?); {corp} / {unused} are internal ids.
ENDPOINTS = {
    "canonical-list": ("get", IDPS, None, False),
    "canonical-create": ("post", IDPS, NEW_CANONICAL, False),
    "canonical-detail": ("get", f"{IDPS}/corp-oidc", None, False),
    "canonical-patch": ("patch", f"{IDPS}/corp-oidc", {"display_name": "Changed"}, False),
    "canonical-put": (
        "put",
        f"{IDPS}/corp-oidc",
        {"alias": "corp-oidc", "display_name": "Changed", "provider_id": "oidc"},
        False,
    ),
    "canonical-delete": ("delete", f"{IDPS}/unused", None, False),
    "canonical-enable": ("post", f"{IDPS}/unused/enable", None, False),
    "canonical-disable": ("post", f"{IDPS}/corp-oidc/disable", None, False),
    "canonical-verify-domains": ("post", f"{IDPS}/corp-oidc/verify-domains", None, False),
    "canonical-mapper-types": ("get", f"{IDPS}/mapper-types", None, False),
    "canonical-mappers-list": ("get", f"{IDPS}/corp-oidc/mappers", None, False),
    "canonical-mapper-create": ("post", f"{IDPS}/corp-oidc/mappers", NEW_MAPPER, False),
    "canonical-mapper-detail": ("get", f"{IDPS}/corp-oidc/mappers/{{mapper}}", None, False),
    "canonical-mapper-put": (
        "put",
        f"{IDPS}/corp-oidc/mappers/{{mapper}}",
        {**NEW_MAPPER, "name": "email"},
        False,
    ),
    "canonical-mapper-patch": ("patch", f"{IDPS}/corp-oidc/mappers/{{mapper}}", {"sync_mode": "FORCE"}, False),
    "canonical-mapper-delete": ("delete", f"{IDPS}/corp-oidc/mappers/{{mapper}}", None, False),
    "canonical-dry-run": ("post", f"{IDPS}/corp-oidc/mappers/dry-run", {"claims": {"email": "a@corp.test"}}, False),
    # An empty body fails validation: enough to see who gets past the permission check.
    "canonical-import-config": ("post", f"{IDPS}/import-config", {}, False),
    # An OIDC provider has no metadata to refresh (a 400): enough to see who gets past the permission check.
    "canonical-refresh-metadata": ("post", f"{IDPS}/corp-oidc/refresh-metadata", {}, False),
    "idps-list": ("get", "/api/idps", None, False),
    "idps-create": ("post", "/api/idps", NEW_IDP, False),
    "idps-detail": ("get", "/api/idps/{corp}", None, False),
    "idps-update": ("put", "/api/idps/{corp}", {"display_name": "Changed", "enabled": False}, False),
    "idps-patch": ("patch", "/api/idps/{corp}", {"display_name": "Changed"}, False),
    "idps-delete": ("delete", "/api/idps/{unused}", None, False),
    "jsonapi-list": ("get", "/api/identity_providers", None, True),
    "jsonapi-create": ("post", "/api/identity_providers", NEW_JSONAPI, True),
    "jsonapi-detail": ("get", "/api/identity_providers/{corp}", None, True),
    "jsonapi-patch": (
        "patch",
        "/api/identity_providers/{corp}",
        {"data": {"type": "identity_providers", "attributes": {"name": "Changed", "_disable": True}}},
        True,
    ),
    "jsonapi-delete": ("delete", "/api/identity_providers/{unused}", None, True),
    "jsonapi-user": ("get", "/api/identity_providers/{corp}/user", None, True),
    "jsonapi-relationships-user": ("get", "/api/identity_providers/{corp}/relationships/user", None, True),
}

OK = {
    "canonical-list": 200,
    "canonical-create": 201,
    "canonical-detail": 200,
    "canonical-patch": 200,
    "canonical-put": 200,
    "canonical-delete": 204,
    "canonical-enable": 200,
    "canonical-disable": 200,
    "canonical-verify-domains": 200,
    "canonical-mapper-types": 200,
    "canonical-mappers-list": 200,
    "canonical-mapper-create": 201,
    "canonical-mapper-detail": 200,
    "canonical-mapper-put": 200,
    "canonical-mapper-patch": 200,
    "canonical-mapper-delete": 204,
    "canonical-dry-run": 200,
    "canonical-import-config": 400,
    "canonical-refresh-metadata": 400,
    "idps-list": 200,
    "idps-create": 201,
    "idps-detail": 200,
    "idps-update": 200,
    "idps-patch": 200,
    "idps-delete": 200,
    "jsonapi-list": 200,
    "jsonapi-create": 201,
    "jsonapi-detail": 200,
    "jsonapi-patch": 200,
    "jsonapi-delete": 204,
    "jsonapi-user": 200,
    "jsonapi-relationships-user": 200,
}
assert set(OK) == set(ENDPOINTS)

PUBLIC = {"idps-list"}
READS = {name for name, (method, *_rest) in ENDPOINTS.items() if method == "get"}
# Dry-run and import-config save nothing but are POSTs: they need `change_identityprovider`, as does
# refresh-metadata.
WRITES = set(ENDPOINTS) - READS

# By role of `tests.conftest.ROLES`: "plain" is in no group, "owner" in project_owner, "viewer" in
# identity_provider_viewer, "operator" in access_token_manager.
EXPECTED = {
    "anonymous": {name: 200 if name in PUBLIC else 401 for name in ENDPOINTS},
    "plain": {name: 200 if name in PUBLIC else 403 for name in ENDPOINTS},
    "owner": {name: 200 if name in PUBLIC else 403 for name in ENDPOINTS},
    "viewer": {name: OK[name] if name in READS else 403 for name in ENDPOINTS},
    "operator": OK,
    "superuser": OK,
}

CASES = [(role, endpoint, status) for role, row in EXPECTED.items() for endpoint, status in row.items()]


def make_identity_providers() -> tuple[Provider, Provider]:
    corp = IdentityProviderFactory(
        alias="corp-oidc",
        display_name="Corporate OIDC",
        client_secret=SECRET,
        mappers=[{"name": "email"}],
    )
    unused = IdentityProviderFactory(
        alias="unused",
        protocol="oauth2",
        client_id="unused",
        client_secret=UNUSED_SECRET,
        enabled=False,
        issuer="",
        base="https://unused.test",
    )
    return corp.provider, unused.provider


def send(client: APIClient, method: str, path: str, body, jsonapi: bool):
    if jsonapi:
        return jsonapi_request(client, method, path, body)
    if body is not None:
        return getattr(client, method)(path, body, format="json")
    return getattr(client, method)(path)


@pytest.mark.parametrize("role,endpoint,expected", CASES, ids=[f"{r}-{e}" for r, e, _ in CASES])
def test_identity_permission_matrix(role_user, role, endpoint, expected):
    user = role_user(role)
    corp, unused = make_identity_providers()
    method, template, body, jsonapi = ENDPOINTS[endpoint]
    mapper = corp.identity.mappers.get()
    path = template.format(corp=corp.identity.internal_id, unused=unused.identity.internal_id, mapper=mapper.pk)
    client = client_for(user)

    response = send(client, method, path, body, jsonapi)

    assert response.status_code == expected, response.content
    content = response.content.decode()
    assert SECRET not in content and UNUSED_SECRET not in content
    if expected in (401, 403):
        body_json = response.json()
        if jsonapi:
            assert [error["status"] for error in body_json["errors"]] == [str(expected)]
        else:
            assert "detail" in body_json
        corp = Provider.objects.select_related("identity").get(provider_id="corp-oidc")
        assert corp.label == "Corporate OIDC" and corp.enabled is True
        assert corp.identity.disabled_at is None
        unused = Provider.objects.get(provider_id="unused")
        assert unused.enabled is False
        assert sorted(Provider.objects.values_list("provider_id", flat=True)) == ["corp-oidc", "unused"]
        assert list(IdentityProviderMapper.objects.values_list("name", "sync_mode")) == [("email", "INHERIT")]
    if expected == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
    if endpoint == "canonical-import-config" and expected == 400:
        assert "url" in response.json()


@pytest.mark.parametrize(
    "path,jsonapi",
    [
        (IDPS, False),
        (f"{IDPS}/corp-oidc", False),
        (f"{IDPS}/corp-oidc/mappers", False),
        ("/api/idps", False),
        ("/api/idps/{corp}", False),
        ("/api/identity_providers", True),
        ("/api/identity_providers/{corp}", True),
        ("/api/backend/providers", False),
    ],
)
def test_viewer_reads_never_show_the_client_secret(role_client, path, jsonapi):
    corp, _ = make_identity_providers()
    assert IdentityProvider.objects.get(provider=corp).client_secret == SECRET

    response = send(role_client("viewer"), "get", path.format(corp=corp.identity.internal_id), None, jsonapi)

    if path == "/api/backend/providers":
        assert response.status_code == 403  # the generic providers API is not the viewer's
    else:
        assert response.status_code == 200, response.content
    content = response.content.decode()
    assert SECRET not in content and UNUSED_SECRET not in content


def test_viewer_detail_reads_show_the_mask_or_nothing(role_client):
    corp, _ = make_identity_providers()
    client = role_client("viewer")
    internal_id = corp.identity.internal_id

    canonical = client.get(f"{IDPS}/corp-oidc").json()
    idps = client.get(f"/api/idps/{internal_id}").json()
    jsonapi = client.get(f"/api/identity_providers/{internal_id}", HTTP_ACCEPT=MEDIA_TYPE).json()

    assert canonical["oidc_config"]["client_secret"] == "**********"
    assert canonical["config"]["client_secret"] == "**********"
    assert "client_secret" not in idps
    assert jsonapi["data"]["attributes"]["client_secret"] == "**********"


def test_viewer_cannot_replace_the_secret_through_any_dialect(role_client):
    corp, _ = make_identity_providers()
    client = role_client("viewer")
    internal_id = corp.identity.internal_id
    document = {"data": {"type": "identity_providers", "attributes": {"client_secret": "x"}}}

    responses = [
        client.put(f"/api/idps/{internal_id}", {"client_secret": "x"}, format="json"),
        client.patch(f"{IDPS}/corp-oidc", {"oidc_config": {"client_secret": "x"}}, format="json"),
        send(client, "patch", f"/api/identity_providers/{internal_id}", document, jsonapi=True),
    ]

    assert [response.status_code for response in responses] == [403, 403, 403]
    assert IdentityProvider.objects.get(provider=corp).client_secret == SECRET
