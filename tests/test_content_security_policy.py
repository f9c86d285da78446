"""Every HTML page carries an enforced Content-Security-Policy (not report-only): scripts and styles
from this server or with the request's nonce, no inline event handlers or style attributes. The
browser tests (tests/e2e) run with it and fail on any violation; here, the header and the markup."""

import re

import pytest
from django.test import Client

from tests.factories import ProjectFactory, ProviderFactory, UserFactory

NONCE = re.compile(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{24})'")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style([^>]*)>", re.IGNORECASE)
# An attribute in markup: ` onclick="…"`, ` style="…"` (not `data-style`, not text in a <pre>).
HANDLER_OR_STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\s(on[a-z]+|style)\s*=", re.IGNORECASE)


@pytest.fixture
def signed_in(db):
    client = Client()
    client.force_login(UserFactory(username="csp-root", is_superuser=True))
    return client


def assert_enforced_policy(response) -> str:
    assert response["Content-Type"].startswith("text/html")
    assert "Content-Security-Policy-Report-Only" not in response.headers
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "*" not in policy
    nonce = NONCE.search(policy)
    assert nonce, policy
    html = response.content.decode()
    scripts = [attributes for attributes in INLINE_SCRIPT.findall(html) if 'type="application/json"' not in attributes]
    for attributes in scripts + INLINE_STYLE.findall(html):  # data blocks (json_script) do not run
        assert f'nonce="{nonce[1]}"' in attributes, attributes
    assert not HANDLER_OR_STYLE_ATTRIBUTE.search(html), HANDLER_OR_STYLE_ATTRIBUTE.search(html)
    return nonce[1]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/providers/provider/",
        "/admin/providers/provider/add/",
        "/admin/providers/provider/{provider}/change/",
        "/admin/providers/project/{project}/change/",
        "/admin/providers/identityprovider/add/",
        "/admin/accounts/apitoken/add/",
        "/admin/password_change/",
        "/api/docs/",
        "/api/redoc/",
    ],
)
def test_every_html_page_carries_an_enforced_policy(signed_in, path):
    provider = ProviderFactory(provider_id="csp-github")
    project = ProjectFactory(project_id="csp-project")

    response = signed_in.get(path.format(provider=provider.pk, project=project.pk))

    assert response.status_code == 200, response.content[:300]
    assert_enforced_policy(response)


def test_pages_answered_without_a_view_carry_it_too(client, db):
    pages = [
        client.get("/admin/login/"),
        client.get("/no-such-page/"),  # 404
        client.get("/admin/login/", HTTP_HOST="attacker.test"),  # a refusal before any view
        client.post("/admin/login/", {"username": "nobody", "password": "wrong"}),  # the form again
    ]

    assert [page.status_code for page in pages] == [200, 404, 400, 200]
    for page in pages:
        assert_enforced_policy(page)


def test_the_nonce_is_new_on_every_response_and_in_the_pages_inline_code(client, db):
    first, second = client.get("/api/redoc/"), client.get("/api/redoc/")

    nonces = {assert_enforced_policy(first), assert_enforced_policy(second)}

    assert len(nonces) == 2
    assert f'nonce: "{assert_enforced_policy(first)}"' in first.content.decode()  # Redoc's own styles get it


def test_swagger_ui_has_no_inline_script_and_json_carries_no_html_policy(client, db):
    page = client.get("/api/docs/")
    initialiser = client.get("/api/docs/?script=")
    api = client.get("/api/idps")

    assert_enforced_policy(page)
    assert not INLINE_SCRIPT.search(page.content.decode())
    assert initialiser["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in initialiser.content.decode()
    assert api["Content-Type"] == "application/json"
