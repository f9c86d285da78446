"""Signing in through an identity provider, as a user goes through it in the browser: the buttons
of the login page (and of the admin's), the real test OpenID provider's own sign-in page (npm
oidc-provider, `tests/idp/oidc_provider.py`), and back to the registry signed in; what the mappers
make of the user, providers that are disabled or hidden, home-realm discovery by email, linking an
existing account with its password, and the linked accounts page."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.roles import OPERATORS
from providers.models import AuditEvent, FederatedIdentity, IdentityProviderDomain
from tests.e2e.conftest import PASSWORD, document
from tests.factories import IdentityProviderFactory, UserFactory
from tests.signin.helpers import oidc_identity

User = get_user_model()
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ANA = {
    "email": "ana@acme.test",
    "email_verified": True,
    "given_name": "Ana",
    "family_name": "Lima",
    "preferred_username": "ana.lima",
    "groups": ["staff"],
}
REFERENCE = re.compile(r"^[0-9A-F]{8}$")
# Chromium reports a page answered with an error status in the console; the refusals below are such
# pages (403 for a refused provider, 400 for a wrong password, an unknown domain or the last link).
FORBIDDEN = "Failed to load resource: the server responded with a status of 403 (Forbidden)"
BAD_REQUEST = "Failed to load resource: the server responded with a status of 400 (Bad Request)"


@pytest.fixture
def idp(fresh_oidc_provider):
    fresh_oidc_provider.set_account("ana", ANA)
    return fresh_oidc_provider


@pytest.fixture
def identity(idp, live_server):
    """`identity(alias, name, **fields)`: an OIDC identity provider at the test provider, named
    `name` on the login page, with the live server's callback registered at the provider (the
    callbacks of every identity provider the test made, on every client)."""
    callbacks: list[str] = []

    def create(alias: str, name: str, **fields):
        made = oidc_identity(idp, alias=alias, display_name=name, **fields)
        callbacks.append(f"{live_server.url}/signin/default/{alias}/callback")
        idp.set_redirect_uris(callbacks)
        return made

    return create


def other_button(alias: str, name: str, **fields):
    """An identity provider that is only a button here (its endpoints are nowhere)."""
    return IdentityProviderFactory(alias=alias, display_name=name, **fields)


def at_provider(page, idp, account: str = "ana") -> None:
    """The provider's own sign-in page: type the account, press Sign in."""
    page.wait_for_url(f"{idp.issuer}/interaction/**")
    assert page.inner_text("h1") == "Sign in"
    page.get_by_label("Account").fill(account)
    page.get_by_role("button", name="Sign in").click()


def back_at(page, live_server, path: str) -> None:
    page.wait_for_url(f"{live_server.url}{path}")


def linked_rows(page) -> list[str]:
    return [row.strip() for row in page.locator("table.linked tbody tr").all_inner_texts()]


def log_out(page) -> None:
    page.goto("/logout/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")


def admin_index_shown(page) -> bool:
    return page.locator("#user-tools").count() == 1 and page.locator("#login-form").count() == 0


def test_sign_in_with_the_button_at_the_providers_page_and_back_signed_in(page, live_server, idp, identity):
    identity("corp", "ACME Okta")

    page.goto("/login/")
    page.get_by_role("link", name="Sign in with ACME Okta").click()
    at_provider(page, idp)
    back_at(page, live_server, "/account/linked/")

    assert page.inner_text("h1") == "Linked accounts"
    assert "Signed in as ana.lima." in page.inner_text("main")
    assert "Open the admin" not in page.inner_text("main")  # in no role group: not staff
    [row] = linked_rows(page)
    assert row.startswith("ACME Okta") and "ana.lima" in row
    user = User.objects.get(username="ana.lima")
    assert (user.email, user.first_name, user.last_name) == ("ana@acme.test", "Ana", "Lima")
    assert not user.has_usable_password() and not user.is_staff
    assert FederatedIdentity.objects.get().user == user


def staff_are_operators(identity_provider, **fields) -> None:
    identity_provider.mappers.create(
        name="staff are operators",
        mapper_type="oidc-advanced-group-idp-mapper",
        config={"claim": "groups", "claim_value": "staff", "group": OPERATORS},
        **fields,
    )


def test_a_group_mapper_makes_an_operator_whom_the_admin_lets_in(page, live_server, idp, identity):
    staff_are_operators(identity("corp", "ACME Okta"))

    page.goto("/login/")
    page.get_by_role("link", name="Sign in with ACME Okta").click()
    at_provider(page, idp)
    back_at(page, live_server, "/admin/")

    assert admin_index_shown(page)
    assert "Providers, projects and access" in page.inner_text("#content")
    assert "welcome, ana." in page.inner_text("#user-tools").lower()  # the first name the provider gave
    user = User.objects.get(username="ana.lima")
    assert user.is_staff and user.groups.filter(name=OPERATORS).exists()


