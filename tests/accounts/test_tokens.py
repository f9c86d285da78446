from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, hash_token
from tests.factories import OperatorFactory, UserFactory


def api_status(raw: str) -> int:
    return APIClient().get("/api/backend/providers", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code


@pytest.mark.django_db
def test_create_api_token_command_prints_a_working_token_stored_hashed():
    OperatorFactory(username="ci-bot")
    out = StringIO()

    call_command(
        "create_api_token", "ci-bot", "--name", "pipeline", "--expires-in-days", "30", stdout=out, stderr=StringIO()
    )

    raw = out.getvalue().strip()
    assert raw.startswith("prt_") and len(raw) > 40
    token = ApiToken.objects.get(name="pipeline")
    assert token.key_hash == hash_token(raw)
    assert raw not in (token.key_hash, token.prefix)
    assert token.prefix == raw[:10]
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert api_status(raw) == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.django_db
def test_create_api_token_command_rejects_unknown_user_and_bad_expiry():
    UserFactory(username="someone")

    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_token", "ghost", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="positive"):
        call_command("create_api_token", "someone", "--expires-in-days", "-1", stdout=StringIO(), stderr=StringIO())
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_revoke_api_token_command_stops_the_token():
    OperatorFactory(username="ci-bot")
    out = StringIO()
    call_command("create_api_token", "ci-bot", stdout=out, stderr=StringIO())
    raw = out.getvalue().strip()
    assert api_status(raw) == 200

    call_command("revoke_api_token", raw[:10], stdout=StringIO())

    assert api_status(raw) == 401
    with pytest.raises(CommandError):
        call_command("revoke_api_token", raw[:10], stdout=StringIO())


@pytest.mark.django_db
def test_tokens_are_unique_per_creation():
    from accounts.services import api_token_create

    user = UserFactory()
    raws = {api_token_create(user=user, name=f"t{n}")[1] for n in range(20)}

    assert len(raws) == 20
