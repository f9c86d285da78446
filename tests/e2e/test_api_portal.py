"""The API portal: Swagger UI, served offline, executes a request with the operator's session."""

from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import document, sign_in
from tests.factories import OperatorFactory, ProviderFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_swagger_ui_executes_a_request(page):
    OperatorFactory(username="portal-user")
    ProviderFactory(provider_id="portal-github")
    sign_in(page, "portal-user")
    external: list[str] = []

    def note_external(request) -> None:
        host = urlsplit(request.url).hostname
        if request.url.startswith(("http:", "https:")) and host not in ("127.0.0.1", "localhost"):
            external.append(request.url)

    page.on("request", note_external)

    page.goto("/api/docs/")
    operation = page.locator("#operations-Providers-backend_providers_list")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()

    response = operation.locator(".live-responses-table .response .response-col_status").first
    assert response.inner_text().strip() == "200"
    assert "portal-github" in operation.locator(".live-responses-table .microlight").first.inner_text()
    assert external == [], "the portal loaded something from outside the server"
    document(page, "api-portal")
