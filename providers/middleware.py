import logging
import secrets

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils.log import log_response

from accounts import scoping
from accounts.selectors import admin_scope
from providers.http_errors import RETRY_AFTER_SECONDS, UNAVAILABLE, api_error, bad_request
from providers.signin.csp import form_targets

REFUSED = (SuspiciousOperation, BadRequest)

# Every HTML page (admin, sign-in, Swagger UI, Redoc, error pages): scripts and style sheets from this
# server only, and inline ones only with the request's nonce (`request.csp_nonce`, templates write
# `nonce="{{ request.csp_nonce }}"`); no inline event handlers or style attributes, no plugins, no
# <base>, no framing, forms post here only (a sign-in page whose forms are redirected on to an
# identity provider also lists that provider's origin: `providers.signin.csp`). Images and fonts may
# also be data: URLs (the admin's icons, Swagger UI's and Redoc's); Redoc's search runs in a worker
# it starts from a blob: URL.
# Two style hashes: the style sheet Redoc's bundle inserts as it loads (perfect-scrollbar's), before
# it can be handed the nonce, and the empty <style> it starts from; they allow those contents only.
REDOC_STYLE_HASHES = (
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc=' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
    f"style-src 'self' 'nonce-{{nonce}}' {REDOC_STYLE_HASHES}; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    """Enforces `CONTENT_SECURITY_POLICY` on every HTML response, whichever settings module and
    whatever answered it (a view, an error handler, a refusal before any view): first in line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(18)
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            policy = CONTENT_SECURITY_POLICY.format(nonce=request.csp_nonce)
            targets = form_targets(request)  # the identity providers a sign-in page's forms lead to
            if targets:
                policy = policy.replace("form-action 'self'", "form-action 'self' " + " ".join(targets))
            response.headers.setdefault("Content-Security-Policy", policy)
        return response


class RefuseMalformedRequestsMiddleware:
    """Django refuses a Host that is not allowed, more than `DATA_UPLOAD_MAX_NUMBER_FIELDS` fields
    and a body over `DATA_UPLOAD_MAX_MEMORY_SIZE` by raising where they are first read — in a
    middleware or a view — and with DEBUG on it answers them with the debug page, which lists the
    settings and the environment to anyone. This middleware, first in line, reads them before anything
    else does and answers `http_errors.bad_request` (413 JSON, 400 JSON under /api/, a plain 400 page)
    whatever DEBUG says; what a view raises later is answered the same way."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            request.get_host()
            request.GET  # noqa: B018  parsing the query string counts its fields
            if request.method == "POST" and request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                request.POST  # noqa: B018  parsing the form counts fields, files and bytes
            elif request.content_type != "multipart/form-data" and request.META.get("CONTENT_LENGTH", "").isdigit():
                request.body  # noqa: B018  Django refuses a body over the limit before reading it
        except REFUSED as exception:
            return _refuse(request, exception)
        return self.get_response(request)

    def process_exception(self, request, exception):
        return _refuse(request, exception) if isinstance(exception, REFUSED) else None


def _refuse(request, exception: Exception) -> HttpResponse:
    response = bad_request(request, exception)
    # Logged as Django logs it: django.security.<name> for a suspicious request, django.request otherwise.
    if isinstance(exception, SuspiciousOperation):
        logger = logging.getLogger(f"django.security.{type(exception).__name__}")
        log_response(
            str(exception), exception=exception, request=request, response=response, level="error", logger=logger
        )
    else:
        log_response("%s: %s", str(exception), request.path, exception=exception, request=request, response=response)
    return response


class RejectNulBytesMiddleware:
    """PostgreSQL text cannot hold NUL bytes: a query or form parameter carrying one would reach a
    filter or search and fail deep inside the database driver. Refuse it up front with a 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offending = "path" if "\x00" in request.path else None
        for key, value in _params(request):
            if offending is None and ("\x00" in key or "\x00" in value):
                offending = key.replace("\x00", "")[:64]
        if offending is None:
            return self.get_response(request)
        message = "Null characters are not allowed."
        return api_error(request, 400, message, offending) or HttpResponseBadRequest(f"{offending}: {message}")


def _params(request):
    for key, values in request.GET.lists():
        for value in values:
            yield key, value
    if request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        for key, values in request.POST.lists():
            for value in values:
                yield key, value


class DatabaseUnavailableMiddleware:
    """Outside DRF (the admin, the login page), a lost database connection is a 503 with
    `Retry-After`, not a 500; Django drops the broken connection at the end of the request,
    so the next request reconnects by itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        return unavailable(request)


def unavailable(request) -> HttpResponse:
    """The 503 with `Retry-After` a request that lost the database gets."""
    response = api_error(request, 503, UNAVAILABLE) or HttpResponse(UNAVAILABLE, status=503, content_type="text/plain")
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


class WorkspaceScopeMiddleware:
    """Guards every request (`accounts.scoping`): a query of workspace-owned rows made before the
    view has said which workspace it acts on raises instead of reading them all. The admin's
    workspaces are set here (the session's user is known); the API's by its views, once the
    token is (`providers.api.scope`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with scoping.guarded():
            if request.path_info.startswith("/admin/"):
                try:
                    scoping.activate(admin_scope(request))
                except (OperationalError, InterfaceError):  # as a view's lost database: a 503
                    return unavailable(request)
            return self.get_response(request)


# The query parameters that carry a search term: the admin's changelist (`q`) and autocomplete
# (`term`), the API's lists (`search`).
SEARCH_PARAMETERS = ("q", "term", "search")


class SearchPlansMiddleware:
    """A search's statements are planned for its own term. On PostgreSQL the connection prepares a
    statement it has run `DATABASE_PREPARE_THRESHOLD` times (config/settings/base.py), and
    PostgreSQL may then plan it once for every parameter value (a generic plan). For a search,
    `workspace_id = $1 AND UPPER(provider_id) LIKE UPPER($2)`, that plan cannot see the term: it
    reads the whole workspace through the workspace index instead of the trigram index, 16 ms
    instead of 0.7 ms in a workspace of 11,000 providers among 100 (docs/benchmarks-workspaces.md).
    A request that searches runs its statements unprepared (psycopg's `prepare_threshold = None`:
    no statement is added, each is planned with its values); every other request keeps them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if connection.vendor != "postgresql" or not any(request.GET.get(name) for name in SEARCH_PARAMETERS):
            return self.get_response(request)
        connection.ensure_connection()
        raw = connection.connection
        kept = raw.prepare_threshold
        raw.prepare_threshold = None
        try:
            return self.get_response(request)
        finally:
            if connection.connection is raw:  # not closed and reopened by the request
                raw.prepare_threshold = kept
