"""The API's one exception handler: domain and database errors become JSON 4xx bodies whose keys
name the fields as clients spell them (`urls.apiBase`, `credentials.content.accessToken`)."""

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.db.models import ProtectedError
from django.views import defaults
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from providers import audit
from providers.concurrency import PreconditionFailedError
from providers.http_errors import RETRY_AFTER_SECONDS, UNAVAILABLE, api_error, bad_request
from providers.keys import UndecryptableSecret
from providers.services import ConflictError, FieldPermissionDenied

logger = logging.getLogger(__name__)


def flatten_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """`{"urls": {"apiBase": ["…"]}}` → `{"urls.apiBase": ["…"]}`; lists of strings stay lists."""
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for key, value in errors.items():
            if key == "non_field_errors" and prefix:
                flat.update(flatten_errors(value, prefix))
            else:
                flat.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(errors, list) and any(isinstance(item, (dict, list)) for item in errors):
        flat = {}
        for index, item in enumerate(errors):
            if item:
                flat.update(flatten_errors(item, f"{prefix}.{index}"))
        return flat
    messages = errors if isinstance(errors, list) else [errors]
    return {prefix or "non_field_errors": [str(message) for message in messages]}


def _api_names(context) -> dict[str, str]:
    """Model field → the name this endpoint's clients use, from the view or its serializer."""
    view = context.get("view")
    if view is None:
        return {}
    if hasattr(view, "api_field_names"):
        return dict(view.api_field_names)
    serializer_class = getattr(view, "get_serializer_class", lambda: None)()
    return dict(getattr(serializer_class, "api_field_names", {}))


def _rename(errors: dict[str, list[str]], names: dict[str, str]) -> dict[str, list[str]]:
    renamed: dict[str, list[str]] = {}
    for key, messages in errors.items():
        renamed.setdefault(names.get(key, key), []).extend(messages)
    return renamed


def _audit_refusal(exc, context) -> None:
    """Record permission-denied attempts of signed-in users (anonymous 401s are not recorded)."""
    request = context.get("request")
    view = context.get("view")
    if request is None or not request.user.is_authenticated:
        return
    kwargs = getattr(view, "kwargs", {}) or {}
    object_id = next((str(value) for value in kwargs.values()), "")
    object_type = getattr(view, "basename", None) or type(view).__name__
    fields = list(getattr(exc, "fields", []) or [])
    audit.record(
        action="denied",
        actor=request.user,
        object_type=object_type,
        object_id=object_id,
        fields=fields,
        ok=False,
        detail=f"{request.method} {request.path}"[:500],
    )


def exception_handler(exc, context):
    body: dict[str, Any]
    if isinstance(exc, (PermissionDenied, DjangoPermissionDenied)):
        _audit_refusal(exc, context)
    if isinstance(exc, UndecryptableSecret):
        logger.error("%s", exc)
        return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    if isinstance(exc, PreconditionFailedError):
        return Response(
            {"detail": "The resource changed since you read it: If-Match does not match its ETag."},
            status=status.HTTP_412_PRECONDITION_FAILED,
        )
    if isinstance(exc, ObjectDoesNotExist):  # the row went away while the request ran
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        renamed = _rename({key: list(value) for key, value in errors.items()}, _api_names(context))
        body = {("non_field_errors" if key == "__all__" else key): value for key, value in renamed.items()}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ConflictError):
        body = {"detail": exc.message}
        if exc.field:
            body[_api_names(context).get(exc.field, exc.field)] = [exc.message]
        if exc.related:
            body["projects"] = exc.related
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ProtectedError):
        related = sorted(str(obj) for obj in exc.protected_objects)[:50]
        return Response({"detail": "The object is still in use.", "projects": related}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, IntegrityError):
        logger.info("Integrity error answered with 409: %s", type(exc).__name__)
        return Response(
            {"detail": "The request conflicts with the current state (duplicate or in-use value)."},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, FieldPermissionDenied):
        names = _api_names(context)
        body = {"detail": str(exc.args[0])}
        for field in exc.fields:
            body[names.get(field, field)] = ["You may not change this field."]
        return Response(body, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, DataError):
        logger.info("Database refused a value: %s", type(exc).__name__)
        return Response({"detail": "A value was refused by the database."}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.error("Database unavailable: %s", type(exc).__name__)
        return Response(
            {"detail": UNAVAILABLE},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError):
        response.data = flatten_errors(response.data)
    return response


def _json_or(default_view, status_code: int, message: str):
    """Outside DRF (unknown URL, body too large, crash), answer `/api/` clients in JSON too."""

    def view(request, exception=None):
        response = api_error(request, status_code, message)
        if response is not None:
            return response
        return default_view(request, exception) if exception is not None else default_view(request)

    return view


def handler403(request, exception=None):
    """Refusals outside DRF (the admin) are audited too; `/api/` clients get JSON."""
    if request.user.is_authenticated:
        audit.record(
            action="denied",
            actor=request.user,
            object_type="page",
            ok=False,
            detail=f"{request.method} {request.path}"[:500],
        )
    response = api_error(request, 403, "You do not have permission to perform this action.")
    return response or defaults.permission_denied(request, exception)


def handler400(request, exception):
    """A body over `DATA_UPLOAD_MAX_MEMORY_SIZE` is a 413 that says so; other refusals a 400."""
    return bad_request(request, exception)


handler404 = _json_or(defaults.page_not_found, 404, "Not found.")
handler500 = _json_or(defaults.server_error, 500, "Server error.")
