import json
from datetime import datetime

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.utils import timezone

from .models import ApiToken, User, generate_token, hash_token


@transaction.atomic
def api_token_issue(*, token: ApiToken) -> str:
    """Give an unsaved token (user, name, expiry set) its secret, save it and return the raw value,
    which is never stored and cannot be shown again."""
    raw = generate_token()
    token.key_hash = hash_token(raw)
    token.prefix = raw[:10]
    token.full_clean()
    token.save()
    return raw


def api_token_create(*, user: User, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    token = ApiToken(user=user, name=name, expires_at=expires_at)
    return token, api_token_issue(token=token)


def api_token_revoke(*, token: ApiToken, actor=None) -> ApiToken:
    """Revoke the token (idempotent) and record who did it in the admin history."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        if actor is not None and actor.is_authenticated:
            LogEntry.objects.log_actions(
                user_id=actor.pk,
                queryset=[token],
                action_flag=CHANGE,
                change_message=json.dumps([{"changed": {"fields": ["revoked at"]}}]),
                single_object=True,
            )
    return token
