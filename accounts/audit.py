"""Where the accounts services report their writes (workspaces and memberships) to the audit log.

The log is `providers.audit`, and providers builds on accounts: accounts, the leaf app, imports
nothing from it, so providers installs its recorder here when it starts (`ProvidersConfig.ready`).
A write made while no recorder is installed fails instead of going unaudited."""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_recorder: Callable[..., Any] | None = None


def install(recorder: Callable[..., Any]) -> None:
    """Make `recorder` (keyword arguments as `providers.audit.record`'s) the one every write calls."""
    global _recorder
    _recorder = recorder


def record(**event: Any) -> None:
    """Record one event in the workspace `event["workspace_id"]` names (or the object's own)."""
    if _recorder is None:
        raise ImproperlyConfigured("No audit recorder installed: the providers app records the accounts' writes.")
    _recorder(**event)
