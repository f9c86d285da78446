import socket
import threading
import time

from django.db import connection

from accounts.models import DEFAULT_WORKSPACE_ID
from accounts.scoping import activate


class MeasureMiddleware:
    """`X-Queries`: SQL statements the request ran; `X-Server-Ms`: time spent inside Django."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        start = time.perf_counter()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
        response["X-Queries"] = str(queries)
        response["X-Server-Ms"] = f"{(time.perf_counter() - start) * 1000:.3f}"
        return response


class FloorWorkspaceMiddleware:
    """The floor's and the naive baseline's views act on the default workspace, scoped as the
    product's are (after the product's guard: `accounts.scoping`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(("/floor/", "/naive/")):
            activate(DEFAULT_WORKSPACE_ID)
        return self.get_response(request)


class _OutboundClock(threading.local):
    active = False
    seconds = 0.0
    connects = 0


_outbound = _OutboundClock()


def _clocked(name: str) -> None:
    original = getattr(socket.socket, name)

    def method(sock, *args, **kwargs):
        if not _outbound.active:
            return original(sock, *args, **kwargs)
        if name in ("connect", "connect_ex"):
            _outbound.connects += 1
        start = time.perf_counter()
        try:
            return original(sock, *args, **kwargs)
        finally:
            _outbound.seconds += time.perf_counter() - start

    setattr(socket.socket, name, method)


class OutboundTimeMiddleware:
    """`X-Outbound-Ms`: time the request spent blocked on Python sockets (connecting, sending,
    receiving), i.e. waiting for the identity provider, whichever HTTP client the view uses (the
    standard library's http.client, requests/urllib3); `X-Outbound-Connects`: connections opened.
    The database goes through libpq's own sockets and is not counted. Installed inside
    `MeasureMiddleware`, so `X-Server-Ms` − `X-Outbound-Ms` is the app's own time. Only in the
    sign-in benchmark's settings (bench/settings_signin.py)."""

    patched = False

    def __init__(self, get_response):
        self.get_response = get_response
        if not OutboundTimeMiddleware.patched:
            for name in ("connect", "connect_ex", "send", "sendall", "recv", "recv_into"):
                _clocked(name)
            OutboundTimeMiddleware.patched = True

    def __call__(self, request):
        _outbound.active, _outbound.seconds, _outbound.connects = True, 0.0, 0
        try:
            response = self.get_response(request)
        finally:
            _outbound.active = False
        response["X-Outbound-Ms"] = f"{_outbound.seconds * 1000:.3f}"
        response["X-Outbound-Connects"] = str(_outbound.connects)
        return response
