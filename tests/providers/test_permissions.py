"""Every providers/projects endpoint × every role, with the exact status each gets."""

import pytest
from rest_framework.test import APIClient

from providers import audit
from providers.models import Provider
from tests.conftest import client_for
from tests.factories import OperatorFactory, ProjectFactory, ProviderFactory, UserFactory

NEW_PROVIDER = {
    "id": "new-provider",
    "label": "New",
    "type": "github",
    "credentials": {"type": "token", "content": {"accessToken": "t"}},
}

ENDPOINTS = {
    "providers-list": ("get", "/api/backend/providers", None),
    "providers-create": ("post", "/api/backend/providers", NEW_PROVIDER),
    "providers-detail": ("get", "/api/backend/providers/gh", None),
    "providers-patch": ("patch", "/api/backend/providers/gh", {"label": "Changed"}),
    "providers-delete": ("delete", "/api/backend/providers/unused", None),
    "providers-export": ("get", "/api/backend/providers/export", None),
    "providers-credentials": ("get", "/api/backend/providers/gh/credentials", None),
    "providers-rollback": ("post", "/api/backend/providers/gh/credentials/rollback", {"version": 1}),
    "providers-test": ("post", "/api/backend/providers/gh/test", None),
    "audit-events-list": ("get", "/api/backend/audit-events", None),
    "audit-events-detail": ("get", "/api/backend/audit-events/{event}", None),
    "projects-list": ("get", "/api/backend/projects", None),
    "projects-detail": ("get", "/api/backend/projects/owned", None),
    "projects-patch": ("patch", "/api/backend/projects/owned", {"providerId": "gh"}),
}

OK = {
    "providers-list": 200,
    "providers-create": 201,
    "providers-detail": 200,
    "providers-patch": 200,
    "providers-delete": 204,
    "providers-export": 200,
    "providers-credentials": 200,
    "providers-rollback": 400,  # allowed, and told that version 1 does not exist
    "providers-test": 200,
    "audit-events-list": 200,
    "audit-events-detail": 200,
    "projects-list": 200,
    "projects-detail": 200,
    "projects-patch": 200,
}
PROVIDER_ENDPOINTS = [name for name in ENDPOINTS if not name.startswith("projects")]
PROJECT_ENDPOINTS = [name for name in ENDPOINTS if name.startswith("projects")]

# By role of `tests.conftest.ROLES`: "plain" is in no group, "owner" in project_owner, "operator" in
# access_token_manager.
EXPECTED = {
    "anonymous": dict.fromkeys(ENDPOINTS, 401),
    "plain": dict.fromkeys(ENDPOINTS, 403),
    "owner": {**dict.fromkeys(PROVIDER_ENDPOINTS, 403), **{name: OK[name] for name in PROJECT_ENDPOINTS}},
    "operator": OK,
    "superuser": OK,
}

CASES = [(role, endpoint, status) for role, row in EXPECTED.items() for endpoint, status in row.items()]


@pytest.mark.parametrize("role,endpoint,expected", CASES, ids=[f"{r}-{e}" for r, e, _ in CASES])
def test_permission_matrix(role_user, role, endpoint, expected):
    user = role_user(role)
    # The connection test gets "connection refused" from a closed local port: no request leaves the machine.
    provider = ProviderFactory(provider_id="gh", api_base_url="http://127.0.0.1:9")
    ProviderFactory(provider_id="unused")
    ProjectFactory(project_id="owned", owners=[user] if user else [], provider=None)
    event = audit.record(action="create", actor=None, obj=provider)
    method, path, body = ENDPOINTS[endpoint]
    path = path.format(event=event.pk)
    client = client_for(user)

    response = getattr(client, method)(path, body, format="json") if body else getattr(client, method)(path)

    assert response.status_code == expected, response.content
    if expected in (401, 403):
        assert "detail" in response.json()
        assert Provider.objects.filter(provider_id="unused").exists()
        assert not Provider.objects.filter(provider_id="new-provider").exists()
        provider.refresh_from_db()
        assert provider.label != "Changed"
    if expected == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_a_group_less_project_owner_cannot_edit_their_project():
    """Owning a project is not enough: the `project_owner` group grants the permission to edit."""
    user = UserFactory()
    ProviderFactory(provider_id="gh")
    ProjectFactory(project_id="owned", owners=[user])

    response = client_for(user).patch("/api/backend/projects/owned", {"providerId": "gh"}, format="json")

    assert response.status_code == 403


@pytest.mark.django_db
def test_invalid_expired_and_revoked_tokens_are_401():
    from datetime import timedelta

    from django.utils import timezone

    from accounts.services import api_token_create, api_token_revoke

    user = OperatorFactory()
    _, expired = api_token_create(user=user, name="old", expires_at=timezone.now() - timedelta(minutes=1))
    revoked_token, revoked = api_token_create(user=user, name="gone")
    api_token_revoke(token=revoked_token)
    _, valid = api_token_create(user=user, name="ok", expires_at=timezone.now() + timedelta(days=1))

    def status(header: str) -> int:
        return APIClient().get("/api/backend/providers", HTTP_AUTHORIZATION=header).status_code

    assert status(f"Bearer {valid}") == 200
    assert status(f"Token {valid}") == 200
    assert status(f"bearer {valid}") == 200
    assert status(f"Bearer {expired}") == 401
    assert status(f"Bearer {revoked}") == 401
    assert status("Bearer prt_not-a-real-token") == 401
    assert status("Bearer") == 401
    assert status(f"Bearer {valid} extra") == 401


@pytest.mark.django_db
def test_token_of_a_deactivated_user_is_refused():
    from accounts.services import api_token_create

    user = OperatorFactory()
    _, raw = api_token_create(user=user, name="ci")
    user.is_active = False
    user.save()

    assert APIClient().get("/api/backend/providers", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
