"""The API portal: Swagger UI, served offline, executes a request with the operator's session."""

from urllib.parse import urlsplit

import pytest

from accounts.services import api_token_create
from tests.e2e.conftest import document, sign_in
from tests.factories import OperatorFactory, ProviderFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def is_local(url: str) -> bool:
    return not url.startswith(("http:", "https:")) or urlsplit(url).hostname in ("127.0.0.1", "localhost")


def try_providers_list(page):
    """Open Swagger UI, open "List providers", press "Try it out" and "Execute"; the operation's block."""
    page.goto("/api/docs/")
    operation = page.locator("#operations-Providers-backend_providers_list")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    return operation


def test_swagger_ui_executes_a_request(page):
    OperatorFactory(username="portal-user")
    ProviderFactory(provider_id="portal-github")
    sign_in(page, "portal-user")
    external: list[str] = []

    page.on("request", lambda request: external.append(request.url) if not is_local(request.url) else None)

    operation = try_providers_list(page)

    response = operation.locator(".live-responses-table .response .response-col_status").first
    assert response.inner_text().strip() == "200"
    assert "portal-github" in operation.locator(".live-responses-table .microlight").first.inner_text()
    assert external == [], "the portal loaded something from outside the server"
    document(page, "api-portal")


def test_swagger_ui_authorizes_with_an_api_token(page, console):
    """A REST client's way in: no session, only the API token pasted into “Authorize”."""
    console.allow("the server responded with a status of 401")
    user = OperatorFactory(username="token-portal-user")
    ProviderFactory(provider_id="token-portal-github")
    _, token = api_token_create(user=user, name="portal")

    operation = try_providers_list(page)
    status = operation.locator(".live-responses-table .response .response-col_status").first
    assert status.inner_text().strip() == "401", "without a token the API refuses"

    page.click("button.authorize")
    bearer = page.locator(".auth-container", has_text="tokenAuth")
    bearer.locator("input").fill(token)
    bearer.locator("button.authorize").click()
    page.click("button.btn-done")
    operation.locator("button.execute").click()

    page.wait_for_function(
        "() => document.querySelector('#operations-Providers-backend_providers_list .live-responses-table"
        " .response .response-col_status').innerText.trim() === '200'"
    )
    assert "token-portal-github" in operation.locator(".live-responses-table .microlight").first.inner_text()
    curl = operation.locator(".curl-command").inner_text()
    assert "Authorization: Bearer" in curl


def test_redoc_renders_the_reference_offline(page):
    external: list[str] = []
    page.on("request", lambda request: external.append(request.url) if not is_local(request.url) else None)

    page.goto("/api/redoc/")

    page.wait_for_selector("h1:has-text('Provider registry API')")
    heading = page.locator("h2:has-text('Create a provider with its credentials')").first
    heading.scroll_into_view_if_needed()
    operation = page.locator("[data-section-id='tag/Providers/operation/backend_providers_create']")
    operation.wait_for()
    samples = operation.inner_text()
    assert "GitHub provider with a token (reference request)" in samples
    assert '"label": "Mia-Platform GitHub"' in samples, "the reference request is the example shown first"
    assert "tokenAuth" in page.inner_text("body")
    assert external == [], "Redoc loaded something from outside the server"
    document(page, "api-redoc")
