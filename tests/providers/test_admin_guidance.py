"""The admin guiding operators: bulk actions confirm what they will do before doing it, a
provider's page says where it is used and how healthy it is, and every input explains itself."""

import json
import re
from datetime import timedelta

import pytest
from django import forms
from django.contrib.admin.sites import site
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from providers.catalog import CREDENTIAL_TYPES, PROVIDER_TYPES
from providers.models import AuditEvent, Credential, IdentityProvider, Project, Provider
from tests.factories import IdentityProviderFactory, ProjectFactory, ProviderFactory

PROVIDERS = reverse("admin:providers_provider_changelist")
IDENTITIES = reverse("admin:providers_identityprovider_changelist")


def change_url(provider: Provider) -> str:
    return reverse("admin:providers_provider_change", args=[provider.pk])


def text(response) -> str:
    return response.content.decode()


def enabled_ids() -> list[str]:
    return list(Provider.objects.filter(enabled=True).order_by("provider_id").values_list("provider_id", flat=True))


@pytest.mark.parametrize(
    ("action", "start_enabled", "summary", "button"),
    [
        ("disable_selected", True, "2 of the selected providers will be disabled", "Yes, disable 2"),
        ("enable_selected", False, "2 of the selected providers will be enabled", "Yes, enable 2"),
    ],
)
def test_enable_and_disable_ask_for_confirmation_first(client, operator, action, start_enabled, summary, button):
    first = ProviderFactory(provider_id="gh-a", enabled=start_enabled)
    second = ProviderFactory(provider_id="gh-b", enabled=start_enabled)
    ProviderFactory(provider_id="gh-untouched", enabled=start_enabled)
    client.force_login(operator)
    before = enabled_ids()
    selection = {"action": action, "_selected_action": [first.pk, second.pk], "index": 0}

    page = client.post(PROVIDERS, selection)

    assert page.status_code == 200
    body = text(page)
    assert summary in body
    assert f'value="{button}"' in body
    assert "gh-a" in body and "gh-b" in body and "gh-untouched" not in body
    assert re.findall(r'name="_selected_action" value="(\d+)"', body) == [str(first.pk), str(second.pk)]
    assert "No, take me back" in body
    assert enabled_ids() == before, "nothing changes before the operator confirms"
    assert not AuditEvent.objects.filter(object_type="provider", action="update").exists()

    done = client.post(PROVIDERS, {**selection, "confirmed": "yes"}, follow=True)

    assert done.status_code == 200
    assert f"2 provider(s) {'disabled' if start_enabled else 'enabled'}." in text(done)
    states = dict(Provider.objects.values_list("provider_id", "enabled"))
    assert states == {"gh-a": not start_enabled, "gh-b": not start_enabled, "gh-untouched": start_enabled}


def test_disable_confirmation_says_what_disabling_means(client, operator):
    provider = ProviderFactory(provider_id="gh-used")
    client.force_login(operator)

    body = text(client.post(PROVIDERS, {"action": "disable_selected", "_selected_action": [provider.pk]}))

    assert "projects keep their link" in body
    assert "identity providers leave the public login list" in body


def test_confirmation_of_all_matching_keeps_the_filter(client, operator):
    for number in range(3):
        ProviderFactory(provider_id=f"gl-{number}", type="gitlab", enabled=True)
    ProviderFactory(provider_id="gh-other", type="github", enabled=True)
    client.force_login(operator)
    url = PROVIDERS + "?type__exact=gitlab"
    selection = {"action": "disable_selected", "_selected_action": [], "select_across": "1", "index": 0}
    some = Provider.objects.filter(type="gitlab").first()
    assert some is not None
    selection["_selected_action"] = [some.pk]

    page = client.post(url, selection)

    body = text(page)
    assert "3 selected providers" in body
    assert 'name="select_across" value="1"' in body
    assert '<form method="post">' in body, "no action attribute: it posts back to the filtered list's URL"
    assert 'name="confirmed_total" value="3"' in body

    client.post(url, {**selection, "confirmed": "yes", "confirmed_total": "3"})

    assert enabled_ids() == ["gh-other"]


