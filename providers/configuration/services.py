"""Plan and apply a configuration file against a workspace.

One pass over the file, a batch of objects at a time: each object is read (`kinds`), compared
with its stored row, checked with the services' own rules and, when applying, written through the
same services as the admin and the API. An apply is one transaction: an error in any object, a
deletion of something this file does not manage (without `prune_unmanaged`) or a plan that is no
longer the one reviewed (`if_plan`) rolls all of it back. A second apply of the same file finds
nothing to do and writes nothing."""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts import scoping
from providers import audit
from providers.models import Project, Provider
from providers.services import ConflictError

from . import document, selectors
from .document import DocumentError, Header, Item
from .kinds import ABSENT, KINDS, Context, FieldChange, ItemError, Kind, Wanted
from .refs import RefPolicy

CREATE, UPDATE, DELETE = "create", "update", "delete"
SYMBOLS = {CREATE: "+", UPDATE: "~", DELETE: "-"}
MAX_ERRORS = 50
# The order deletions run in: what links comes before what it links to.
DELETE_ORDER = ("projects", "identityProviders", "providers")

NO_CHANGES, ERROR, CHANGES, UNMANAGED = 0, 1, 2, 3
OTHER_PROVIDER_SECTION = {"providers": "identityProviders", "identityProviders": "providers"}


@dataclass
class Change:
    section: str
    key: str
    action: str
    fields: list[FieldChange] = field(default_factory=list)
    line: int = 0
    unmanaged: bool = False

    def lines(self) -> list[str]:
        note = " (not managed by this file)" if self.unmanaged else ""
        head = f"{SYMBOLS[self.action]} {self.action} {self.section} {self.key}{note}"
        return [head, *(f"    {change.describe()}" for change in self.fields)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "key": self.key,
            "action": self.action,
            "unmanaged": self.unmanaged,
            "fields": [change.as_dict() for change in self.fields],
        }


