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
