"""The admin provider add and change forms: which credentials they require, what a change
keeps or logs, and that a typed or stored token is never shown back."""

import json
import re

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.urls import reverse

from providers.models import Credential, Provider
from providers.services import credential_content
from tests.factories import ProviderFactory
from tests.providers.admin_helpers import (
    PROVIDERS_CHANGELIST,
    SECRET_TOKEN,
    change_url,
    form_errors,
    html,
    log_entries,
    logged_in,
)

PROVIDERS_ADD = reverse("admin:providers_provider_add")


def provider_form(provider: Provider | None = None, **overrides) -> dict:
    """The admin provider form as a browser posts it: current values, credential inputs blank."""
    data = {
        "provider_id": "new-github",
        "label": "New GitHub",
        "description": "",
        "type": "github",
        "enabled": "on",
        "base_url": "https://github.example.com",
        "api_base_url": "https://github.example.com/api/v3",
        "credential_type": "",
        "access_token": "",
        "user_name": "",
        "password": "",
        "_save": "Save",
    }
    if provider is not None:
        del data["provider_id"]
        data.update(
            label=provider.label,
            description=provider.description,
            type=provider.type,
            base_url=provider.base_url,
            api_base_url=provider.api_base_url,
        )
        if not provider.enabled:
            del data["enabled"]
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_operator_adds_provider_with_token(client, operator):
    response = logged_in(client, operator).post(
        PROVIDERS_ADD, provider_form(credential_type="token", access_token=SECRET_TOKEN)
    )

    assert response.status_code == 302, form_errors(response)
    assert response["Location"] == PROVIDERS_CHANGELIST
    provider = Provider.objects.get(provider_id="new-github")
    assert provider.label == "New GitHub"
    assert provider.type == "github"
    assert provider.enabled is True
    assert provider.base_url == "https://github.example.com"
    assert provider.api_base_url == "https://github.example.com/api/v3"
    assert provider.created_by == operator
    credential = Credential.objects.get(provider=provider)
    assert credential.type == "token"
    assert SECRET_TOKEN not in credential.fingerprint
    assert credential_content(provider=provider) == {"accessToken": SECRET_TOKEN}
    entry = log_entries(provider, ADDITION).get()
    assert entry.user == operator
    assert SECRET_TOKEN not in entry.change_message
    listing = html(client.get(PROVIDERS_CHANGELIST))
    assert ">new-github</a>" in listing
    assert SECRET_TOKEN not in listing


def test_add_provider_without_credentials_is_refused(client, operator):
    response = logged_in(client, operator).post(PROVIDERS_ADD, provider_form())

    assert response.status_code == 200
    assert "Credentials are required to create a provider." in form_errors(response)["credential_type"]
    assert "Credentials are required to create a provider." in html(response)
    assert not Provider.objects.exists()
    assert not Credential.objects.exists()
    assert not LogEntry.objects.exists()


def test_add_provider_userpass_without_password_names_password(client, operator):
    response = logged_in(client, operator).post(
        PROVIDERS_ADD, provider_form(credential_type="userPass", user_name="svc-account")
    )

    assert response.status_code == 200
    errors = form_errors(response)
    assert "password" in errors
    assert errors["password"] == ["This field is required."]
    assert not Provider.objects.exists()
    assert not Credential.objects.exists()


def test_add_provider_form_error_does_not_echo_the_typed_token(client, operator):
    response = logged_in(client, operator).post(
        PROVIDERS_ADD, provider_form(base_url="not a url", credential_type="token", access_token=SECRET_TOKEN)
    )

    assert response.status_code == 200
    assert "base_url" in form_errors(response)
    assert SECRET_TOKEN not in html(response)
    assert not Provider.objects.exists()


def test_change_form_shows_credential_status_never_the_token(client, operator):
    provider = ProviderFactory(provider_id="gh-main", credential__content={"accessToken": SECRET_TOKEN})
    fingerprint = provider.credential.fingerprint

    response = logged_in(client, operator).get(change_url(provider))

    assert response.status_code == 200
    page = html(response)
    assert "Access token · set · updated at" in page
    assert f"<code>{fingerprint}</code>" in page
    assert SECRET_TOKEN not in page
    assert 'name="access_token"' in page
    assert 'name="password"' in page
    assert re.search(r'<input[^>]*name="access_token"[^>]*value=', page) is None


