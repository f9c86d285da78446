"""Configuration as code for one workspace (docs/config.md):

    manage.py config export [--workspace NAME] [--output FILE] [--format yaml|json] [--secret-refs env]
    manage.py config plan   [--workspace NAME] FILE
    manage.py config apply  [--workspace NAME] FILE [--if-plan HASH] [--prune-unmanaged]

FILE may be `-` for standard input. Exit codes: 0 no changes (or applied), 1 an error (nothing
written), 2 the plan has changes, 3 it would delete objects this file does not manage (refused
without --prune-unmanaged).
"""

import sys
from pathlib import Path
from typing import IO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from accounts import scoping
from accounts.models import DEFAULT_WORKSPACE_ID, Workspace
from providers import audit
from providers.configuration import export as config_export
from providers.configuration.document import DocumentError
from providers.configuration.refs import RefPolicy
from providers.configuration.services import (
    ERROR,
    UNMANAGED,
    ConfigRefusedError,
    Plan,
    Progress,
    config_apply,
    config_plan,
)

LABELS = {"providers": "git providers", "identityProviders": "identity providers", "projects": "projects"}


class Bars(Progress):
    """A bar per object kind on standard error, on a terminal only."""

    def __init__(self, stream: IO[str]):
        self.stream = stream
        self.bars: dict[str, tqdm] = {}

    def advance(self, section: str, count: int) -> None:
        if section not in self.bars:
            for bar in self.bars.values():
                bar.close()
            self.bars[section] = tqdm(desc=f"{LABELS[section]:>18}", unit=" objects", file=self.stream, leave=True)
        self.bars[section].update(count)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


class Command(BaseCommand):
    help = "Export a workspace's configuration to YAML, plan a file's difference, or apply it (docs/config.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{export,plan,apply}")
        exporting = actions.add_parser("export", help="Write the workspace's configuration.")
        exporting.add_argument("--output", "-o", help="The file to write (default: standard output).")
        exporting.add_argument("--format", choices=config_export.FORMATS, default=config_export.YAML)
        exporting.add_argument(
            "--secret-refs",
            choices=[config_export.ENV],
            help="Write a reference to an environment variable for each secret, instead of leaving it out.",
        )
        for name, text in (("plan", "Show what applying FILE would change."), ("apply", "Apply FILE.")):
            sub = actions.add_parser(name, help=text)
            sub.add_argument("file", help="The configuration file (YAML or JSON), or - for standard input.")
            if name == "apply":
                sub.add_argument("--if-plan", help="Apply only if the plan's hash is still HASH.")
                sub.add_argument(
                    "--prune-unmanaged",
                    action="store_true",
                    help="Delete the objects the file lists as absent even if it does not manage them.",
                )
        for sub in actions.choices.values():
            sub.add_argument("--workspace", help="The workspace's name (default: the default workspace).")

    def handle(self, *args, action: str, workspace: str | None = None, **options) -> None:
        target = self._workspace(workspace)
        with scoping.within(target.pk):
            if action == "export":
                self._export(target, **options)
            else:
                self._plan_or_apply(target, action=action, **options)

    def _workspace(self, name: str | None) -> Workspace:
        with scoping.every_workspace():
            found = Workspace.objects.filter(**({"name": name} if name else {"pk": DEFAULT_WORKSPACE_ID})).first()
        if found is None:
            raise CommandError(f"No workspace is named “{name}”.")
        return found

    def _export(self, workspace: Workspace, *, output: str | None, format: str, secret_refs: str | None, **_) -> None:
        audit.record(action="export", object_type="configuration", workspace_id=workspace.pk)
        pieces = config_export.export(
            workspace_id=workspace.pk, workspace_name=workspace.name, fmt=format, secret_refs=secret_refs
        )
        if output is None:
            for piece in pieces:
                self.stdout.write(piece, ending="")
            return
        path = Path(output)
        partial = path.with_name(path.name + ".partial")
        with partial.open("w", encoding="utf-8") as handle:
            for piece in pieces:
                handle.write(piece)
        partial.replace(path)
        self.stderr.write(f"Wrote {path}.")

    def _plan_or_apply(self, workspace: Workspace, *, action: str, file: str, **options) -> None:
        name = "<stdin>" if file == "-" else file
        policy = RefPolicy.command_line(None if file == "-" else Path(file).resolve())
        try:
            stream = sys.stdin if file == "-" else open(file, "rb")  # noqa: SIM115  (closed below)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        progress = Bars(sys.stderr) if sys.stderr.isatty() else Progress()
        try:
            if action == "plan":
                plan = config_plan(stream, workspace_id=workspace.pk, policy=policy, progress=progress)
            else:
                plan = config_apply(
                    stream,
                    workspace_id=workspace.pk,
                    policy=policy,
                    if_plan=options.get("if_plan"),
                    prune_unmanaged=options.get("prune_unmanaged", False),
                    progress=progress,
                )
        except ConfigRefusedError as exc:
            progress.close()
            self._report(exc.plan, name, refused=True)
            if exc.mismatch:
                self.stderr.write(exc.mismatch)
                sys.exit(ERROR)
            sys.exit(exc.plan.exit_code)
        finally:
            if stream is not sys.stdin:
                stream.close()
        self._report(plan, name, refused=False)
        sys.exit(plan.exit_code)

    def _report(self, plan: Plan, name: str, *, refused: bool) -> None:
        if plan.errors:
            for error in plan.errors:
                self.stderr.write(_located(name, error))
            self.stderr.write(f"{len(plan.errors)} error{'s' * (len(plan.errors) != 1)}: nothing was written.")
            return
        for change in plan.changes:
            for line in change.lines():
                self.stdout.write(line)
        if plan.exit_code == UNMANAGED:
            count = len(plan.unmanaged_deletions)
            self.stderr.write(
                f"Refused: {count} object{'s' * (count != 1)} to delete {'is' if count == 1 else 'are'} not managed by "
                "this file; review them and apply with --prune-unmanaged."
            )
        if refused and plan.exit_code != UNMANAGED:
            self.stderr.write("Nothing was written.")
        prefix = "Applied: " if plan.applied else "Plan: "
        self.stdout.write(prefix + plan.summary())
        if not plan.applied:
            self.stdout.write(f"Plan hash: {plan.hash}")


def _located(name: str, error: DocumentError) -> str:
    line = f":{error.line}" if error.line else ""
    return f"{name}{line}: {error}"
