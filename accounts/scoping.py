"""The one place querysets of workspace-owned rows are scoped (django-scopes).

Every model a workspace owns has a `WorkspaceManager` as `objects`: inside a scope its querysets
hold only the scope's workspaces; outside one (or in a request that has not said which workspace
it acts on) any query raises `ScopeError` instead of reading every tenant's rows. Requests are
guarded by `providers.middleware.WorkspaceScopeMiddleware`; the API's views `activate()` the
workspace of their URL once the caller is known, the admin the workspace of its switcher.
Commands (manage.py) and tests span workspaces (`every_workspace()`) unless they narrow.

A scope's value is a workspace id, a list of ids, or None for every workspace (superusers in the
admin). New rows take the scope's workspace when it is a single one (`current_workspace_id`)."""

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from django.db import models
from django_scopes import get_scope, scope, scopes_disabled
from django_scopes.exceptions import ScopeError
from django_scopes.manager import DisabledQuerySet
from django_scopes.state import state

from .models import DEFAULT_WORKSPACE_ID

DIMENSION = "workspace"
ALL = None  # a scope over every workspace

T = TypeVar("T")
Q = TypeVar("Q", bound=models.QuerySet)


class WorkspaceManager(models.Manager):
    """The default manager of a model whose rows belong to the workspace at `workspace_path` (a
    subclass names another path: a class attribute, since Django builds related managers from the
    class). Its querysets are limited by the active scope, and refuse to run without one."""

    workspace_path = "workspace"

    def get_queryset(self):
        current = get_scope()
        if current.get("_enabled", True) and DIMENSION not in current:
            return DisabledQuerySet(self.model, using=self._db, missing_scopes=[DIMENSION])
        return scoped(super().get_queryset(), self.workspace_path)


def every_workspace():
    """A context where queries are not scoped: commands and tests that span workspaces."""
    return scopes_disabled()


def within(value: int | list[int] | None):
    """A context where queries see the workspace(s) `value` (see the module's docstring)."""
    return scope(**{DIMENSION: value})


def guarded():
    """A context where queries of workspace-owned rows raise until `activate()` names a workspace."""
    return scope()


def activate(value: int | list[int] | None) -> None:
    """Narrow the current request to `value` for the rest of it: the guard around the request
    restores what was before when it ends."""
    current = dict(get_scope())
    current.update({"_enabled": True, DIMENSION: value})
    state.set(current)


def active() -> tuple[bool, Any]:
    """(whether a workspace scope is in force, its value)."""
    current = get_scope()
    if not current.get("_enabled", True):
        return False, ALL
    if DIMENSION not in current:
        raise ScopeError("A workspace scope needs to be active for this query.")
    return True, current[DIMENSION]


def scoped(queryset: Q, path: str = "workspace") -> Q:
    """`queryset`, built once per process without a scope (a template), limited as the active
    scope limits a manager's querysets."""
    enabled, value = active()
    if not enabled or value is ALL:
        return queryset
    if isinstance(value, list | tuple):
        return queryset.filter(**{f"{path}__in": value})
    return queryset.filter(**{path: value})


def current_single_workspace() -> int | None:
    """The scope's workspace when it is exactly one (a request acting on one workspace)."""
    current = get_scope()
    value = current.get(DIMENSION) if current.get("_enabled", True) else None
    return value if isinstance(value, int) else None


def current_workspace_id() -> int:
    """The workspace new rows belong to: the scope's, when it is one workspace; else the default
    workspace (rows written by commands and tests that name none)."""
    return current_single_workspace() or DEFAULT_WORKSPACE_ID


def bound(iterable: Iterable[T]) -> Iterator[T]:
    """Iterate `iterable` (a streamed response's body) in the scope active now: the body is read
    after the request's guard has ended."""
    snapshot = dict(get_scope())

    def run() -> Iterator[T]:
        saved = state.set(snapshot)
        try:
            yield from iterable
        finally:
            state.reset(saved)

    return run()


__all__ = [
    "ALL",
    "ScopeError",
    "WorkspaceManager",
    "activate",
    "active",
    "bound",
    "current_single_workspace",
    "current_workspace_id",
    "every_workspace",
    "get_scope",
    "guarded",
    "scoped",
    "within",
]
