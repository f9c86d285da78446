from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User, Workspace
from accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it once (it is stored hashed and cannot be shown again)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="What the token is for (default: cli).")
        parser.add_argument("--expires-in-days", type=int, default=None, help="Days until it expires (default: never).")
        parser.add_argument("--workspace", default=None, help="Limit it to this workspace (its name).")
        parser.add_argument(
            "--role", default="", help="Limit it to this role in the workspace: viewer, project_owner, operator, owner."
        )

    def handle(self, *args, username: str, name: str, expires_in_days: int | None, workspace=None, role="", **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named “{username}”.")
        if expires_in_days is not None and expires_in_days <= 0:
            raise CommandError("--expires-in-days must be a positive number.")
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        limited = None
        if workspace is not None:
            limited = Workspace.objects.filter(name=workspace).first()
            if limited is None:
                raise CommandError(f"No workspace named “{workspace}”.")
        try:
            token, raw = api_token_create(user=user, name=name, expires_at=expires_at, workspace=limited, role=role)
        except ValidationError as exc:
            raise CommandError("; ".join(f"--{f}: {' '.join(m)}" for f, m in exc.message_dict.items())) from None
        self.stderr.write(f"Token “{token.name}” for {user.username} created; copy it now, it is not shown again:")
        self.stdout.write(raw)
