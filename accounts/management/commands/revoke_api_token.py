from django.core.management.base import BaseCommand, CommandError

from accounts.models import ApiToken
from accounts.services import api_token_revoke


class Command(BaseCommand):
    help = "Revoke API tokens by their prefix (the first characters shown in the admin, e.g. prt_AbC123)."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, prefix: str, **options):
        tokens = list(ApiToken.objects.filter(prefix=prefix[:10], revoked_at__isnull=True))
        if not tokens:
            raise CommandError(f"No active token with prefix “{prefix}”.")
        for token in tokens:
            api_token_revoke(token=token)
            self.stdout.write(f"Revoked {token} of {token.user}.")
