from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone

from providers.models import AuditEvent, CredentialVersion, Provider
from providers.services import credential_content
from tests.factories import ProviderFactory

PROVIDERS = "/api/backend/providers"


@pytest.fixture(scope="module")
def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()


def create(client, provider_type: str, credentials: dict, provider_id: str = "p1"):
    body = {"id": provider_id, "label": "P", "type": provider_type, "credentials": credentials}
    return client.post(PROVIDERS, body, format="json")


def test_github_app_credentials(operator_client, private_key_pem):
    credentials = {
        "type": "githubApp",
        "content": {"appId": "12345", "privateKey": private_key_pem, "installationId": "678"},
    }

    response = create(operator_client, "github", credentials)

    assert response.status_code == 201, response.content
    assert response.json()["credentials"]["type"] == "githubApp"
    assert private_key_pem[40:80] not in response.content.decode()
    assert credential_content(provider=Provider.objects.get())["appId"] == "12345"


def test_oauth2_client_credentials_with_optional_scope(operator_client):
    content = {"tokenUrl": "https://login.example.com/oauth2/token", "clientId": "c", "clientSecret": "s"}

    without_scope = create(operator_client, "azure-devops", {"type": "oauth2ClientCredentials", "content": content})
    with_scope = create(
        operator_client,
        "bitbucket",
        {"type": "oauth2ClientCredentials", "content": {**content, "scope": "repository"}},
        provider_id="p2",
    )

    assert without_scope.status_code == 201, without_scope.content
    assert with_scope.status_code == 201, with_scope.content
    assert credential_content(provider=Provider.objects.get(provider_id="p2"))["scope"] == "repository"


@pytest.mark.parametrize(
    "provider_type,credentials,field",
    [
        ("gitlab", {"type": "githubApp", "content": {"appId": "1", "privateKey": "x", "installationId": "2"}},
         "credentials.type"),
        ("github", {"type": "oauth2ClientCredentials", "content": {"tokenUrl": "https://t", "clientId": "c",
                                                                    "clientSecret": "s"}}, "credentials.type"),
        ("okta", {"type": "githubApp", "content": {}}, "credentials.type"),
        ("github", {"type": "githubApp", "content": {"appId": "abc", "privateKey": "PEM", "installationId": "2"}},
         "credentials.content.appId"),
        ("github", {"type": "githubApp", "content": {"appId": "1", "privateKey": "not a key", "installationId": "2"}},
         "credentials.content.privateKey"),
        ("bitbucket", {"type": "oauth2ClientCredentials", "content": {"tokenUrl": "ftp://t", "clientId": "c",
                                                                       "clientSecret": "s"}},
         "credentials.content.tokenUrl"),
        ("bitbucket", {"type": "oauth2ClientCredentials", "content": {"tokenUrl": "https://t.test", "clientId": "c"}},
         "credentials.content.clientSecret"),
        ("github", {"type": "token", "content": {"accessToken": "t"}, "expiresAt": "2001-01-01T00:00:00Z"},
         "credentials.expiresAt"),
        ("github", {"type": "token", "content": {"accessToken": "t"}, "expiresAt": "next week"},
         "credentials.expiresAt"),
    ],
)  # fmt: skip
def test_credential_type_rules(operator_client, provider_type, credentials, field):
    response = create(operator_client, provider_type, credentials)

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Provider.objects.exists()


def test_expiry_shows_in_reads(operator_client):
    expires = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    credentials = {"type": "token", "content": {"accessToken": "t"}, "expiresAt": expires.isoformat()}

    body = create(operator_client, "github", credentials).json()

    assert body["credentials"]["expiresAt"].startswith(expires.strftime("%Y-%m-%dT%H:%M:%S"))
    listed = operator_client.get(PROVIDERS).json()["results"][0]
    assert listed["credentials"]["expiresAt"] == body["credentials"]["expiresAt"]


def test_rotation_keeps_history_and_rolls_back(operator_client, operator):
    create(operator_client, "github", {"type": "token", "content": {"accessToken": "first"}})
    first_fingerprint = Provider.objects.get().credential.fingerprint
    operator_client.patch(
        f"{PROVIDERS}/p1", {"credentials": {"type": "token", "content": {"accessToken": "second"}}}, format="json"
    )

    history = operator_client.get(f"{PROVIDERS}/p1/credentials").json()
    assert history["current"]["fingerprint"] != first_fingerprint
    assert [v["fingerprint"] for v in history["history"]] == [first_fingerprint]
    version = history["history"][0]
    assert version["replacedBy"] == "operator" and version["restorableUntil"]
    assert "first" not in str(history) and "second" not in str(history)

    rolled = operator_client.post(f"{PROVIDERS}/p1/credentials/rollback", {"version": version["id"]}, format="json")

    assert rolled.status_code == 200, rolled.content
    assert credential_content(provider=Provider.objects.get()) == {"accessToken": "first"}
    after = operator_client.get(f"{PROVIDERS}/p1/credentials").json()
    assert after["current"]["fingerprint"] == first_fingerprint
    assert len(after["history"]) == 1  # the "second" credentials are now the restorable version
    actions = list(AuditEvent.objects.filter(object_id="p1").values_list("action", flat=True))
    assert "rotate" in actions and "rollback" in actions


def test_rollback_outside_the_window_or_unknown_is_refused(operator_client, settings):
    create(operator_client, "github", {"type": "token", "content": {"accessToken": "first"}})
    operator_client.patch(
        f"{PROVIDERS}/p1", {"credentials": {"type": "token", "content": {"accessToken": "second"}}}, format="json"
    )
    version = CredentialVersion.objects.get()
    CredentialVersion.objects.filter(pk=version.pk).update(replaced_at=timezone.now() - timedelta(days=31))

    too_old = operator_client.post(f"{PROVIDERS}/p1/credentials/rollback", {"version": version.pk}, format="json")
    unknown = operator_client.post(f"{PROVIDERS}/p1/credentials/rollback", {"version": 999999}, format="json")

    assert too_old.status_code == 400 and "version" in too_old.json()
    assert unknown.status_code == 400 and "version" in unknown.json()
    assert credential_content(provider=Provider.objects.get()) == {"accessToken": "second"}


def test_versions_older_than_the_window_are_deleted(operator_client):
    provider = ProviderFactory(provider_id="p1")
    operator_client.patch(
        f"{PROVIDERS}/p1", {"credentials": {"type": "token", "content": {"accessToken": "a"}}}, format="json"
    )
    CredentialVersion.objects.update(replaced_at=timezone.now() - timedelta(days=40))

    operator_client.patch(
        f"{PROVIDERS}/p1", {"credentials": {"type": "token", "content": {"accessToken": "b"}}}, format="json"
    )

    assert CredentialVersion.objects.filter(provider=provider).count() == 1


def test_history_needs_view_and_rollback_needs_change(owner_client, operator_client):
    ProviderFactory(provider_id="p1")

    assert owner_client.get(f"{PROVIDERS}/p1/credentials").status_code == 403
    assert owner_client.post(f"{PROVIDERS}/p1/credentials/rollback", {"version": 1}, format="json").status_code == 403
    assert operator_client.get(f"{PROVIDERS}/p1/credentials").status_code == 200
