from django.core.management.base import BaseCommand, CommandError

from accounts.models import ApiToken
from accounts.services import api_token_revoke


class Command(BaseCommand):
    help = "Revoke API tokens by their prefix (the first characters shown in the admin, e.g. prt_AbC123)."

    def add_arguments(self, parser):
        parser.add_argument("prefix")
        parser.add_argument("--user", help="Only tokens of this user (when the prefix matches several).")
        parser.add_argument("--all", action="store_true", help="Revoke every active token with this prefix.")

    def handle(self, *args, prefix: str, user: str | None, all: bool, **options):
        matching = ApiToken.objects.filter(prefix=prefix[:10], revoked_at__isnull=True).select_related("user")
        if user:
            matching = matching.filter(user__username=user)
        tokens = list(matching)
        if not tokens:
            raise CommandError(f"No active token with prefix “{prefix}”.")
        if len(tokens) > 1 and not all:
            owners = ", ".join(sorted({token.user.username for token in tokens}))
            raise CommandError(f"{len(tokens)} active tokens share this prefix ({owners}); add --user or --all.")
        for token in tokens:
            api_token_revoke(token=token)
            self.stdout.write(f"Revoked {token} of {token.user}.")