def test_the_admin_login_page_button_signs_in_and_returns_where_the_operator_was_going(
    page, live_server, idp, identity
):
    staff_are_operators(identity("corp", "ACME Okta"))

    page.goto("/admin/providers/identityprovider/")
    page.wait_for_url(re.compile(r"/admin/login/\?next="))
    assert page.locator("#login-form").count() == 1
    page.locator("#signin-providers").get_by_role("link", name="Sign in with ACME Okta").click()
    at_provider(page, idp)
    back_at(page, live_server, "/admin/providers/identityprovider/")

    assert admin_index_shown(page)
    assert "corp" in page.inner_text("#result_list")


@pytest.mark.parametrize(("sync_mode", "operator_after"), [("FORCE", False), ("IMPORT", True)])
def test_second_login_with_changed_claims_by_sync_mode(page, live_server, idp, identity, sync_mode, operator_after):
    # prompt=login: the provider asks for the account again at the second login too.
    staff_are_operators(identity("corp", "ACME Okta", sync_mode=sync_mode, prompt="login"))
    page.goto("/login/")
    page.get_by_role("link", name="Sign in with ACME Okta").click()
    at_provider(page, idp)
    back_at(page, live_server, "/admin/")
    assert admin_index_shown(page)
    log_out(page)

    idp.set_account("ana", {**ANA, "groups": ["contractors"]})  # no longer staff at the provider
    page.get_by_role("link", name="Sign in with ACME Okta").click()
    at_provider(page, idp)
    back_at(page, live_server, "/admin/" if operator_after else "/account/linked/")
    page.goto("/admin/")

    user = User.objects.get(username="ana.lima")
    if operator_after:
        assert admin_index_shown(page)
        assert user.is_staff and user.groups.filter(name=OPERATORS).exists()
    else:
        page.wait_for_url(re.compile(r"/admin/login/\?next=/admin/$"))
        assert page.locator("#login-form").count() == 1
        assert "You are authenticated as ana.lima, but are not authorized" in page.inner_text("#content")
        assert not user.is_staff and not user.groups.filter(name=OPERATORS).exists()


def test_a_disabled_provider_has_no_button_and_its_start_url_is_refused(page, live_server, console, identity):
    identity("corp", "ACME Okta")
    identity("retired", "Retired SSO", enabled=False)
    console.allow(FORBIDDEN)

    page.goto("/login/")
    buttons = page.locator("ul.buttons").inner_text()
    assert "Sign in with ACME Okta" in buttons and "Retired" not in page.content()

    page.goto("/signin/default/retired/")
    assert page.inner_text("h1") == "Sign-in failed"
    assert page.get_by_role("alert").inner_text() == "This identity provider is disabled."
    reference = page.inner_text("#reference")
    document(page, "signin-failure")
    assert REFERENCE.match(reference), reference
    event = AuditEvent.objects.filter(action=AuditEvent.Action.SIGNIN, ok=False).get()
    assert event.detail.startswith(f"[{reference}] disabled:")
    page.get_by_role("link", name="Back to sign-in").click()
    page.wait_for_url("**/login/")


def test_a_hidden_provider_has_no_button_but_its_hint_signs_in(page, live_server, idp, identity):
    identity("corp", "ACME Okta")
    identity("backstage", "Backstage SSO", hide_on_login=True)

    page.goto("/login/")
    assert "Sign in with ACME Okta" in page.inner_text("main")
    assert "Backstage" not in page.content()

    page.goto("/login/?kc_idp_hint=backstage")
    at_provider(page, idp)
    back_at(page, live_server, "/account/linked/")
    [row] = linked_rows(page)
    assert row.startswith("Backstage SSO")


def test_home_realm_discovery_sends_a_work_email_to_its_provider(page, live_server, console, idp, identity):
    acme = identity("corp", "ACME Okta", login_hint=True)
    IdentityProviderDomain.objects.create(identity=acme, domain="acme.test", verified_at=timezone.now())
    other_button("globex", "Globex Entra ID")
    other_button("github", "GitHub")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    console.allow(BAD_REQUEST)

    page.goto("/login/")
    assert page.locator("ul.buttons li").all_inner_texts() == [
        "Sign in with ACME Okta",
        "Sign in with GitHub",
        "Sign in with Globex Entra ID",
    ]
    page.get_by_label("Work email").fill("bob@elsewhere.test")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("[role=alert]")
    assert "No identity provider signs in addresses of that domain" in page.get_by_role("alert").inner_text()
    assert page.input_value("#signin-email") == "bob@elsewhere.test"

    page.goto("/login/")
    page.get_by_label("Work email").fill("ana@acme.test")
    document(page, "signin-login-page")
    page.get_by_role("button", name="Continue").click()
    at_provider(page, idp)
    back_at(page, live_server, "/account/linked/")

    authorization = idp.discovery()["authorization_endpoint"]
    [asked] = [url for url in requested if url.startswith(authorization + "?")]
    assert "login_hint=ana%40acme.test" in asked
    assert linked_rows(page)[0].startswith("ACME Okta")


