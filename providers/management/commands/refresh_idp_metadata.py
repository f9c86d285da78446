"""Refresh SAML identity providers' metadata from their metadata URL, for cron.

    manage.py refresh_idp_metadata [--alias ALIAS] [--workspace NAME] [--remove-missing]

Without `--alias`, every SAML identity provider with a metadata URL, in every workspace (or in the
one `--workspace` names). Each refresh adds the signing certificates its metadata newly lists and
reports those it no longer lists, which stay trusted unless `--remove-missing` is given; the last
trusted certificate is never removed. One line per identity provider, then a summary; the exit
status is 1 when any refresh failed (unreachable, not metadata, the entity missing), and the others
are refreshed all the same, each in a transaction of its own.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Workspace
from accounts.scoping import every_workspace
from providers.identity import selectors as identity_selectors
from providers.identity import services as identity_services
from providers.management.progress import progress_bar
from providers.models import IdentityProvider

# From this many identity providers on, a terminal shows a progress bar (below, a few lines suffice).
PROGRESS_FROM = 10


class Command(BaseCommand):
    help = (
        "Refresh SAML identity providers' signing certificates and SSO/SLO URLs from their metadata URL "
        "(every one with a metadata URL, or --alias); exits 1 if any refresh failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--alias", help="Only the identity provider with this alias.")
        parser.add_argument("--workspace", help="Only identity providers of the workspace with this name.")
        parser.add_argument(
            "--remove-missing",
            action="store_true",
            help="Stop trusting the certificates the metadata no longer lists (never the last one).",
        )

    def handle(self, *args, alias: str | None, workspace: str | None, remove_missing: bool, **options) -> None:
        with every_workspace():
            targets = self._targets(alias=alias, workspace=workspace)
            if not targets:
                self.stdout.write("No SAML identity provider has a metadata URL: nothing to refresh.")
                return
            counts = self._refresh_all(targets, remove_missing=remove_missing)
        changed, unchanged, failed = counts
        self.stdout.write(
            f"{len(targets)} identity provider{'s' * (len(targets) != 1)}: "
            f"{changed} changed, {unchanged} unchanged, {failed} failed."
        )
        if failed:
            raise CommandError(f"{failed} of {len(targets)} metadata refreshes failed (see above).", returncode=1)

    def _targets(self, *, alias: str | None, workspace: str | None) -> list[IdentityProvider]:
        if workspace is not None and not Workspace.objects.filter(name=workspace).exists():
            raise CommandError(f"No workspace is named “{workspace}”.")
        targets = list(identity_selectors.saml_metadata_refresh_targets(alias=alias, workspace=workspace))
        if alias is None:
            return targets
        if not targets:
            where = f" in workspace “{workspace}”" if workspace else ""
            raise CommandError(f"No SAML identity provider has the alias “{alias}”{where}.")
        if len(targets) > 1:
            names = ", ".join(identity.provider.workspace.name for identity in targets)
            raise CommandError(f"The alias “{alias}” is in several workspaces ({names}): name one with --workspace.")
        return targets

    def _refresh_all(self, targets: list[IdentityProvider], *, remove_missing: bool) -> tuple[int, int, int]:
        changed = unchanged = failed = 0
        bar = self.stderr.isatty() and len(targets) >= PROGRESS_FROM
        for done, identity in enumerate(targets):
            if bar:
                self._bar(progress_bar(done, len(targets), "identity providers"))
            name = f"{identity.provider.workspace.name}/{identity.provider.provider_id}"
            try:
                report = identity_services.identity_provider_refresh_metadata(
                    identity=identity, actor=None, remove_missing=remove_missing
                )
            except ValidationError as exc:
                failed += 1
                line = self.style.ERROR(f"{name}: failed: {' '.join(exc.messages)}")
            else:
                changed += report.changed
                unchanged += not report.changed
                line = f"{name}: {report.summary}"
                if report.added:
                    line += f" (added {', '.join(report.added)})"
                if report.kept:
                    line += f" (kept {', '.join(report.kept)}; --remove-missing removes them)"
                if report.removed:
                    line += f" (removed {', '.join(report.removed)})"
            if bar:
                self._bar("")
            self.stdout.write(line)
        if bar:
            self._bar(progress_bar(len(targets), len(targets), "identity providers"))
            self.stderr.write("")
        return changed, unchanged, failed

    def _bar(self, line: str) -> None:
        """The bar, drawn in place on the terminal (an empty line clears it for a result line)."""
        width = len(progress_bar(0, 0, "")) + 40
        self.stderr.write(
            f"\r{line:<{width}}" if line else f"\r{' ' * width}\r", style_func=lambda text: text, ending=""
        )
        self.stderr.flush()