def test_edit_label_with_blank_credentials_keeps_them_and_logs_the_change(client, operator):
    provider = ProviderFactory(provider_id="gh-main", label="Old label", credential__content={"accessToken": "t-1"})
    fingerprint = provider.credential.fingerprint

    response = logged_in(client, operator).post(change_url(provider), provider_form(provider, label="New label"))

    assert response.status_code == 302, form_errors(response)
    provider.refresh_from_db()
    assert provider.label == "New label"
    assert provider.updated_by == operator
    credential = Credential.objects.get(provider=provider)
    assert credential.fingerprint == fingerprint
    assert credential_content(provider=provider) == {"accessToken": "t-1"}
    entry = log_entries(provider, CHANGE).get()
    assert entry.user == operator
    assert json.loads(entry.change_message) == [{"changed": {"fields": ["label"]}}]
    history = html(client.get(reverse("admin:providers_provider_history", args=[provider.pk])))
    assert "Changed label." in history
    assert "t-1" not in entry.change_message


def test_change_base_url_without_credentials_is_refused(client, operator):
    provider = ProviderFactory(provider_id="gh-main", credential__content={"accessToken": "t-1"})
    fingerprint = provider.credential.fingerprint

    response = logged_in(client, operator).post(
        change_url(provider), provider_form(provider, base_url="https://evil.example.com", label="Renamed")
    )

    assert response.status_code == 200
    message = "Changing the provider's type or URLs requires sending its credentials again."
    assert form_errors(response)["credential_type"] == [message]
    assert "Changing the provider&#x27;s type or URLs requires sending its credentials again." in html(response)
    provider.refresh_from_db()
    assert provider.base_url == "https://github.com"
    assert provider.label != "Renamed"
    assert Credential.objects.get(provider=provider).fingerprint == fingerprint
    assert not log_entries(provider, CHANGE).exists()


def test_change_base_url_with_new_token(client, operator):
    provider = ProviderFactory(provider_id="gh-main", credential__content={"accessToken": "t-1"})
    old_fingerprint = provider.credential.fingerprint

    response = logged_in(client, operator).post(
        change_url(provider),
        provider_form(
            provider,
            base_url="https://github.acme.test",
            api_base_url="https://github.acme.test/api/v3",
            credential_type="token",
            access_token="t-2",
        ),
    )

    assert response.status_code == 302, form_errors(response)
    provider.refresh_from_db()
    assert provider.base_url == "https://github.acme.test"
    assert provider.api_base_url == "https://github.acme.test/api/v3"
    assert credential_content(provider=provider) == {"accessToken": "t-2"}
    assert Credential.objects.get(provider=provider).fingerprint != old_fingerprint
    fields = json.loads(log_entries(provider, CHANGE).get().change_message)[0]["changed"]["fields"]
    assert set(fields) == {"base URL", "API base URL", "credentials"}
    assert "t-2" not in html(client.get(change_url(provider)))


def test_provider_id_is_read_only_on_change(client, operator):
    provider = ProviderFactory(provider_id="gh-main")
    client = logged_in(client, operator)

    page = html(client.get(change_url(provider)))
    assert 'name="provider_id"' not in page
    assert 'class="readonly">gh-main<' in page

    response = client.post(change_url(provider), provider_form(provider, provider_id="renamed", label="Still here"))

    assert response.status_code == 302, form_errors(response)
    provider.refresh_from_db()
    assert provider.provider_id == "gh-main"
    assert provider.label == "Still here"
    assert not Provider.objects.filter(provider_id="renamed").exists()


def test_clearing_a_url_back_to_its_default_needs_no_credentials(client, operator):
    provider = ProviderFactory(provider_id="gh", type="github", base_url="https://github.com")
    client = logged_in(client, operator)
    form = {
        "provider_id": "gh",
        "label": provider.label,
        "description": "",
        "type": "github",
        "enabled": "on",
        "base_url": "",
        "api_base_url": provider.api_base_url,
    }

    response = client.post(change_url(provider), form)

    assert response.status_code == 302, html(response)[:2000]
    provider.refresh_from_db()
    assert provider.base_url == "https://github.com"