@dataclass
class Plan:
    """What a file changes: the changes in file order (deletions last), counts of the objects that
    stay as they are, the errors found. `hash` identifies the changes (each with its fields and
    whether it deletes an unmanaged object), for `apply --if-plan`."""

    managed_by: str = ""
    changes: list[Change] = field(default_factory=list)
    unchanged: Counter = field(default_factory=Counter)
    errors: list[DocumentError] = field(default_factory=list)
    applied: bool = False
    pruning: bool = False  # deletions of unmanaged objects allowed (`prune_unmanaged`)

    @property
    def hash(self) -> str:
        canonical = json.dumps([change.as_dict() for change in self.changes], sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def unmanaged_deletions(self) -> list[Change]:
        return [change for change in self.changes if change.unmanaged]

    @property
    def exit_code(self) -> int:
        if self.errors:
            return ERROR
        if self.unmanaged_deletions and not self.pruning:
            return UNMANAGED
        return CHANGES if self.changes and not self.applied else NO_CHANGES

    def counts(self) -> dict[str, int]:
        counted = Counter(change.action for change in self.changes)
        return {
            "create": counted[CREATE],
            "update": counted[UPDATE],
            "delete": counted[DELETE],
            "unchanged": sum(self.unchanged.values()),
        }

    def summary(self) -> str:
        counts = self.counts()
        if self.applied:
            words = f"{counts['create']:,} created, {counts['update']:,} updated, {counts['delete']:,} deleted"
        else:
            words = f"{counts['create']:,} to create, {counts['update']:,} to update, {counts['delete']:,} to delete"
        return f"{words}, {counts['unchanged']:,} unchanged."

    def as_dict(self) -> dict[str, Any]:
        return {
            "changes": [change.as_dict() for change in self.changes],
            "summary": self.summary(),
            "counts": self.counts(),
            "hash": self.hash,
            "exit_code": self.exit_code,
            "applied": self.applied,
        }


class ConfigRefusedError(Exception):
    """The apply was refused and rolled back: `plan` says why (errors, unmanaged deletions) or the
    plan is not the reviewed one (`mismatch`)."""

    def __init__(self, plan: Plan, *, mismatch: str = ""):
        super().__init__(mismatch or plan.summary())
        self.plan = plan
        self.mismatch = mismatch


class Progress:
    """Told how far the run is, per section: the command draws bars, the API ignores it."""

    def advance(self, section: str, count: int) -> None:
        pass

    def close(self) -> None:
        pass


_MISSING = object()


@dataclass
class _Run:
    context: Context
    plan: Plan
    applying: bool
    progress: Progress
    keys: dict[str, dict[str, int]] = field(default_factory=lambda: {name: {} for name in KINDS})
    deletions: list[tuple[Kind, Any, Change]] = field(default_factory=list)
    # Project id → the provider it links (None: none), for projects the file lists; absent: deleted.
    project_links: dict[str, str | None] = field(default_factory=dict)
    prune_unmanaged: bool = False

    def fail(self, errors: list[DocumentError]) -> None:
        room = MAX_ERRORS - len(self.plan.errors)
        self.plan.errors.extend(errors[: max(room, 0)])

    @property
    def writing(self) -> bool:
        return self.applying and not self.plan.errors

    def batch(self, kind: Kind, items: list[Item]) -> None:
        wanted: list[Wanted] = []
        for item in items:
            try:
                entry = kind.read(item, self.context)
            except ItemError as exc:
                self.fail(exc.errors)
                continue
            except DocumentError as exc:
                self.fail([exc])
                continue
            seen = self.keys[kind.section]
            if entry.key in seen:
                self.fail([item.error(f"Listed twice (first on line {seen[entry.key]}).", kind.key_field)])
                continue
            other = OTHER_PROVIDER_SECTION.get(kind.section)
            if other and entry.key in self.keys[other]:
                # Git and identity providers share their ids: one row each.
                message = f"Also listed under `{other}` (line {self.keys[other][entry.key]}): an id names one provider."
                self.fail([item.error(message, kind.key_field)])
                continue
            seen[entry.key] = item.line()
            if kind.section == "projects":
                self.project_links[entry.key] = None if entry.state == ABSENT else entry.values["provider"]
            elif kind.section == "providers" and entry.state != ABSENT:
                self.context.file_git_providers[entry.key] = entry.values["type"]
            wanted.append(entry)
        if not wanted:
            self.progress.advance(kind.section, len(items))
            return
        kind.prepare(wanted, self.context)
        rows = kind.stored([entry.key for entry in wanted], self.context)
        for entry in wanted:
            self.one(kind, entry, rows.get(entry.key, _MISSING))
        self.progress.advance(kind.section, len(items))

    def one(self, kind: Kind, entry: Wanted, row: Any) -> None:
        line = entry.item.line()
        if row is not _MISSING and (elsewhere := kind.elsewhere(row)):
            self.fail([entry.item.error(elsewhere, kind.key_field)])
            return
        if entry.state == ABSENT:
            if row is _MISSING:
                self.plan.unchanged[kind.section] += 1
                return
            managed = bool(self.context.managed_by) and kind.managed_by(row) == self.context.managed_by
            change = Change(kind.section, entry.key, DELETE, line=line, unmanaged=not managed)
            self.deletions.append((kind, row, change))
            return
        try:
            if row is _MISSING:
                kind.check_create(entry, self.context)
                change = Change(kind.section, entry.key, CREATE, line=line)
                self.plan.changes.append(change)
                if self.writing:
                    self.mark(kind.create(entry, self.context))
                return
            found = kind.changes(entry, row, self.context)
            marker = self.context.managed_by
            if marker and kind.managed_by(row) != marker:
                found.append(FieldChange("managedBy", kind.managed_by(row) or None, marker))
            if not found:
                self.plan.unchanged[kind.section] += 1
                return
            if any(change.path != "managedBy" for change in found):
                kind.check_update(entry, row, found, self.context)
            self.plan.changes.append(Change(kind.section, entry.key, UPDATE, found, line=line))
            if self.writing:
                kind.update(entry, row, found, self.context)
                self.mark(row)
        except ItemError as exc:
            self.fail(exc.errors)
        except ValidationError as exc:
            self.fail(kind.errors(entry, exc))
        except ConflictError as exc:
            path = kind.names.get(exc.field, exc.field) if exc.field else ""
            self.fail([entry.item.error(exc.message, path)])
        except PermissionDenied as exc:
            names = getattr(exc, "fields", None) or [""]
            self.fail([entry.item.error(str(exc.args[0] if exc.args else exc), kind.names.get(n, n)) for n in names])

    def mark(self, row: Provider | Project) -> None:
        """Record that this file manages the object (bookkeeping: not a change of its settings,
        so neither its ETag nor its history moves)."""
        marker = self.context.managed_by
        if marker and row.managed_by != marker:
            type(row)._base_manager.filter(pk=row.pk).update(managed_by=marker)
            row.managed_by = marker

    def managed_deletions(self) -> None:
        if not self.context.managed_by:
            return
        managed = selectors.managed_keys(workspace_id=self.context.workspace_id, managed_by=self.context.managed_by)
        for section, keys in managed.items():
            gone = [key for key, _ in keys if key not in self.keys[section]]
            kind = KINDS[section]
            for start in range(0, len(gone), selectors.CHUNK):
                rows = kind.stored(gone[start : start + selectors.CHUNK], self.context)
                for key, row in rows.items():
                    if row is not None:
                        self.deletions.append((kind, row, Change(section, key, DELETE)))

    def delete_all(self) -> None:
        self.deletions.sort(key=lambda entry: DELETE_ORDER.index(entry[0].section))
        deleted_projects = {change.key for kind, _, change in self.deletions if kind.section == "projects"}
        for kind, row, change in self.deletions:
            if kind.section != "projects" and (linked := self._still_linked(row, deleted_projects)):
                shown = ", ".join(linked[:10]) + (" …" if len(linked) > 10 else "")
                self.fail([_error_at(change, f"Still linked from projects: {shown}; link them elsewhere first.")])
                continue
            self.plan.changes.append(change)
            if self.writing and not (change.unmanaged and not self.prune_unmanaged):
                try:
                    kind.delete(row, self.context)
                except ConflictError as exc:
                    self.fail([_error_at(change, exc.message)])

    def _still_linked(self, provider: Provider, deleted_projects: set[str]) -> list[str]:
        """The projects that would still link `provider` once the file is applied (those it deletes,
        listed absent or managed and no longer listed, go first)."""
        stored = Project._base_manager.filter(provider_id=provider.pk).values_list("project_id", flat=True)
        links = self.project_links
        linked = {key for key in stored if key not in links and key not in deleted_projects}
        linked |= {key for key, target in links.items() if target == provider.provider_id}
        return sorted(linked)


def _error_at(change: Change, message: str) -> DocumentError:
    return DocumentError(message, line=change.line, path=f"{change.section}[{change.key}]")


def _run(
    stream: IO[str] | IO[bytes] | str,
    *,
    workspace_id: int,
    actor,
    policy: RefPolicy,
    applying: bool,
    prune_unmanaged: bool,
    progress: Progress,
) -> Plan:
    with scoping.within(workspace_id):  # new rows are this workspace's
        plan = Plan(pruning=prune_unmanaged)
        context = Context(workspace_id=workspace_id, actor=actor, policy=policy, managed_by="")
        run = _Run(context=context, plan=plan, applying=applying, progress=progress, prune_unmanaged=prune_unmanaged)
        pending: dict[str, list[Item]] = {}
        deferred: list[Item] = []  # projects listed before the providers they may link have all been read
        providers_read = False
        last = ""
        try:
            for element in document.read(stream):
                if isinstance(element, Header):
                    context.managed_by = plan.managed_by = element.managed_by
                    continue
                section = element.section
                providers_read = providers_read or (last == "providers" and section != "providers")
                last = section
                if section == "projects" and not providers_read:
                    deferred.append(element)
                    continue
                for other in [name for name in pending if name != section]:
                    run.batch(KINDS[other], pending.pop(other))
                pending.setdefault(section, []).append(element)
                if len(pending[section]) >= selectors.CHUNK:
                    run.batch(KINDS[section], pending.pop(section))
        except DocumentError as exc:
            run.fail([exc])
            progress.close()
            return plan
        for section in list(pending):
            run.batch(KINDS[section], pending.pop(section))
        for start in range(0, len(deferred), selectors.CHUNK):
            run.batch(KINDS["projects"], deferred[start : start + selectors.CHUNK])
        run.managed_deletions()
        run.delete_all()
        progress.close()
        return plan


def config_plan(
    stream: IO[str] | IO[bytes] | str,
    *,
    workspace_id: int,
    actor=None,
    policy: RefPolicy,
    progress: Progress | None = None,
) -> Plan:
    """What applying the file would do; writes nothing."""
    return _run(
        stream,
        workspace_id=workspace_id,
        actor=actor,
        policy=policy,
        applying=False,
        prune_unmanaged=False,
        progress=progress or Progress(),
    )


def config_apply(
    stream: IO[str] | IO[bytes] | str,
    *,
    workspace_id: int,
    actor=None,
    policy: RefPolicy,
    if_plan: str | None = None,
    prune_unmanaged: bool = False,
    progress: Progress | None = None,
) -> Plan:
    """Apply the file, all of it or nothing. Raises ConfigRefusedError (everything rolled back) on an
    error, on deletions of objects not managed by this file without `prune_unmanaged`, or when
    `if_plan` is given and the plan is another."""
    with transaction.atomic():
        plan = _run(
            stream,
            workspace_id=workspace_id,
            actor=actor,
            policy=policy,
            applying=True,
            prune_unmanaged=prune_unmanaged,
            progress=progress or Progress(),
        )
        if plan.errors or (plan.unmanaged_deletions and not prune_unmanaged):
            raise ConfigRefusedError(plan)
        if if_plan is not None and if_plan != plan.hash:
            raise ConfigRefusedError(
                plan, mismatch=f"The plan is now {plan.hash}, not {if_plan}: plan again and review it."
            )
        plan.applied = True
        if plan.changes:
            audit.record(
                action="update",
                actor=actor,
                object_type="configuration",
                object_id=plan.managed_by[:64],
                detail=f"{plan.summary()} Plan {plan.hash}.",
                workspace_id=workspace_id,
            )
    return plan


__all__ = ["ConfigRefusedError", "Plan", "Progress", "config_apply", "config_plan"]
