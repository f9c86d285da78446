"""What every write may refuse with beyond Django's ValidationError and PermissionDenied: shared
by the accounts and providers services (accounts is the leaf app, so it lives here)."""

from django.db import IntegrityError


class ConflictError(Exception):
    """The request clashes with the current state (duplicate id, object still in use): HTTP 409."""

    def __init__(self, message: str, *, field: str | None = None, related: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.related = related or []


def violates(exc: IntegrityError, *, constraint: str, table: str, columns: tuple[str, ...]) -> bool:
    """Whether `exc` is a violation of the named unique constraint. PostgreSQL names the
    constraint; SQLite names only the table and columns (“UNIQUE constraint failed: t.a, t.b”)."""
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:
        return diag.constraint_name == constraint
    return str(exc) == "UNIQUE constraint failed: " + ", ".join(f"{table}.{column}" for column in columns)
