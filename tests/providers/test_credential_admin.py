from datetime import timedelta
from io import StringIO

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from providers import services
from providers.models import AuditEvent, Credential, CredentialVersion
from tests.factories import ProviderFactory

CHANGELIST = reverse("admin:providers_provider_changelist")


def change_form(provider, **credential_inputs) -> dict:
    data = {
        "label": provider.label,
        "description": "",
        "type": provider.type,
        "enabled": "on",
        "base_url": provider.base_url,
        "api_base_url": provider.api_base_url,
    }
    data.update(credential_inputs)
    return data


def test_admin_stores_a_github_app_and_never_renders_the_key(client, operator):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    provider = ProviderFactory(provider_id="gh")
    client.force_login(operator)
    url = reverse("admin:providers_provider_change", args=[provider.pk])

    refused = client.post(url, change_form(provider, credential_type="githubApp", app_id="x", private_key=pem))
    assert refused.status_code == 200
    assert "Expected a numeric id." in refused.content.decode()
    assert pem.splitlines()[1] not in refused.content.decode()

    saved = client.post(
        url, change_form(provider, credential_type="githubApp", app_id="123", private_key=pem, installation_id="9")
    )
    assert saved.status_code == 302
    assert services.credential_content(provider=provider)["appId"] == "123"
    page = client.get(url).content.decode()
    assert pem.splitlines()[1] not in page
    assert "GitHub App · set" in page


def test_rotation_history_and_restore_button(client, operator):
    provider = ProviderFactory(provider_id="gh", credential__content={"accessToken": "first"})
    services.provider_update(
        provider=provider,
        actor=operator,
        data={},
        credentials=services.CredentialInput("token", {"accessToken": "2nd"}),
    )
    version = CredentialVersion.objects.get()
    client.force_login(operator)
    url = reverse("admin:providers_provider_change", args=[provider.pk])

    page = client.get(url).content.decode()
    assert f'form="rollback-{version.pk}"' in page and f'id="rollback-{version.pk}"' in page
    response = client.post(reverse("admin:providers_provider_rollback", args=[provider.pk, version.pk]))

    assert response.status_code == 302
    assert services.credential_content(provider=provider) == {"accessToken": "first"}
    assert client.get(reverse("admin:providers_provider_rollback", args=[provider.pk, 1])).status_code == 403


@pytest.mark.parametrize(
    "choice,expected", [("expired", {"old"}), ("7", {"soon"}), ("30", {"soon", "later"}), ("none", {"never"})]
)
def test_expiry_filter(client, operator, choice, expected):
    now = timezone.now()
    for provider_id, delta in (("old", -1), ("soon", 3), ("later", 20), ("never", None)):
        provider = ProviderFactory(provider_id=provider_id)
        if delta is not None:
            Credential.objects.filter(provider=provider).update(expires_at=now + timedelta(days=delta))
    client.force_login(operator)

    page = client.get(CHANGELIST, {"expiry": choice}).content.decode()

    listed = {pid for pid in ("old", "soon", "later", "never") if f">{pid}</a>" in page}
    assert listed == expected


def test_credentials_expiring_command(db):
    now = timezone.now()
    for provider_id, delta in (("old", -1), ("soon", 3), ("later", 60)):
        provider = ProviderFactory(provider_id=provider_id)
        Credential.objects.filter(provider=provider).update(expires_at=now + timedelta(days=delta))
    out = StringIO()

    call_command("credentials_expiring", "--days", "7", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("old") and "EXPIRED" in lines[0]
    assert lines[1].startswith("soon") and ("in 2 days" in lines[1] or "in 3 days" in lines[1])
    assert "later" not in out.getvalue()
    with pytest.raises(SystemExit) as exit_info:
        call_command("credentials_expiring", "--days", "7", "--fail", stdout=StringIO())
    assert exit_info.value.code == 1


def test_audit_log_admin_is_read_only(client, operator, superuser):
    ProviderFactory(provider_id="gh")
    services.provider_update(provider=ProviderFactory(provider_id="gl"), actor=operator, data={"label": "x"})
    client.force_login(superuser)
    event = AuditEvent.objects.get()

    listing = client.get(reverse("admin:providers_auditevent_changelist"))
    detail = client.get(reverse("admin:providers_auditevent_change", args=[event.pk]))

    assert listing.status_code == 200 and "gl" in listing.content.decode()
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert client.get(reverse("admin:providers_auditevent_add")).status_code == 403
    assert (
        client.post(reverse("admin:providers_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
