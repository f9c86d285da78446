"""The three API dialects over identity providers, as a client sees each: where it lives, what a valid
create body is, how it spells a field and points at it in an error, and how it answers.

- canonical: `/api/identity-providers`, by alias, errors `{"<section>.<field>": [...], "detail": ...}`;
- idps: `/api/idps`, the reference document's small API, by internal id, errors like the canonical's;
- JSON:API: `/api/identity_providers`, by internal id, errors `{"errors": [{"status", "detail",
  "source": {"pointer": "/data/attributes/<field>"}}]}`.

Used by the shared behaviour tests (test_identity_dialects_shared.py) and each dialect's own tests."""

import copy
import json
from dataclasses import dataclass
from typing import Any

from providers.api.idps import IDPS_CREATE_EXAMPLE  # the reference request, verbatim
from providers.api.jsonapi import CREATE_EXAMPLE as JSONAPI_CREATE_EXAMPLE
from providers.identity.services import SECRET_MASK

CANONICAL = "/api/identity-providers"
IDPS = "/api/idps"
JSONAPI = "/api/identity_providers"
MEDIA_TYPE = "application/vnd.api+json"


def oidc_body(**overrides) -> dict:
    """A canonical create body: an OIDC provider with its issuer, endpoints and client."""
    body = {
        "alias": "corp-oidc",
        "display_name": "Corporate OIDC",
        "provider_id": "oidc",
        "oidc_config": {
            "issuer": "https://sso.corp.test/realms/main",
            "authorization_url": "https://sso.corp.test/realms/main/auth",
            "token_url": "https://sso.corp.test/realms/main/token",
            "client_id": "registry",
            "client_secret": "corp-oidc-secret",
        },
    }
    body.update(overrides)
    return body


# idps-api-public-list.txt, "PUT /api/idps/:id" request, verbatim.
IDPS_UPDATE_EXAMPLE = {"display_name": "GitHub SSO", "enabled": True}


def jsonapi(client, method: str, path: str, document=None, **headers):
    """A JSON:API request: the media type in Accept and, with a document, as the content type."""
    kwargs = {"HTTP_ACCEPT": MEDIA_TYPE, **headers}
    if document is not None:
        kwargs.update(data=json.dumps(document), content_type=MEDIA_TYPE)
    return getattr(client, method)(path, **kwargs)


def with_attributes(**changes) -> dict:
    """The document's create example with attributes changed; None leaves one out."""
    attributes = {**JSONAPI_CREATE_EXAMPLE["data"]["attributes"], **changes}
    return {
        "data": {"type": "identity_providers", "attributes": {k: v for k, v in attributes.items() if v is not None}}
    }


