"""The audit log: one `AuditEvent` per write or refused attempt, with who, what, which fields,
from where (API, admin or command line, and the client address). Field names only, never values.
The request in progress is known through a context variable set by `AuditContextMiddleware`."""

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import models

from accounts.models import DEFAULT_WORKSPACE_ID, Workspace
from accounts.scoping import current_single_workspace, get_scope

from .models import AuditEvent

_request: ContextVar[Any] = ContextVar("audit_request", default=None)


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with serving(request):
            return self.get_response(request)


@contextmanager
def serving(request):
    """While `request` is served: what the audit entries record of it, and what tells a request
    from a command (`in_request`)."""
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)


def in_request() -> bool:
    """Whether a request is being served (else a command runs: manage.py, run on the server)."""
    return _request.get() is not None


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or the first X-Forwarded-For hop when the peer is a trusted proxy."""
    remote = request.META.get("REMOTE_ADDR") or None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and remote in settings.AUDIT_TRUSTED_PROXIES:
        return forwarded.split(",")[0].strip()[:45] or remote
    return remote


def _source(request) -> str:
    if request is None:
        return "cli"
    if request.path.startswith("/api/"):
        return "api"
    if request.path.startswith("/admin/"):
        return "admin"
    return "web"


def _request_workspace() -> int | None:
    """The one workspace the request acts on; the default workspace for commands (unscoped)."""
    if not get_scope().get("_enabled", True):
        return DEFAULT_WORKSPACE_ID
    return current_single_workspace()


def workspace_of(obj: models.Model) -> int | None:
    """The workspace an audited object belongs to (a provider's, project's or membership's own;
    an identity configuration's, domain's or mapper's through its provider; a workspace is its
    own); None to take the request's."""
    if isinstance(obj, Workspace):
        return obj.pk
    for path in ("workspace_id", "provider.workspace_id", "identity.provider.workspace_id"):
        value: Any = obj
        for name in path.split("."):
            value = getattr(value, name, None)
        if value is not None:
            return value
    return None


def record(
    *,
    action: str,
    actor=None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    fields: list[str] | None = None,
    ok: bool = True,
    detail: str = "",
    workspace_id: int | None = None,
) -> AuditEvent | None:
    """Record one event in the log of `workspace_id`, else of the object's workspace, else of the
    request's one workspace."""
    request = _request.get()
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    if obj is not None:
        object_type = object_type or obj._meta.model_name or ""
        object_id = object_id or str(getattr(obj, "provider_id", None) or getattr(obj, "project_id", None) or obj.pk)
    workspace_id = workspace_id or (workspace_of(obj) if obj is not None else None) or _request_workspace()
    if workspace_id is None:
        # A refusal outside any one workspace (the workspace API, the admin's "All workspaces"):
        # no workspace's log may show it, so none does.
        return None
    return AuditEvent.objects.create(
        workspace_id=workspace_id,
        actor=user,
        actor_name=user.get_username() if user else "",
        action=action,
        object_type=object_type[:40],
        object_id=str(object_id)[:64],
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:200],
        fields=list(fields or []),
        source=_source(request),
        ip=client_ip(request) if request is not None else None,
        ok=ok,
        detail=detail[:500],
    )
