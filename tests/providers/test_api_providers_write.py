"""Writing git providers through `/api/backend/providers`: the reference examples accepted
verbatim, create, patch and delete, which changes need the credentials again, what cannot change,
and the credential stored encrypted."""

import json

from django.db import connection

from providers.models import Credential, Provider
from providers.services import credential_content
from tests.factories import ProjectFactory, ProviderFactory
from tests.providers.api_helpers import PROVIDERS, REFERENCE_CREATE, provider_body

# "identical to the previous one, except that here you have to insert the providerId in the endpoint"
REFERENCE_EDIT = {key: value for key, value in REFERENCE_CREATE.items() if key != "id"}


def test_reference_create_example_is_accepted_verbatim(operator_client, operator):
    response = operator_client.post(PROVIDERS, REFERENCE_CREATE, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == "my-github-provider"
    assert body["label"] == "Mia-Platform GitHub"
    assert body["type"] == "github"
    assert body["capability"] == "git"
    assert body["urls"] == {"base": "https://github.com", "apiBase": "https://api.github.com"}
    assert body["enabled"] is True
    assert body["credentials"]["type"] == "token"
    assert body["credentials"]["set"] is True
    assert body["credentials"]["fingerprint"].startswith("hmac-sha256:")
    assert body["createdBy"] == "operator"
    assert response["Location"].endswith("/api/backend/providers/my-github-provider")
    assert "my-super-super-super-secret-token" not in response.content.decode()
    provider = Provider.objects.get(provider_id="my-github-provider")
    assert credential_content(provider=provider) == {"accessToken": "my-super-super-super-secret-token"}
    assert provider.created_by == operator


def test_reference_edit_example_is_accepted_verbatim(operator_client):
    operator_client.post(PROVIDERS, REFERENCE_CREATE, format="json")

    verbatim = operator_client.patch(f"{PROVIDERS}/my-github-provider", REFERENCE_EDIT, format="json")

    assert verbatim.status_code == 200, verbatim.content
    assert verbatim.json()["id"] == "my-github-provider"
    assert verbatim.json()["label"] == "Mia-Platform GitHub"
    assert verbatim.json()["credentials"]["type"] == "token"
    assert "my-super-super-super-secret-token" not in verbatim.content.decode()
    edit = json.loads(json.dumps(REFERENCE_EDIT))
    edit["label"] = "GitHub (edited)"
    edit["credentials"]["content"]["accessToken"] = "rotated-token"

    response = operator_client.patch(f"{PROVIDERS}/my-github-provider", edit, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["label"] == "GitHub (edited)"
    provider = Provider.objects.get(provider_id="my-github-provider")
    assert credential_content(provider=provider) == {"accessToken": "rotated-token"}


def test_paths_work_with_and_without_trailing_slash(operator_client):
    assert operator_client.post(f"{PROVIDERS}/", provider_body(), format="json").status_code == 201
    assert operator_client.get(f"{PROVIDERS}/acme-gitlab/").status_code == 200
    assert operator_client.get(f"{PROVIDERS}/acme-gitlab").status_code == 200


def test_base_url_accepts_base_spelling_and_keeps_given_urls(operator_client):
    response = operator_client.post(PROVIDERS, provider_body(), format="json")

    assert response.status_code == 201
    assert response.json()["urls"] == {"base": "https://gitlab.acme.test", "apiBase": "https://gitlab.acme.test/api/v4"}


def test_patch_without_credentials_keeps_them(operator_client):
    operator_client.post(PROVIDERS, provider_body(), format="json")
    before = Credential.objects.get(provider__provider_id="acme-gitlab")

    response = operator_client.patch(f"{PROVIDERS}/acme-gitlab", {"label": "Renamed"}, format="json")

    assert response.status_code == 200
    after = Credential.objects.get(provider__provider_id="acme-gitlab")
    assert after.fingerprint == before.fingerprint
    assert json.loads(after.secret) == {"userName": "svc", "password": "pw-123"}
    assert response.json()["credentials"]["fingerprint"] == before.fingerprint


def test_patch_with_credentials_replaces_them(operator_client):
    operator_client.post(PROVIDERS, provider_body(), format="json")
    before = Credential.objects.get(provider__provider_id="acme-gitlab").fingerprint

    response = operator_client.patch(
        f"{PROVIDERS}/acme-gitlab",
        {"credentials": {"type": "token", "content": {"accessToken": "glpat-new"}}},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["credentials"]["type"] == "token"
    assert response.json()["credentials"]["fingerprint"] != before
    provider = Provider.objects.get(provider_id="acme-gitlab")
    assert credential_content(provider=provider) == {"accessToken": "glpat-new"}
    assert Credential.objects.filter(provider=provider).count() == 1


def test_changing_urls_requires_the_credentials_again(operator_client):
    operator_client.post(PROVIDERS, provider_body(), format="json")
    moved = {"urls": {"base": "https://evil.example", "apiBase": "https://evil.example/api"}}

    refused = operator_client.patch(f"{PROVIDERS}/acme-gitlab", moved, format="json")

    assert refused.status_code == 400
    assert list(refused.json()) == ["credentials"]
    assert Provider.objects.get(provider_id="acme-gitlab").base_url == "https://gitlab.acme.test"

    moved["credentials"] = {"type": "token", "content": {"accessToken": "for-the-new-host"}}
    accepted = operator_client.patch(f"{PROVIDERS}/acme-gitlab", moved, format="json")
    assert accepted.status_code == 200
    assert accepted.json()["urls"]["base"] == "https://evil.example"


def test_provider_id_cannot_change(operator_client):
    operator_client.post(PROVIDERS, provider_body(), format="json")

    response = operator_client.patch(f"{PROVIDERS}/acme-gitlab", {"id": "other-id"}, format="json")

    assert response.status_code == 400
    assert "id" in response.json()
    assert Provider.objects.filter(provider_id="acme-gitlab").exists()
    assert not Provider.objects.filter(provider_id="other-id").exists()


def test_patch_sending_the_same_id_is_accepted(operator_client):
    operator_client.post(PROVIDERS, provider_body(), format="json")

    response = operator_client.patch(f"{PROVIDERS}/acme-gitlab", {"id": "acme-gitlab", "enabled": False}, format="json")

    assert response.status_code == 200
    assert response.json()["enabled"] is False


def test_put_is_not_offered(operator_client):
    ProviderFactory(provider_id="gh")

    assert operator_client.put(f"{PROVIDERS}/gh", provider_body(id="gh"), format="json").status_code == 405


def test_duplicate_id_is_a_conflict(operator_client):
    assert operator_client.post(PROVIDERS, provider_body(), format="json").status_code == 201

    response = operator_client.post(PROVIDERS, provider_body(label="Second"), format="json")

    assert response.status_code == 409
    assert "id" in response.json()
    assert Provider.objects.get(provider_id="acme-gitlab").label == "ACME GitLab"


def test_delete_removes_provider_and_credentials(operator_client):
    provider = ProviderFactory(provider_id="gh")

    response = operator_client.delete(f"{PROVIDERS}/gh")

    assert response.status_code == 204
    assert not Provider.objects.filter(pk=provider.pk).exists()
    assert not Credential.objects.filter(provider_id=provider.pk).exists()


def test_delete_of_a_linked_provider_is_refused_listing_projects(operator_client):
    provider = ProviderFactory(provider_id="gh")
    ProjectFactory(project_id="payments", provider=provider)
    ProjectFactory(project_id="web", provider=provider)

    response = operator_client.delete(f"{PROVIDERS}/gh")

    assert response.status_code == 409
    assert response.json()["projects"] == ["payments", "web"]
    assert "2 project" in response.json()["detail"]
    assert Provider.objects.filter(pk=provider.pk).exists()
    assert Credential.objects.filter(provider=provider).exists()


def test_credentials_row_is_encrypted(operator_client):
    operator_client.post(PROVIDERS, REFERENCE_CREATE, format="json")

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM providers_credential")
        (raw,) = cursor.fetchone()

    assert b"my-super-super-super-secret-token" not in bytes(raw)
    assert bytes(raw).startswith(b"gAAAAA")


def test_changing_the_type_requires_credentials_again(operator_client):
    ProviderFactory(provider_id="gh", type="github", credential__content={"accessToken": "old"})

    refused = operator_client.patch(f"{PROVIDERS}/gh", {"type": "gitlab"}, format="json")

    assert refused.status_code == 400
    assert "credentials" in refused.json()
    assert Provider.objects.get(provider_id="gh").type == "github"
    accepted = operator_client.patch(
        f"{PROVIDERS}/gh",
        {"type": "gitlab", "credentials": {"type": "token", "content": {"accessToken": "glpat"}}},
        format="json",
    )
    assert accepted.status_code == 200
    assert accepted.json()["type"] == "gitlab"


def test_a_provider_used_by_projects_stays_a_git_provider(operator_client):
    provider = ProviderFactory(provider_id="gh", type="github")
    ProjectFactory(project_id="payments", provider=provider)

    response = operator_client.patch(
        f"{PROVIDERS}/gh",
        {"type": "okta", "credentials": {"type": "token", "content": {"accessToken": "t"}}},
        format="json",
    )

    assert response.status_code == 400
    assert "type" in response.json()
    assert Provider.objects.get(provider_id="gh").type == "github"