def assert_jsonapi_errors(response, status: int) -> list[dict]:
    """A JSON:API error document: only `errors`, a non-empty list, each with the response's status."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"errors"}, body
    assert isinstance(body["errors"], list) and body["errors"]
    for error in body["errors"]:
        assert error["status"] == str(status)
    return body["errors"]


def _set(body: dict, path: str, value: Any) -> None:
    """Set a dotted path of `body`; None removes it."""
    *parents, name = path.split(".")
    for key in parents:
        body = body[key]
    if value is None:
        body.pop(name, None)
    else:
        body[name] = value


@dataclass(frozen=True)
class Dialect:
    """A dialect as its client sees it. Field names are the dialect's own spelling; a dotted name
    (`oidc_config.token_url`) is a field inside a section of the body."""

    name: str
    path: str
    media_type: str
    body: dict  # a valid create body
    secret: str  # the client secret `body` sends
    name_field: str  # the display name
    secret_field: str
    update_method: str
    required: tuple[str, ...]  # left out of a create, a 400 naming it
    url_fields: tuple[str, ...]  # not a URL, a 400 naming it
    invalid_ids: tuple[str, ...]  # a JSON 404 for each method
    secret_shown: str | None  # what reads show of the stored secret; None: not shown at all
    update_reply: dict | None  # what an update answers; None: the resource
    delete_reply: tuple[int, dict | None]  # status and body of a delete; None: no content
    duplicate_field: str | None = None  # a second create with the same name: 409 naming it (None: no 409)

    @property
    def jsonapi(self) -> bool:
        return self.media_type == MEDIA_TYPE

    def send(self, client, method: str, path: str = "", body=None):
        path = f"{self.path}{path}"
        if self.jsonapi:
            return jsonapi(client, method, path, body)
        if body is None:
            return getattr(client, method)(path)
        return getattr(client, method)(path, body, format="json")

    def create_body(self, **fields) -> dict:
        """The create body with fields changed (None: left out)."""
        body = copy.deepcopy(self.body)
        for field, value in fields.items():
            _set(body["data"]["attributes"] if self.jsonapi else body, field, value)
        return body

    def update_body(self, resource_id: str, **fields) -> dict:
        body: dict = {}
        for field, value in fields.items():
            target = body
            for key in field.split(".")[:-1]:
                target = target.setdefault(key, {})
            target[field.split(".")[-1]] = value
        if self.jsonapi:
            return {"data": {"type": "identity_providers", "id": resource_id, "attributes": body}}
        return body

    def create(self, client, **fields) -> str:
        """Create through the dialect; the id its URLs take."""
        response = self.send(client, "post", body=self.create_body(**fields))
        assert response.status_code == 201, response.content
        body = response.json()
        return {"canonical": body.get("alias"), "idps": body.get("id")}.get(self.name) or body["data"]["id"]

    def resource(self, response) -> dict:
        body = response.json()
        return body["data"]["attributes"] if self.jsonapi else body

    def value(self, response, field: str):
        """A field of the resource a response shows; KeyError when it is not shown."""
        value: Any = self.resource(response)
        for key in field.split("."):
            value = value[key]
        return value

    def ref(self, field: str) -> str:
        """How an error names a field."""
        return f"/data/attributes/{field}" if self.jsonapi else field

    def errors(self, response, status: int) -> dict[str, str]:
        """The error a response is, in this dialect's shape: {field reference: message}, "" for the
        message that names no field (`detail`)."""
        assert response.status_code == status, response.content
        assert response["Content-Type"].split(";")[0] == self.media_type, response["Content-Type"]
        if self.jsonapi:
            errors = assert_jsonapi_errors(response, status)
            return {error.get("source", {}).get("pointer", ""): error["detail"] for error in errors}
        body = response.json()
        assert isinstance(body, dict) and body, body
        return {("" if key == "detail" else key): " ".join(value) if isinstance(value, list) else value
                for key, value in body.items()}  # fmt: skip


DIALECTS = (
    Dialect(
        name="canonical",
        path=CANONICAL,
        media_type="application/json",
        body=oidc_body(),
        secret="corp-oidc-secret",
        name_field="display_name",
        secret_field="oidc_config.client_secret",
        update_method="patch",
        required=("alias", "provider_id"),
        url_fields=tuple(
            f"oidc_config.{name}" for name in ("issuer", "authorization_url", "token_url", "user_info_url", "jwks_url")
        ),
        invalid_ids=("no-such-idp", "has%20space"),
        secret_shown=SECRET_MASK,
        update_reply=None,
        delete_reply=(204, None),
        duplicate_field="alias",
    ),
    Dialect(
        name="idps",
        path=IDPS,
        media_type="application/json",
        body=IDPS_CREATE_EXAMPLE,
        secret="secret123",
        name_field="display_name",
        secret_field="client_secret",
        update_method="put",
        required=(
            "name",
            "type",
            "display_name",
            "client_id",
            "client_secret",
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
        ),
        url_fields=("token_endpoint", "authorization_endpoint", "userinfo_endpoint"),
        invalid_ids=(
            "not-a-uuid",
            "123",
            "00000000-0000-0000-0000-00000000000z",
            "5f0c1a9e-3b7d-4c2a-9e8f-0a1b2c3d4e5f",
        ),
        secret_shown=None,
        update_reply={"message": "Identity provider updated"},
        delete_reply=(200, {"message": "Identity provider deleted"}),
        duplicate_field="name",
    ),
    Dialect(
        name="jsonapi",
        path=JSONAPI,
        media_type=MEDIA_TYPE,
        body=JSONAPI_CREATE_EXAMPLE,
        secret=JSONAPI_CREATE_EXAMPLE["data"]["attributes"]["client_secret"],
        name_field="name",
        secret_field="client_secret",
        update_method="patch",
        required=("name", "client_id", "client_secret", "issuer", "token_url"),
        url_fields=("token_url", "authorize_url", "jwks_url", "issuer"),
        invalid_ids=("5f0c1a9e-3b7d-4c2a-9e8f-0a1b2c3d4e5f", "xYZkjABcde"),
        secret_shown=SECRET_MASK,
        update_reply=None,
        delete_reply=(204, None),
    ),
)
