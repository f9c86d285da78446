"""Options a login reads: client authentication with a JWT, trustEmail, Entra ID's multi-tenant
issuer and its tenant allow-list, and where the browser goes afterwards."""

import time

import pytest
from django.utils import timezone

from providers.models import FederatedIdentity, IdentityProviderDomain
from tests.factories import UserFactory

from .helpers import callback_url, oidc_identity, sign_in
from .test_oidc_failures import TokenServer, assert_refused, back, begin, identity_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def idp(fresh_oidc_provider):
    fresh_oidc_provider.set_account("ana", {"email": "ana@acme.test", "preferred_username": "ana"})
    return fresh_oidc_provider


def test_client_secret_jwt(client, idp):
    secret = "rp-jwt-secret-" + "x" * 40
    idp.set_clients(
        [
            *idp.clients.values(),
            {
                "client_id": "rp-jwt",
                "client_secret": secret,
                "token_endpoint_auth_method": "client_secret_jwt",
                "redirect_uris": [callback_url("corp")],
            },
        ]
    )
    oidc_identity(
        idp, client="rp-basic", client_id="rp-jwt", client_secret=secret, client_auth_method="client_secret_jwt"
    )
    response = sign_in(client, idp, "corp", "ana")
    assert response.status_code == 302, response.content[:600]
    assert FederatedIdentity.objects.get().subject == "ana"


def test_next_is_followed_on_this_host_only(client, idp):
    oidc_identity(idp)
    assert (
        sign_in(client, idp, "corp", "ana", query="next=/account/linked/%3Fx%3D1")["Location"] == "/account/linked/?x=1"
    )
    client.logout()
    assert sign_in(client, idp, "corp", "ana", query="next=https://evil.test/")["Location"] == "/account/linked/"


@pytest.fixture
def provider(httpserver):
    return TokenServer(httpserver)


def test_trust_email_links_an_unverified_address_in_a_verified_domain(client, provider):
    existing = UserFactory(username="ana", email="ana@acme.test")
    identity = identity_at(provider, trust_email=True)
    IdentityProviderDomain.objects.create(identity=identity, domain="acme.test", verified_at=timezone.now())
    params = begin(client)
    provider.answer(provider.sign(provider.claims(params["nonce"], email_verified=None)))
    assert back(client, params).status_code == 302
    assert FederatedIdentity.objects.get().user == existing


def _entra(provider: TokenServer, **fields):
    template = provider.server.url_for("/{tenantid}/v2.0")
    return template, identity_at(provider, issuer=template, **fields)


def test_entra_multi_tenant_issuer_is_filled_with_the_tokens_tenant(client, provider):
    template, _ = _entra(provider)
    params = begin(client)
    tenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
    provider.answer(
        provider.sign(provider.claims(params["nonce"], iss=template.replace("{tenantid}", tenant), tid=tenant))
    )
    assert back(client, params).status_code == 302


def test_entra_issuer_of_another_tenant_than_the_tid_is_refused(client, provider):
    template, _ = _entra(provider)
    params = begin(client)
    claims = provider.claims(params["nonce"], iss=template.replace("{tenantid}", "tenant-a"), tid="tenant-b")
    provider.answer(provider.sign(claims))
    assert_refused(back(client, params), 400, "iss claim", "issuer")


def test_entra_tenant_allow_list(client, provider):
    template, _ = _entra(provider, allowed_tenants="tenant-a tenant-c")
    params = begin(client)
    claims = provider.claims(params["nonce"], iss=template.replace("{tenantid}", "tenant-b"), tid="tenant-b")
    provider.answer(provider.sign(claims))
    assert_refused(back(client, params), 403, "not one of the allowed tenants", "tenant")


def test_clock_skew_tolerates_a_token_just_expired(client, provider, settings):
    settings.SIGNIN_CLOCK_SKEW = 60
    identity_at(provider)
    params = begin(client)
    provider.answer(provider.sign(provider.claims(params["nonce"], exp=int(time.time()) - 30)))
    assert back(client, params).status_code == 302