def test_an_existing_account_is_linked_after_its_password_is_given(page, live_server, console, idp, identity):
    account = UserFactory(username="ana", email="ana@acme.test", is_staff=False)  # password: PASSWORD
    identity("corp", "ACME Okta")  # no verified domain: the provider does not vouch for the address
    console.allow(BAD_REQUEST)

    page.goto("/login/")
    page.get_by_role("link", name="Sign in with ACME Okta").click()
    at_provider(page, idp)
    back_at(page, live_server, "/signin/first-login/existing-account/")
    assert page.inner_text("h1") == "You already have an account"
    assert "ana" in page.inner_text("main strong")
    assert FederatedIdentity.objects.count() == 0

    page.get_by_label("Password of ana").fill("not-the-password")
    page.get_by_role("button", name="Sign in and link").click()
    page.wait_for_selector("[role=alert]")
    assert page.get_by_role("alert").inner_text() == "That password is not the account's."
    assert FederatedIdentity.objects.count() == 0

    page.get_by_label("Password of ana").fill(PASSWORD)
    page.get_by_role("button", name="Sign in and link").click()
    back_at(page, live_server, "/account/linked/")
    assert "Signed in as ana." in page.inner_text("main")
    [row] = linked_rows(page)
    assert row.startswith("ACME Okta") and "ana.lima" in row
    assert FederatedIdentity.objects.get().user == account
    assert User.objects.count() == 1  # linked, no second account


def test_linked_accounts_link_another_unlink_one_and_keep_the_last(page, live_server, console, idp, identity):
    identity("corp", "ACME Okta")
    identity("globex", "Globex Entra ID", client="rp-post")
    other_button("github", "GitHub")
    console.allow(BAD_REQUEST)

    page.goto("/login/")
    page.get_by_role("link", name="Sign in with ACME Okta").click()
    at_provider(page, idp)
    back_at(page, live_server, "/account/linked/")
    assert [row.split("\t")[0] for row in linked_rows(page)] == ["ACME Okta"]
    assert page.locator("ul.buttons button").all_inner_texts() == ["Link GitHub", "Link Globex Entra ID"]

    # The browser is still signed in at the provider: it sends the user straight back, linked.
    page.get_by_role("button", name="Link Globex Entra ID").click()
    back_at(page, live_server, "/account/linked/")
    assert [row.split("\t")[0] for row in linked_rows(page)] == ["ACME Okta", "Globex Entra ID"]
    assert page.locator("ul.buttons button").all_inner_texts() == ["Link GitHub"]
    document(page, "signin-linked-accounts")
    user = User.objects.get(username="ana.lima")
    linked = FederatedIdentity.objects.filter(user=user).values_list("identity__provider__provider_id", flat=True)
    assert sorted(linked) == ["corp", "globex"]

    page.locator("table.linked tr", has_text="ACME Okta").get_by_role("button", name="Unlink").click()
    page.wait_for_selector("table.linked tr:has-text('ACME Okta')", state="detached")
    assert [row.split("\t")[0] for row in linked_rows(page)] == ["Globex Entra ID"]

    page.locator("table.linked tr", has_text="Globex Entra ID").get_by_role("button", name="Unlink").click()
    page.wait_for_selector("[role=alert]")
    assert page.get_by_role("alert").inner_text() == (
        "This is the account's only way to sign in; link another provider first."
    )
    assert [row.split("\t")[0] for row in linked_rows(page)] == ["Globex Entra ID"]
    assert FederatedIdentity.objects.filter(user=user).count() == 1


def test_log_out_ends_the_session_at_the_provider_too(page, live_server, idp, identity):
    identity("corp", "ACME Okta", logout_at_provider=True)
    idp.set_redirect_uris(
        [f"{live_server.url}/signin/default/corp/callback"], post_logout_redirect_uris=[f"{live_server.url}/login/"]
    )
    page.goto("/login/")
    page.get_by_role("link", name="Sign in with ACME Okta").click()
    at_provider(page, idp)
    back_at(page, live_server, "/account/linked/")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{idp.issuer}/**")  # the provider asks too
    assert page.inner_text("h1") == "Sign out"
    page.get_by_role("button", name="Yes, sign me out").click()
    back_at(page, live_server, "/login/")
    page.goto("/account/linked/")
    page.wait_for_url("**/login/?next=/account/linked/")

    page.get_by_role("link", name="Sign in with ACME Okta").click()
    at_provider(page, idp)  # signed out there as well: the provider asks for the account again
    back_at(page, live_server, "/account/linked/")
