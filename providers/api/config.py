"""`/api/config/…`: configuration as code (docs/config.md). For now the file's JSON Schema, which is
derived from code and holds nothing secret, so anyone may read it (an editor fetching it has no token)."""

from functools import cache

from django.http import HttpResponse, HttpResponseNotModified
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from providers.concurrency import entity_tag, header_names_tag
from providers.configuration.schema import config_schema, dumps

SCHEMA_MAX_AGE = 3600


@cache
def schema_document() -> tuple[bytes, str]:
    """The schema's text and its ETag, built once per process: the catalogues do not change while it runs."""
    text = dumps(config_schema())
    return text.encode(), entity_tag(text)


class JsonSchemaRenderer(JSONRenderer):
    """JSON Schema's own media type; plain `application/json` is served to those who ask for it."""

    media_type = "application/schema+json"


@extend_schema(tags=["Configuration as code"])
class ConfigSchemaView(APIView):
    """The same document as `docs/config-schema.json`."""

    authentication_classes: list = []  # public: a stale token must not turn an editor's fetch into a 401
    permission_classes = [AllowAny]
    renderer_classes = [JsonSchemaRenderer, JSONRenderer]

    @extend_schema(
        operation_id="config_schema_retrieve",
        summary="JSON Schema of the configuration file (no authentication)",
        description=(
            "JSON Schema (draft 2020-12) of the file `config export` writes and `config plan` / `config apply` "
            "read, for editors to validate against. Answers with an `ETag` and `Cache-Control`; send the tag "
            "back in `If-None-Match` to get `304 Not Modified`."
        ),
        auth=[],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The JSON Schema."),
            304: OpenApiResponse(description="Not modified: `If-None-Match` names the current `ETag`."),
        },
    )
    def get(self, request):
        body, etag = schema_document()
        headers = {"ETag": etag, "Cache-Control": f"public, max-age={SCHEMA_MAX_AGE}"}
        if header_names_tag(request.headers.get("If-None-Match"), etag):
            return HttpResponseNotModified(headers=headers)
        return HttpResponse(body, content_type=request.accepted_renderer.media_type, headers=headers)
