"""The sign-in pages' forms that a browser must be able to submit: they send their origin (Django's
CSRF check refuses `Origin: null`, which a `no-referrer` page sends), and the pages whose forms are
redirected on to an identity provider (home-realm discovery, "Link …", log out at the provider)
list that provider's origin in the policy's form-action, which browsers check on every redirect
after a form submission. tests/e2e/test_signin.py goes through the same forms in Chromium."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from providers.models import IdentityProviderDomain
from providers.signin import csp, oidc
from tests.factories import IdentityProviderFactory, UserFactory

pytestmark = pytest.mark.django_db


def form_action(response) -> str:
    directives = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    return directives["form-action"]


def verified(identity, domain: str) -> None:
    IdentityProviderDomain.objects.create(identity=identity, domain=domain, verified_at=timezone.now())


def test_sign_in_pages_keep_the_origin_on_their_form_posts(client):
    page = client.get("/login/")
    assert '<meta name="referrer" content="same-origin">' in page.content.decode()
    assert "no-referrer" not in page.content.decode() and page.get("Referrer-Policy", "same-origin") == "same-origin"
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(UserFactory(username="ana", is_staff=False))
    token = browser.get("/logout/").cookies["csrftoken"].value
    posted = browser.post("/logout/", {"csrfmiddlewaretoken": token}, HTTP_ORIGIN="http://testserver")
    assert posted.status_code == 302


def test_the_login_pages_email_box_may_lead_to_the_providers_of_verified_domains(client):
    verified(IdentityProviderFactory(alias="acme", base="https://sso.acme.test/realms/main"), "acme.test")
    IdentityProviderFactory(alias="other", base="https://other.test/realms/main")  # a button only: a link
    assert form_action(client.get("/login/")) == "'self' https://sso.acme.test"
    refused = client.post("/login/default/", {"email": "bob@elsewhere.test"})
    assert refused.status_code == 400 and form_action(refused) == "'self' https://sso.acme.test"
    assert form_action(client.get("/admin/login/")) == "'self' https://sso.acme.test"


def test_without_discovery_the_login_page_posts_nowhere_else(client):
    IdentityProviderFactory(alias="acme", base="https://sso.acme.test/realms/main")
    assert form_action(client.get("/login/")) == "'self'"
    assert form_action(client.get("/admin/login/")) == "'self'"


def test_an_issuer_without_stored_endpoints_gives_its_origin_and_its_cached_discoverys(client):
    issuer = "https://login.example.test/tenant/v2.0"
    verified(IdentityProviderFactory(alias="entra", issuer=issuer, authorization_url=""), "example.test")
    assert form_action(client.get("/login/")) == "'self' https://login.example.test"
    cache.set(oidc.discovery_cache_key(issuer), {"authorization_endpoint": "https://auth.example.test:8443/x"})
    assert form_action(client.get("/login/")) == "'self' https://auth.example.test:8443 https://login.example.test"


def test_the_linked_accounts_page_may_lead_to_linkable_providers_and_to_the_logout_at_the_provider(client):
    signed_through = IdentityProviderFactory(
        alias="corp",
        base="https://corp.test/realms/main",
        logout_at_provider=True,
        logout_url="https://out.corp.test/end",
    )
    IdentityProviderFactory(alias="globex", base="https://globex.test/realms/main")
    IdentityProviderFactory(alias="hidden", base="https://hidden.test/realms/main", hide_on_login=True)
    client.force_login(UserFactory(username="ana", is_staff=False))
    assert form_action(client.get("/account/linked/")) == "'self' https://corp.test https://globex.test"
    assert form_action(client.get("/logout/")) == "'self'"

    session = client.session
    session["signin.identity"] = {"identity": signed_through.pk}
    session.save()
    assert form_action(client.get("/logout/")) == "'self' https://out.corp.test"
    linked = form_action(client.get("/account/linked/"))
    assert linked == "'self' https://corp.test https://globex.test https://out.corp.test"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://SSO.acme.test/realms/x/auth?x=1", "https://sso.acme.test"),
        ("https://user@acme.test:8443/auth", "https://acme.test:8443"),
        ("http://127.0.0.1:5556/auth", "http://127.0.0.1:5556"),
        ("http://[::1]:5556/auth", "http://[::1]:5556"),
        ("https://acme.test; script-src *", None),
        ("https://acme.test,evil.test/", None),
        ("javascript:alert(1)", None),
        ("ftp://acme.test/", None),
        ("", None),
    ],
)
def test_only_a_plain_origin_enters_the_policy(url, expected):
    assert csp.origin(url) == expected
