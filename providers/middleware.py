from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseBadRequest

from providers.http_errors import RETRY_AFTER_SECONDS, UNAVAILABLE, api_error


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
        response = api_error(request, 503, UNAVAILABLE) or HttpResponse(
            UNAVAILABLE, status=503, content_type="text/plain"
        )
        response["Retry-After"] = RETRY_AFTER_SECONDS
        return response
