"""The provider form shows only the inputs of the chosen type, an operator can do the whole job by
keyboard (sign in, create a provider, disable it through the confirmed bulk action), and the
provider's page shows where it is used and its health."""

from datetime import timedelta

import pytest
from django.utils import timezone

from providers.models import Credential, Provider
from providers.services import credential_content
from tests.e2e.conftest import PASSWORD, document, sign_in
from tests.factories import OperatorFactory, ProjectFactory, ProviderFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
CREDENTIAL_INPUTS = [
    "access_token",
    "user_name",
    "password",
    "token_url",
    "client_id",
    "client_secret",
    "scope",
    "app_id",
    "private_key",
    "installation_id",
]


def shown_inputs(page) -> list[str]:
    return [name for name in CREDENTIAL_INPUTS if page.locator(f"#id_{name}").is_visible()]


def offered(page) -> list[str]:
    return page.eval_on_selector_all(
        "#id_credential_type option", "options => options.filter(o => !o.hidden && o.value).map(o => o.value)"
    )


def test_provider_form_shows_only_the_inputs_of_the_chosen_types(page):
    OperatorFactory(username="form-user")
    sign_in(page, "form-user")
    page.goto("/admin/providers/provider/add/")

    page.select_option("#id_type", "gitlab")
    assert offered(page) == ["token", "userPass"]
    assert page.input_value("#id_credential_type") == "token", "creating preselects the type's first"
    assert shown_inputs(page) == ["access_token"]
    assert page.get_attribute("#id_base_url", "placeholder") == "https://gitlab.com (default)"
    assert "accepts Access token, User name and password" in page.inner_text(".field-type")

    page.select_option("#id_credential_type", "userPass")
    assert shown_inputs(page) == ["user_name", "password"]
    assert "user name and password" in page.inner_text("#credential-type-help")

    page.select_option("#id_type", "azure-devops")
    assert offered(page) == ["token", "userPass", "oauth2ClientCredentials"]
    page.select_option("#id_credential_type", "oauth2ClientCredentials")
    assert shown_inputs(page) == ["token_url", "client_id", "client_secret", "scope"]

    page.select_option("#id_type", "github")
    assert page.input_value("#id_credential_type") == "token", "a type the new provider type refuses is dropped"
    page.select_option("#id_credential_type", "githubApp")
    assert shown_inputs(page) == ["app_id", "private_key", "installation_id"]
    assert page.locator("#id_credential_expires_at").is_visible()
    page.locator(".field-credential_type").scroll_into_view_if_needed()
    document(page, "provider-form-github-app")


def test_editing_hides_the_credential_inputs_until_a_type_is_chosen(page):
    OperatorFactory(username="edit-user")
    provider = ProviderFactory(provider_id="gh-edit", type="gitlab")
    sign_in(page, "edit-user")
    page.goto(f"/admin/providers/provider/{provider.pk}/change/")

    assert page.input_value("#id_credential_type") == ""
    assert shown_inputs(page) == []
    assert offered(page) == ["token", "userPass"]
    page.select_option("#id_credential_type", "token")
    assert shown_inputs(page) == ["access_token"]


def tab_to(page, selector: str, visited: list[str], limit: int = 80) -> None:
    """Press Tab until the focus is on `selector`, noting every element focused on the way."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return [e.id || e.name || e.tagName, e === document.body || e.getClientRects().length > 0]; }"
        )
        visited.append(focused[0])
        assert focused[1], f"{focused[0]} has the focus but is not visible"
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable by Tab; focused on the way: {visited}")


def test_an_operator_works_by_keyboard_alone(page):
    OperatorFactory(username="keys-user")
    ProviderFactory(provider_id="gh-stays")
    visited: list[str] = []

    page.goto("/admin/login/")
    tab_to(page, "#id_username", visited)
    page.keyboard.type("keys-user")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#user-tools")

    page.goto("/admin/providers/provider/add/")
    tab_to(page, "#id_provider_id", visited)
    page.keyboard.type("keys-gitlab")
    page.keyboard.press("Tab")
    page.keyboard.type("GitLab by keyboard")
    tab_to(page, "#id_type", visited)
    for _ in range(20):  # the type list by arrow keys, as a keyboard user picks it
        if page.input_value("#id_type") == "gitlab":
            break
        page.keyboard.press("ArrowDown")
    assert page.input_value("#id_type") == "gitlab"
    tab_to(page, "#id_access_token", visited)
    page.keyboard.type("glpat-keyboard-0123456789")
    visited.clear()
    tab_to(page, "input[name=_save]", visited)
    hidden = {f"id_{name}" for name in CREDENTIAL_INPUTS} - {"id_access_token"}
    assert not hidden & set(visited), "inputs of other credential types are out of the tab order"
    assert "id_credential_expires_at" in visited
    page.keyboard.press("Enter")
    page.wait_for_selector(".messagelist .success")

    provider = Provider.objects.get(provider_id="keys-gitlab")
    assert (provider.type, provider.label) == ("gitlab", "GitLab by keyboard")
    assert credential_content(provider=provider) == {"accessToken": "glpat-keyboard-0123456789"}

    # Disable it through the bulk action, confirmed on its page, by keyboard.
    page.goto("/admin/providers/provider/?q=keys-gitlab")
    tab_to(page, "input.action-select", visited)
    page.keyboard.press("Space")
    tab_to(page, "select[name=action]", visited)
    for _ in range(10):
        if page.input_value("select[name=action]") == "disable_selected":
            break
        page.keyboard.press("ArrowDown")
    tab_to(page, "button[name=index]", visited)
    page.keyboard.press("Enter")
    page.wait_for_selector("#action-confirmation")
    assert "1 of the selected providers will be disabled" in page.inner_text("#action-summary")
    assert Provider.objects.get(provider_id="keys-gitlab").enabled is True
    assert page.evaluate("() => document.activeElement.id") == "action-confirm", "the confirm button has the focus"
    document(page, "bulk-disable-confirmation")
    page.keyboard.press("Enter")
    page.wait_for_selector(".messagelist .success")

    assert "1 provider(s) disabled." in page.inner_text(".messagelist")
    assert dict(Provider.objects.values_list("provider_id", "enabled")) == {"keys-gitlab": False, "gh-stays": True}


def test_provider_page_shows_where_it_is_used_and_its_health(page):
    OperatorFactory(username="health-user")
    provider = ProviderFactory(
        provider_id="gh-health",
        label="Company GitHub",
        last_tested_at=timezone.now() - timedelta(minutes=5),
        last_test_ok=True,
        last_test_message="200 OK: signed in as svc-ci",
    )
    Credential.objects.filter(provider=provider).update(expires_at=timezone.now() + timedelta(days=12))
    for name in ("payments-api", "checkout-web"):
        ProjectFactory(project_id=name, provider=provider)
    sign_in(page, "health-user")

    page.goto(f"/admin/providers/provider/{provider.pk}/change/")

    last_test = page.inner_text(".field-last_test_result")
    assert "passed at" in last_test and "signed in as svc-ci" in last_test
    assert "⚠ expires" in page.inner_text(".field-credential_expiry")
    usage = page.inner_text(".field-used_by")
    assert "Used by 2 project(s)" in usage and "checkout-web" in usage and "payments-api" in usage
    page.locator(".field-last_test_result").scroll_into_view_if_needed()
    document(page, "provider-health-and-usage")
    page.click(".field-used_by >> text=checkout-web")
    page.wait_for_selector("#project_form")
    assert "checkout-web" in page.inner_text("#content")
