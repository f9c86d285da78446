"""API tokens in the admin: shown once and stored hashed, revoked by the action, each user
sees and creates only their own (superusers any), and deletions and revocations leave history."""

import hashlib
import re

from django.contrib.admin.models import ADDITION, LogEntry
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create
from tests.factories import ProjectFactory
from tests.providers.admin_helpers import change_url, html, log_entries, logged_in

TOKENS_CHANGELIST = reverse("admin:accounts_apitoken_changelist")
TOKENS_ADD = reverse("admin:accounts_apitoken_add")


def raw_token_from(response) -> str:
    match = re.search(r'id="api-token-value"[^>]*value="([^"]+)"', html(response))
    assert match, "the created page shows the token in #api-token-value"
    return match.group(1)


def api_status(raw: str) -> int:
    return APIClient().get("/api/backend/providers", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code


def test_operator_adds_api_token_shown_once_and_stored_hashed(client, operator):
    client = logged_in(client, operator)

    response = client.post(TOKENS_ADD, {"name": "CI pipeline", "expires_at_0": "", "expires_at_1": "", "_save": "Save"})

    assert response.status_code == 200
    assert "API token created" in html(response)
    assert "it will not be shown again" in html(response)
    assert "no-store" in response["Cache-Control"]
    raw = raw_token_from(response)
    token = ApiToken.objects.get(name="CI pipeline")
    assert token.user == operator
    assert token.expires_at is None
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", token.key_hash)
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert all(raw not in str(value) for value in stored.values())
    assert all(raw not in entry.object_repr + entry.change_message for entry in log_entries(token, ADDITION))
    assert api_status(raw) == 200

    listing = client.get(TOKENS_CHANGELIST)
    assert listing.status_code == 200
    assert "CI pipeline" in html(listing)
    assert token.prefix in html(listing)
    assert raw not in html(listing)
    change = client.get(change_url(token))
    assert change.status_code == 200
    assert raw not in html(change)
    assert 'id="api-token-value"' not in html(change)


def test_revoke_selected_makes_the_token_unusable(client, operator):
    client = logged_in(client, operator)
    raw = raw_token_from(client.post(TOKENS_ADD, {"name": "to revoke", "expires_at_0": "", "expires_at_1": ""}))
    token = ApiToken.objects.get(name="to revoke")
    assert api_status(raw) == 200

    response = client.post(
        TOKENS_CHANGELIST, {"action": "revoke_selected", "_selected_action": [token.pk], "index": 0}, follow=True
    )

    assert response.status_code == 200
    assert "1 token(s) revoked." in html(response)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_status(raw) == 401
    assert "revoked" in html(client.get(TOKENS_CHANGELIST))


def test_non_superuser_creates_tokens_only_for_themselves_and_sees_only_their_own(client, owner, other_owner):
    others, _ = api_token_create(user=other_owner, name="their token")
    client = logged_in(client, owner)

    add_page = html(client.get(TOKENS_ADD))
    assert 'name="name"' in add_page
    assert 'name="user"' not in add_page

    response = client.post(
        TOKENS_ADD, {"name": "my token", "user": other_owner.pk, "expires_at_0": "", "expires_at_1": ""}
    )

    assert response.status_code == 200
    raw = raw_token_from(response)
    mine = ApiToken.objects.get(name="my token")
    assert mine.user == owner
    assert not ApiToken.objects.filter(user=other_owner, name="my token").exists()
    assert APIClient().get("/api/backend/projects", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200

    listing = client.get(TOKENS_CHANGELIST)
    assert [token.name for token in listing.context["cl"].result_list] == ["my token"]
    assert "their token" not in html(listing)
    other_page = client.get(change_url(others), follow=True)
    assert "adminform" not in (other_page.context or {})
    assert "their token" not in html(other_page)

    client.post(TOKENS_CHANGELIST, {"action": "revoke_selected", "_selected_action": [others.pk], "index": 0})
    others.refresh_from_db()
    assert others.revoked_at is None


def test_superuser_sees_every_token_and_may_pick_the_user(client, superuser, owner):
    api_token_create(user=owner, name="owner token")
    client = logged_in(client, superuser)

    listing = client.get(TOKENS_CHANGELIST)
    assert "owner token" in html(listing)
    assert 'name="user"' in html(client.get(TOKENS_ADD))

    response = client.post(TOKENS_ADD, {"name": "for owner", "user": owner.pk, "expires_at_0": "", "expires_at_1": ""})

    assert response.status_code == 200
    raw_token_from(response)
    assert ApiToken.objects.get(name="for owner").user == owner


def test_project_deletion_and_token_revocation_leave_history(client, operator):
    from accounts.services import api_token_create

    project = ProjectFactory(project_id="gone")
    token, _ = api_token_create(user=operator, name="ci")
    client = logged_in(client, operator)

    client.post(reverse("admin:providers_project_delete", args=[project.pk]), {"post": "yes"})
    client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )

    deletion = LogEntry.objects.get(object_id=str(project.pk), content_type__model="project")
    assert deletion.is_deletion() and deletion.user == operator
    revocation = LogEntry.objects.get(object_id=str(token.pk), content_type__model="apitoken")
    assert revocation.user == operator
    assert revocation.get_change_message() == "Changed revoked at."