def test_all_matching_that_changed_since_shown_is_shown_again(client, operator):
    for number in range(2):
        ProviderFactory(provider_id=f"gl-{number}", type="gitlab")
    client.force_login(operator)
    url = PROVIDERS + "?type__exact=gitlab"
    some = Provider.objects.filter(type="gitlab").first()
    assert some is not None
    selection = {"action": "disable_selected", "_selected_action": [some.pk], "select_across": "1", "index": 0}
    assert 'name="confirmed_total" value="2"' in text(client.post(url, selection))
    ProviderFactory(provider_id="gl-new", type="gitlab")  # someone adds one meanwhile

    again = text(client.post(url, {**selection, "confirmed": "yes", "confirmed_total": "2"}))

    assert "The selection changed since this page was shown" in again
    assert "3 of the selected providers will be disabled" in again
    assert Provider.objects.filter(enabled=False).count() == 0


def test_test_connection_confirms_and_refuses_big_batches(client, operator):
    providers = [ProviderFactory(provider_id=f"gh-{number:02d}") for number in range(21)]
    client.force_login(operator)

    few = text(client.post(PROVIDERS, {"action": "test_connection", "_selected_action": [providers[0].pk]}))

    assert "will call the API of each selected provider (1)" in few
    assert 'value="Yes, test 1"' in few
    assert not Provider.objects.filter(last_tested_at__isnull=False).exists()

    too_many = {"action": "test_connection", "_selected_action": [p.pk for p in providers], "confirmed": "yes"}
    refused = text(client.post(PROVIDERS, too_many))

    assert "Select at most 20 providers to test at once." in refused
    assert 'id="action-confirm"' not in refused
    assert not Provider.objects.filter(last_tested_at__isnull=False).exists()


def test_viewers_get_no_bulk_actions(client, plain_user):
    plain_user.user_permissions.add(Permission.objects.get(codename="view_provider"))
    provider = ProviderFactory(provider_id="gh-viewed")
    client.force_login(plain_user)

    selection = {"action": "disable_selected", "_selected_action": [provider.pk]}
    for data in (selection, {**selection, "confirmed": "yes"}):
        response = client.post(PROVIDERS, data)
        assert response.status_code == 200  # the list again: the action is not offered to viewers
        assert 'id="action-confirmation"' not in text(response)
        assert Provider.objects.get(provider_id="gh-viewed").enabled is True
    button = reverse("admin:providers_provider_test_connection", args=[provider.pk])
    assert client.post(button).status_code == 403
    assert 'id="test-connection-button"' not in text(client.get(change_url(provider)))
    provider.refresh_from_db()
    assert provider.last_tested_at is None


@pytest.mark.parametrize(
    ("action", "summary"),
    [
        ("disable_selected", "1 of the selected identity providers will be disabled"),
        ("verify_domains", "look up the DNS TXT record of each domain of the selected identity providers (1)"),
    ],
)
def test_identity_bulk_actions_confirm_first(client, operator, action, summary):
    provider = IdentityProviderFactory().provider
    client.force_login(operator)
    selection = {"action": action, "_selected_action": [provider.identity.pk]}

    body = text(client.post(IDENTITIES, selection))

    assert summary in body
    assert Provider.objects.get(pk=provider.pk).enabled is True

    if action == "disable_selected":
        client.post(IDENTITIES, {**selection, "confirmed": "yes"})
        assert Provider.objects.get(pk=provider.pk).enabled is False


def test_provider_page_lists_the_projects_using_it(client, operator):
    provider = ProviderFactory(provider_id="gh-shared")
    for number in range(22):
        ProjectFactory(project_id=f"app-{number:02d}", name=f"App {number}", provider=provider)
    ProjectFactory(project_id="elsewhere", provider=ProviderFactory(provider_id="gh-other"))
    client.force_login(operator)

    body = text(client.get(change_url(provider)))

    assert "Where it is used" in body
    assert "Used by 22 project(s) as their git provider" in body
    first = Project.objects.get(project_id="app-00")
    assert f'href="{reverse("admin:providers_project_change", args=[first.pk])}"' in body
    assert "app-19" in body and "app-20" not in body, "the first 20, then a link to all"
    listing = reverse("admin:providers_project_changelist") + f"?provider__exact={provider.pk}"
    assert f'href="{listing}"' in body and "All 22 projects" in body

    listed = client.get(listing)

    assert listed.status_code == 200
    assert {p.project_id for p in listed.context["cl"].result_list} == {f"app-{n:02d}" for n in range(22)}


def test_unused_provider_says_it_can_be_deleted(client, operator):
    provider = ProviderFactory(provider_id="gh-alone")
    client.force_login(operator)

    assert "Not used by any project." in text(client.get(change_url(provider)))


