"""The login page: one button per identity provider of the public list, home-realm discovery by
email, hints, the default provider; and the linked accounts page and logout."""

import pytest
from django.utils import timezone

from providers.models import FederatedIdentity, IdentityProviderDomain
from tests.factories import IdentityProviderFactory, UserFactory

from .helpers import oidc_identity, sign_in

pytestmark = pytest.mark.django_db


def test_buttons_in_the_public_lists_order_with_its_names(client):
    IdentityProviderFactory(alias="zeta", display_name="Zeta SSO")
    IdentityProviderFactory(alias="acme", display_name="ACME Okta")
    IdentityProviderFactory(alias="hidden", hide_on_login=True)
    IdentityProviderFactory(alias="off", enabled=False)
    IdentityProviderFactory(alias="linker", link_only=True)
    page = client.get("/login/")
    body = page.content.decode()
    assert page.status_code == 200
    assert body.index("Sign in with ACME Okta") < body.index("Sign in with Zeta SSO")
    assert 'href="/signin/default/acme/"' in body
    for absent in ("hidden", "/off/", "linker"):
        assert absent not in body
    assert 'name="email"' not in body  # no verified domain: no discovery box


def test_admin_login_page_shows_the_buttons(client):
    IdentityProviderFactory(alias="acme", display_name="ACME Okta")
    page = client.get("/admin/login/")
    assert page.status_code == 200 and "Sign in with ACME Okta" in page.content.decode()


def test_home_realm_discovery_by_email(client):
    identity = IdentityProviderFactory(alias="acme", login_hint=True)
    IdentityProviderDomain.objects.create(identity=identity, domain="acme.com", verified_at=timezone.now())
    IdentityProviderFactory(alias="other")
    page = client.get("/login/")
    assert 'name="email"' in page.content.decode()
    response = client.post("/login/default/", {"email": "ana@ACME.com"})
    assert response.status_code == 302
    assert response["Location"] == "/signin/default/acme/?login_hint=ana%40ACME.com"
    started = client.get(response["Location"])
    assert "login_hint=ana%40ACME.com" in started["Location"]
    unknown = client.post("/login/default/", {"email": "bob@elsewhere.org"})
    assert unknown.status_code == 400 and "No identity provider signs in addresses" in unknown.content.decode()


def test_hidden_provider_by_hint_and_default_provider(client):
    IdentityProviderFactory(alias="hidden", hide_on_login=True)
    assert client.get("/login/?kc_idp_hint=hidden")["Location"] == "/signin/default/hidden/"
    assert client.get("/login/?idp_hint=hidden")["Location"] == "/signin/default/hidden/"
    assert client.get("/signin/default/hidden/").status_code == 302
    IdentityProviderFactory(alias="main", authenticate_by_default=True)
    assert client.get("/login/")["Location"] == "/signin/default/main/"
    assert client.get("/login/?local").status_code == 200


def test_unknown_workspace_and_provider(client):
    assert client.get("/login/nowhere/").status_code == 404
    response = client.get("/signin/default/nobody/")
    assert response.status_code == 404 and "no identity provider of that name" in response.content.decode()


def test_provider_of_another_workspace_is_not_reachable_by_this_workspaces_url(client):
    from accounts.models import Workspace

    acme = Workspace.objects.create(name="acme", display_name="ACME")
    IdentityProviderFactory(alias="okta", provider__workspace=acme)
    assert client.get("/signin/default/okta/").status_code == 404
    assert client.get("/signin/acme/okta/").status_code == 302
    assert "Sign in with okta" in client.get("/login/acme/").content.decode()
    assert "Sign in with okta" not in client.get("/login/").content.decode()


@pytest.fixture
def idp(fresh_oidc_provider):
    fresh_oidc_provider.set_account("ana", {"email": "ana@acme.test", "preferred_username": "ana"})
    return fresh_oidc_provider


def test_review_profile_before_the_account_is_created(client, idp, django_user_model):
    oidc_identity(idp, update_profile_first_login_mode="on")
    response = sign_in(client, idp, "corp", "ana")
    assert response["Location"] == "/signin/first-login/profile/"
    assert django_user_model.objects.count() == 0
    page = client.get(response["Location"])
    assert 'value="ana@acme.test"' in page.content.decode()
    created = client.post(
        response["Location"], {"username": "ana.m", "email": "ana@acme.test", "first_name": "Ana", "last_name": "M"}
    )
    assert created.status_code == 302
    user = django_user_model.objects.get()
    assert (user.username, user.first_name) == ("ana.m", "Ana")
    assert FederatedIdentity.objects.get().user == user


def test_linked_accounts_unlink_and_the_last_way_in(client, idp):
    oidc_identity(idp)
    sign_in(client, idp, "corp", "ana")
    federated = FederatedIdentity.objects.get()
    refused = client.post("/account/linked/", {"unlink": federated.pk})
    assert refused.status_code == 400 and "only way to sign in" in refused.content.decode()
    user = federated.user
    user.set_password("a-long-password-1")
    user.save()
    client.force_login(user)
    assert client.post("/account/linked/", {"unlink": federated.pk}).status_code == 302
    assert FederatedIdentity.objects.count() == 0


def test_link_another_provider_from_the_linked_accounts_page(client, idp):
    oidc_identity(idp)
    user = UserFactory(username="bob", email="bob@corp.test")
    client.force_login(user)
    page = client.get("/account/linked/")
    assert "Link corp" in page.content.decode()
    started = client.post("/signin/default/corp/link/")
    back = idp.sign_in(started["Location"], "ana")
    response = client.get(back.removeprefix("http://testserver"))
    assert response.status_code == 302
    assert FederatedIdentity.objects.get().user == user


def test_logout_ends_the_providers_session_when_turned_on(client, idp):
    oidc_identity(idp, logout_at_provider=True)
    sign_in(client, idp, "corp", "ana")
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"].startswith(idp.discovery()["end_session_endpoint"] + "?")
    assert "id_token_hint=" in response["Location"]
    assert "_auth_user_id" not in client.session


def test_logout_stays_local_by_default(client, idp):
    oidc_identity(idp)
    sign_in(client, idp, "corp", "ana")
    assert client.post("/logout/")["Location"] == "http://testserver/login/"
