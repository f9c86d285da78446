"""OpenAPI post-processing: the one place that documents the error responses every operation can
give, with the body each one has, so views declare only what is particular to them."""

import re
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from providers.http_errors import JSONAPI_MEDIA_TYPE, is_jsonapi_path

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The `ETag` of your last read: the write is refused with 412 if the object changed since.",
)
ERROR_SCHEMA = {
    "type": "object",
    "description": "`detail` explains a refusal; every other key names a field (dotted, as clients spell it).",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "example": {"credentials.content.accessToken": ["This field is required."]},
}
JSONAPI_ERRORS_SCHEMA = {
    "type": "object",
    "description": "JSON:API error objects; `source.pointer` names the member at fault.",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status", "detail"],
                "properties": {
                    "status": {"type": "string"},
                    "title": {"type": "string"},
                    "detail": {"type": "string"},
                    "source": {"type": "object", "properties": {"pointer": {"type": "string"}}},
                },
            },
        }
    },
}

COMMON = {
    "400": "Invalid input: each key names the field or parameter at fault (`detail` for a malformed body).",
    "406": "The `Accept` header asks for a media type the API does not produce.",
    "429": "Too many requests (or too many invalid tokens from this address); retry after `Retry-After` seconds.",
    "503": "The database is unavailable; retry after `Retry-After` seconds.",
}
SIGNED_IN = {
    "401": "Not authenticated, or the API token is invalid, expired or revoked.",
    "403": "Signed in, but without the permission this operation needs.",
}
LOOKUP = {"404": "No such object, or not visible to you."}
LISTING = {"404": "Invalid pagination cursor."}
FORMAT = {"404": "Unknown `format`."}
WRITE = {
    "409": "The write conflicts with the current state (duplicate id, or the object is still in use).",
    "413": "The body is larger than the server accepts (`DATA_UPLOAD_MAX_MEMORY_SIZE`).",
    "415": "The body's `Content-Type` is not one this operation accepts.",
}
CONDITIONAL = {"412": "`If-Match` does not match the object's current `ETag`; nothing was changed."}
PAGINATION = {"cursor", "page[cursor]"}
WRITES = {"post", "put", "patch", "delete"}


def _error_codes(path: str, method: str, operation: dict[str, Any]) -> dict[str, str]:
    codes = dict(COMMON)
    if operation.get("security"):  # public operations (the login list) have none
        codes.update(SIGNED_IN)
    has_lookup = bool(re.search(r"\{[^}]+\}", path))
    names = {parameter["name"] for parameter in operation.get("parameters", [])}
    if has_lookup:
        codes.update(LOOKUP)
    elif names & PAGINATION:
        codes.update(LISTING)
    elif "format" in names:
        codes.update(FORMAT)
    if method in WRITES:
        codes.update(WRITE)
    if "If-Match" in names:
        codes.update(CONDITIONAL)
    return codes


class DocumentSchema(AutoSchema):
    """For views whose list answers one JSON object (`{"providers": [...]}`), not a bare array."""

    def _is_list_view(self, serializer=None) -> bool:
        return False

    def get_operation_id(self):
        """Still `…_list` for a list (the path's tokens, the workspace's too, keep ids unique)."""
        operation_id = super().get_operation_id()
        if getattr(self.view, "action", None) == "list":
            return operation_id.removesuffix("_retrieve") + "_list"
        return operation_id


# Bodies that say more than `Error` on a refusal (a configuration file's plan, with its errors):
# the operations that declare them answer either (the generic checks, such as a NUL in a query
# parameter, still answer `Error`).
OWN_ERROR_BODIES = {"#/components/schemas/ConfigPlan"}


def _declares_own_body(response: dict[str, Any]) -> bool:
    return any(
        media.get("schema", {}).get("$ref") in OWN_ERROR_BODIES for media in response.get("content", {}).values()
    )


def document_errors(result, generator, request, public):
    """Every operation lists the 4xx/5xx it can answer, each with the error body of its dialect."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["JsonApiErrors"] = JSONAPI_ERRORS_SCHEMA
    for path, item in result["paths"].items():
        jsonapi = is_jsonapi_path(path)
        ref = {"$ref": "#/components/schemas/JsonApiErrors" if jsonapi else "#/components/schemas/Error"}
        media_types = [JSONAPI_MEDIA_TYPE, "application/json"] if jsonapi else ["application/json"]
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for code, description in _error_codes(path, method, operation).items():
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if int(code) >= 400 and _declares_own_body(response):
                    for media in response["content"].values():
                        media["schema"] = {"oneOf": [media["schema"], ref]}
                elif int(code) >= 400:
                    response["content"] = {media_type: {"schema": ref} for media_type in media_types}
                    response["description"] = response.get("description") or SIGNED_IN.get(code, "Error.")
            operation["responses"] = dict(sorted(responses.items()))
    return result


def strip_trailing_slashes(result, generator, request, public):
    """The routes accept both spellings; the schema documents the one the reference documents use."""
    result["paths"] = {path.rstrip("/") or "/": item for path, item in result["paths"].items()}
    return result


# The responses the operations document, shared by every dialect.
ERROR = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "example": {"credentials.content.accessToken": ["This field is required."]},
}
DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}}
CONFLICT = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "id": {"type": "array", "items": {"type": "string"}},
        "projects": {"type": "array", "items": {"type": "string"}},
    },
}
AUTH_ERRORS = {
    401: OpenApiResponse(DETAIL, description="Not authenticated, or the token is invalid, expired or revoked."),
    403: OpenApiResponse(DETAIL, description="Authenticated but not allowed (group `access_token_manager`)."),
    503: OpenApiResponse(DETAIL, description="The database is unavailable; retry after `Retry-After` seconds."),
}
LIST_ERRORS = {
    400: OpenApiResponse(ERROR, description="Invalid filter value: the key names the parameter."),
    404: OpenApiResponse(DETAIL, description="Invalid cursor."),
}
UNSUPPORTED = {415: OpenApiResponse(DETAIL, description="The body is not JSON.")}
NOT_FOUND = {404: OpenApiResponse(DETAIL, description="No such object (or not visible to you).")}
BAD_REQUEST = {400: OpenApiResponse(ERROR, description="Invalid body: each key names a field.")}
