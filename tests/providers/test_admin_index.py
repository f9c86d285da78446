"""The admin home page: its sections for operators and project owners, and the operators'
dashboard (expiring credentials, failed tests, pending domains, certificates) without secrets."""

import re

from django.urls import reverse

from providers.models import Credential, Provider
from tests.factories import IdentityProviderFactory, ProviderFactory
from tests.providers.admin_helpers import PROJECTS_CHANGELIST, PROVIDERS_CHANGELIST, html, logged_in


def test_admin_index_has_a_projects_section(client, operator):
    response = logged_in(client, operator).get(reverse("admin:index"))

    assert response.status_code == 200
    sections = {app["name"]: [model["object_name"] for model in app["models"]] for app in response.context["app_list"]}
    assert sections["Projects"] == ["Project"]
    assert sections["Providers"] == ["AuditEvent", "FederatedIdentity", "IdentityProvider", "Provider"]
    assert re.search(r'<caption>\s*<a [^>]*class="section"[^>]*>Projects</a>', html(response))
    assert re.search(r'<caption>\s*<a [^>]*class="section"[^>]*>Providers</a>', html(response))


def test_owner_index_shows_projects_but_not_providers(client, owner):
    response = logged_in(client, owner).get(reverse("admin:index"))

    assert response.status_code == 200
    assert f'href="{PROJECTS_CHANGELIST}"' in html(response)
    assert f'href="{PROVIDERS_CHANGELIST}"' not in html(response)
    assert client.get(PROVIDERS_CHANGELIST).status_code == 403


def test_admin_home_dashboard_for_operators(client, operator, owner, certificate_pem):
    from datetime import timedelta

    from django.utils import timezone

    soon = ProviderFactory(provider_id="expiring-gh", credential__content={"accessToken": "dash-canary-token"})
    Credential.metadata.filter(provider=soon).update(expires_at=timezone.now() + timedelta(days=3))
    ProviderFactory(provider_id="off-gl", type="gitlab", enabled=False)
    Provider.objects.filter(provider_id="off-gl").update(last_test_ok=False, last_test_message="401 from GitLab")
    IdentityProviderFactory(alias="pending-idp", domains=["pending.test"])
    IdentityProviderFactory(alias="saml-soon", saml=True, signing_certificate=certificate_pem)

    page = logged_in(client, operator).get(reverse("admin:index")).content.decode()

    assert 'id="dashboard"' in page
    assert "expiring-gh" in page and "in 2" in page  # "in 2 days, 23 hours"
    assert "401 from GitLab" in page
    assert "pending-idp" in page and "registry-verification=" in page
    assert "Recent audit events" in page
    certificates = page.split('id="dashboard-certificates"')[1].split("</table>")[0]
    assert "saml-soon" in certificates and "in 4" in certificates  # valid 30 days: "in 4 weeks, 2 days"
    assert "dash-canary-token" not in page
    owner_page = logged_in(client, owner).get(reverse("admin:index")).content.decode()
    assert 'id="dashboard"' not in owner_page
