"""Deleting a provider in the admin: refused while projects link it, removing its
credential otherwise, and a confirmation page that neither shows nor decrypts secrets."""

from django.contrib.admin.models import DELETION
from django.urls import reverse

from providers.models import Credential, Project, Provider
from tests.factories import ProjectFactory, ProviderFactory
from tests.providers.admin_helpers import PROVIDERS_CHANGELIST, SECRET_TOKEN, html, log_entries, logged_in


def delete_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_delete", args=[obj.pk])


def test_delete_linked_provider_lists_projects_and_is_refused(client, operator):
    provider = ProviderFactory(provider_id="gh-main", credential__content={"accessToken": SECRET_TOKEN})
    ProjectFactory(project_id="payments-api", name="Payments API", provider=provider)
    client = logged_in(client, operator)

    confirmation = client.get(delete_url(provider))

    assert confirmation.status_code == 200
    page = html(confirmation)
    assert "protected related objects" in page
    assert "Payments API (payments-api)" in page
    assert SECRET_TOKEN not in page

    response = client.post(delete_url(provider), {"post": "yes"})

    assert response.status_code == 200
    assert Provider.objects.filter(pk=provider.pk).exists()
    assert Credential.objects.filter(provider=provider).exists()
    assert Project.objects.get(project_id="payments-api").provider == provider
    assert not log_entries(provider, DELETION).exists()


def test_delete_unlinked_provider_removes_it_and_its_credential(client, operator):
    provider = ProviderFactory(provider_id="gh-unused", credential__content={"accessToken": SECRET_TOKEN})
    pk = provider.pk
    client = logged_in(client, operator)

    confirmation = client.get(delete_url(provider))
    assert confirmation.status_code == 200
    assert "Are you sure" in html(confirmation)
    assert SECRET_TOKEN not in html(confirmation)

    response = client.post(delete_url(provider), {"post": "yes"})

    assert response.status_code == 302
    assert response["Location"] == PROVIDERS_CHANGELIST
    assert not Provider.objects.filter(pk=pk).exists()
    assert not Credential.objects.filter(provider_id=pk).exists()
    assert log_entries(provider, DELETION).filter(user=operator).exists()


def test_delete_confirmation_names_the_credential_by_provider_id(client, operator):
    provider = ProviderFactory(provider_id="gh-unused")

    page = html(logged_in(client, operator).get(delete_url(provider)))

    assert "Credential: Access token for gh-unused" in page


def test_delete_confirmation_does_not_decrypt_credentials(client, operator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    provider = ProviderFactory(provider_id="gh")
    client = logged_in(client, operator)

    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse("admin:providers_provider_delete", args=[provider.pk]))

    assert page.status_code == 200
    assert not any('."secret"' in query["sql"] for query in ctx.captured_queries)