def test_provider_page_shows_health(client, operator):
    provider = ProviderFactory(
        provider_id="gh-health",
        last_tested_at=timezone.now() - timedelta(hours=1),
        last_test_ok=False,
        last_test_message="401 Unauthorized: the token was refused",
    )
    Credential.objects.filter(provider=provider).update(expires_at=timezone.now() + timedelta(days=5, hours=1))
    client.force_login(operator)

    body = text(client.get(change_url(provider)))

    assert "Health" in body
    assert "failed at" in body and "401 Unauthorized: the token was refused" in body
    assert re.search(r"⚠ expires \d{4}-\d\d-\d\d \(in 5\xa0days", body)
    assert "— (no identity configuration)" in body

    Credential.objects.filter(provider=provider).update(expires_at=timezone.now() - timedelta(days=3))
    assert re.search(r"✗ expired \d{4}-\d\d-\d\d \(3\xa0days ago\)", text(client.get(change_url(provider))))

    Credential.objects.filter(provider=provider).update(expires_at=None)
    assert "no expiry set" in text(client.get(change_url(provider)))


def test_provider_page_shows_the_saml_certificate_expiry(client, operator, certificate_pem):
    # The test certificate is valid for 30 days: within the warning window.
    provider = IdentityProviderFactory(saml=True, signing_certificate=certificate_pem).provider
    identity = IdentityProvider.objects.get(provider=provider)
    assert identity.certificate_expires_at is not None
    client.force_login(operator)

    body = text(client.get(change_url(provider)))

    expected = timezone.localtime(identity.certificate_expires_at).strftime("%Y-%m-%d")
    assert f'signing certificate <strong class="expiry-soon">⚠ expires {expected} (in 4' in body
    assert reverse("admin:providers_identityprovider_change", args=[identity.pk]) in body


def test_test_connection_button_records_the_result(client, operator):
    # Port 9 on 127.0.0.1 is closed: the test fails fast and no request leaves the machine.
    provider = ProviderFactory(provider_id="gh-button", api_base_url="http://127.0.0.1:9")
    client.force_login(operator)
    button = reverse("admin:providers_provider_test_connection", args=[provider.pk])

    assert 'id="test-connection-button"' in text(client.get(change_url(provider)))
    assert client.get(button).status_code == 403, "POST only"

    response = client.post(button, follow=True)

    assert response.redirect_chain[-1][0] == change_url(provider)
    provider.refresh_from_db()
    assert provider.last_tested_at is not None and provider.last_test_ok is False
    assert "failed at" in text(response)


def test_provider_form_carries_the_catalogue_for_its_script(client, operator):
    client.force_login(operator)

    body = text(client.get(reverse("admin:providers_provider_add")))

    assert "providers/provider_admin.js" in body
    match = re.search(r'<script id="provider-form-catalog" type="application/json">(.*?)</script>', body, re.S)
    assert match is not None
    catalog = json.loads(match.group(1))
    assert catalog["creating"] is True
    assert catalog["types"]["github"]["credentialTypes"] == list(PROVIDER_TYPES["github"].credential_types)
    assert catalog["types"]["gitlab"]["base_url"] == "https://gitlab.com"
    assert catalog["credentialTypes"]["githubApp"]["inputs"] == ["app_id", "private_key", "installation_id"]
    assert set(catalog["credentialTypes"]) == set(CREDENTIAL_TYPES)


def test_server_refuses_a_credential_type_the_form_would_not_offer(client, operator):
    """The script hides credential types a provider type does not accept; the server refuses them anyway."""
    client.force_login(operator)
    form = {
        "provider_id": "gl-app",
        "label": "GitLab",
        "type": "gitlab",
        "enabled": "on",
        "credential_type": "githubApp",
        "app_id": "1",
        "private_key": "x",
        "installation_id": "2",
    }

    response = client.post(reverse("admin:providers_provider_add"), form)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Provider.objects.filter(provider_id="gl-app").exists()


# Choices and check boxes explain themselves through their options and help text.
CHOICE_WIDGETS = (forms.CheckboxInput, forms.Select, forms.SelectMultiple)


@pytest.mark.parametrize("model_admin", ["provider", "identityprovider", "project"])
def test_every_input_has_a_help_text_and_text_inputs_an_example(superuser, model_admin):
    admin_class = next(ma for model, ma in site._registry.items() if model._meta.model_name == model_admin)
    request = RequestFactory().get("/")
    request.user = superuser
    form_class = admin_class.get_form(request, None)
    missing, without_example = [], []
    for name, field in form_class.base_fields.items():
        if not field.help_text:
            missing.append(name)
        elif "e.g." not in field.help_text and not isinstance(field.widget, CHOICE_WIDGETS):
            without_example.append(name)
    assert missing == []
    assert without_example == []
