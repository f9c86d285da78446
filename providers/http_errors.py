"""Error bodies answered outside DRF, by the middleware and Django's error handlers, in the shape
of the API dialect the path belongs to: JSON:API's `errors` array under `/api/identity_providers`
(and `/api/workspaces/{name}/identity_providers`),
the API's JSON elsewhere under `/api/`. Here rather than in `providers.api` so the middleware does
not import the API."""

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.views import defaults

# The JSON:API dialect's paths, un-prefixed or under a workspace (the schema's `{workspaceName}` too).
JSONAPI_PATH = re.compile(r"^/api(?:/workspaces/[^/]+)?/identity_providers(?:/|$)")


def is_jsonapi_path(path: str) -> bool:
    return JSONAPI_PATH.match(path) is not None


JSONAPI_MEDIA_TYPE = "application/vnd.api+json"
UNAVAILABLE = "The service is temporarily unavailable; try again shortly."
RETRY_AFTER_SECONDS = "5"


def api_error(request, status_code: int, message: str, parameter: str | None = None) -> JsonResponse | None:
    """An error answered outside DRF, in the body of the API dialect the path belongs to (None
    outside `/api/`); `parameter` names the query or form parameter at fault."""
    if is_jsonapi_path(request.path):
        error: dict[str, Any] = {"status": str(status_code), "title": message, "detail": message}
        if parameter:
            error["source"] = {"parameter": parameter}
        return JsonResponse({"errors": [error]}, status=status_code, content_type=JSONAPI_MEDIA_TYPE)
    if request.path.startswith("/api/"):
        return JsonResponse({parameter: [message]} if parameter else {"detail": message}, status=status_code)
    return None


def bad_request(request, exception: Exception) -> HttpResponse:
    """The answer to a request refused before any view (a body over `DATA_UPLOAD_MAX_MEMORY_SIZE`,
    too many fields, a Host not allowed, a malformed body): a 413 JSON body for one too large, a 400
    in JSON under `/api/` and Django's plain 400 page elsewhere. Never the debug page."""
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = f"The request body is larger than the {limit} bytes the server accepts."
        return api_error(request, 413, message) or JsonResponse({"detail": message}, status=413)
    return api_error(request, 400, "Bad request.") or defaults.bad_request(request, exception)
