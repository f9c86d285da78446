from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from providers import selectors


class Command(BaseCommand):
    help = (
        "List providers whose credentials have expired or expire within --days (default 30). "
        "For cron: with --fail, exits 1 when any are listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="Look this many days ahead (default 30).")
        parser.add_argument("--fail", action="store_true", help="Exit with status 1 when any credentials are listed.")

    def handle(self, *args, days: int, fail: bool, **options):
        if days < 0:
            raise CommandError("--days must be zero or more.")
        now = timezone.now()
        rows = list(selectors.credentials_expiring(days=days))
        if not rows:
            self.stdout.write(f"No credentials expire within {days} days.")
            return
        width = max(len(row.provider.provider_id) for row in rows)
        for row in rows:
            expires_at = row.expires_at
            assert expires_at is not None  # filtered on it
            state = "EXPIRED" if expires_at <= now else f"in {(expires_at - now).days} days"
            self.stdout.write(
                f"{row.provider.provider_id:<{width}}  {row.get_type_display():<28}  "
                f"{expires_at:%Y-%m-%d %H:%M} UTC  {state}"
            )
        self.stdout.write(f"{len(rows)} provider(s) need new credentials.")
        if fail:
            raise SystemExit(1)
