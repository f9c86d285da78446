"""Re-encrypt every stored secret under the first of FERNET_KEYS, so the older keys can be removed.

    manage.py rotate_keys [--batch-size 500] [--dry-run] [--check]

Goes through every encrypted field of every model in primary-key batches (one transaction each,
bounded memory), re-encrypting only the values that are under an older key. Interrupting it is
safe: every value stays readable with the configured keys, and re-running it continues with what
is left. `--check` only counts and exits 1 when values remain under older keys or cannot be
decrypted; `--dry-run` counts what would be rotated.
"""

from dataclasses import dataclass, field
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, models

from providers import keys
from providers.management.progress import progress_bar

MAX_NAMED = 20


@dataclass
class FieldTotals:
    label: str
    model: type[models.Model]
    rotated: int = 0
    already_primary: int = 0
    still_old: int = 0
    undecryptable: int = 0
    failed_pks: list[Any] = field(default_factory=list)


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under the first of FERNET_KEYS (resumable, in batches); "
        "--check exits 1 while values remain under older keys or cannot be decrypted."
    )
    # It is the remedy for providers.E002 (undecryptable values), so that check must not stop it.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per batch and transaction (500).")
        parser.add_argument("--dry-run", action="store_true", help="Count what would be rotated; write nothing.")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only count; exit 1 if values are under older keys or cannot be decrypted.",
        )

    def handle(self, *args, batch_size: int, dry_run: bool, check: bool, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        count_only = dry_run or check
        key_count = len(keys.configured_keys())
        mode = "Checking" if check else "Dry run: counting" if dry_run else "Re-encrypting"
        self.stdout.write(
            f"{mode} stored secrets under the first of {key_count} configured key{'s' * (key_count != 1)}."
        )
        fields = keys.encrypted_fields()
        for model, _ in fields:
            tables = connections[keys.db_alias(model)].introspection.table_names()
            if model._meta.db_table not in tables:
                raise CommandError(f"Table {model._meta.db_table} does not exist yet; run `manage.py migrate` first.")
        totals: list[FieldTotals] = []
        try:
            for model, encrypted in fields:
                totals.append(self._process(model, encrypted, batch_size=batch_size, count_only=count_only))
        except KeyboardInterrupt:
            self.stderr.write("")
            raise CommandError(
                "Interrupted. Every value is still readable with the configured keys; "
                "run rotate_keys again to continue.",
                returncode=130,
            ) from None
        self._summary(totals, dry_run=dry_run, check=check)

    def _process(
        self, model: type[models.Model], encrypted: models.Field, *, batch_size: int, count_only: bool
    ) -> FieldTotals:
        label = keys.field_label(model, encrypted)
        totals = FieldTotals(label=label, model=model)
        total = keys.count_values(model, encrypted)
        tty = self.stderr.isatty()
        done = 0
        self._progress(progress_bar(0, total, label), tty=tty)
        for batch in keys.iter_batches(model, encrypted, batch_size=batch_size, dry_run=count_only):
            done += batch.scanned
            totals.rotated += batch.rotated
            totals.already_primary += batch.already_primary
            totals.still_old += batch.still_old
            totals.undecryptable += len(batch.failures)
            totals.failed_pks.extend(batch.failures[: MAX_NAMED - len(totals.failed_pks)])
            self._progress(progress_bar(done, total, label), tty=tty)
        if tty:
            self.stderr.write("")
        return totals

    def _progress(self, line: str, *, tty: bool) -> None:
        if tty:
            self.stderr.write(f"\r{line}", style_func=lambda text: text, ending="")
            self.stderr.flush()
        else:
            self.stderr.write(line, style_func=lambda text: text)

    def _summary(self, totals: list[FieldTotals], *, dry_run: bool, check: bool) -> None:
        for t in totals:
            if dry_run or check:
                counts = f"{t.still_old} under older keys{' (would be rotated)' * dry_run}, "
                counts += f"{t.already_primary} under the first key"
            else:
                counts = f"{t.rotated} rotated, {t.already_primary} already under the first key, "
                counts += f"{t.still_old} still under older keys"
            self.stdout.write(f"{t.label}: {counts}, {t.undecryptable} undecryptable")
        undecryptable = sum(t.undecryptable for t in totals)
        still_old = sum(t.still_old for t in totals)
        if undecryptable:
            self.stdout.write(
                self.style.ERROR(
                    f"{undecryptable} value{'s' * (undecryptable != 1)} cannot be decrypted with any configured key:"
                )
            )
            for t in totals:
                if not t.undecryptable:
                    continue
                for name in keys.describe_rows(t.model, t.failed_pks):
                    self.stdout.write(f"  {t.label}: {name}")
                if t.undecryptable > len(t.failed_pks):
                    self.stdout.write(f"  {t.label}: … and {t.undecryptable - len(t.failed_pks)} more")
        lost = (
            f"{undecryptable} value{'s' * (undecryptable != 1)} no configured key decrypts (put the key that "
            "encrypted them back into FERNET_KEYS, or enter those credentials again)"
        )
        if check:
            if still_old or undecryptable:
                problems = [f"{still_old} value{'s' * (still_old != 1)} still under older keys"] if still_old else []
                problems += [lost] if undecryptable else []
                raise CommandError("; ".join(problems) + ".", returncode=1)
            self.stdout.write(self.style.SUCCESS("Every value is under the first key; the older keys can be removed."))
        elif dry_run:
            self.stdout.write(f"Dry run: nothing written; {still_old} value{'s' * (still_old != 1)} under older keys.")
        else:
            if still_old:
                self.stdout.write(
                    self.style.WARNING(
                        f"{still_old} value{'s' * (still_old != 1)} changed while running and are still under "
                        "older keys: run rotate_keys again before removing a key."
                    )
                )
            if undecryptable:
                self.stdout.write(self.style.WARNING(lost[0].upper() + lost[1:] + "."))
            if not still_old:
                self.stdout.write(self.style.SUCCESS("Done: every decryptable value is under the first key."))
