"""Every way an OIDC login is refused: a page with a reason and a reference id, an audit entry
with the same reference, no account created or linked.

The provider is played by a local server (pytest-httpserver) that signs its ID tokens with a key
of its own JWKS, so a test can send exactly the token a check is about; the real provider
(oidc-provider) covers what it can produce itself: cancel, refused and malformed exchanges,
timeouts, key rotation."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from django.contrib.auth import get_user_model
from joserfc import jwt
from joserfc.jwk import RSAKey

from providers.models import AuditEvent, FederatedIdentity

from .helpers import last_signin_event, oidc_identity, query_of, sign_in, start

User = get_user_model()
pytestmark = pytest.mark.django_db
CLIENT_ID = "registry-client"


class TokenServer:
    """The provider's token, userinfo and JWKS endpoints on pytest-httpserver."""

    def __init__(self, httpserver):
        self.server = httpserver
        self.issuer = httpserver.url_for("/realm").rstrip("/")
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig", "alg": "RS256"})
        self.jwks_calls = 0
        self.userinfo: dict = {}
        self.jwks_status = 200
        httpserver.expect_request("/jwks").respond_with_handler(self._jwks)

    def _jwks(self, request):
        from werkzeug import Response

        self.jwks_calls += 1
        if self.jwks_status != 200:
            return Response("down", status=self.jwks_status)
        return Response(json.dumps({"keys": [self.key.as_dict(private=False)]}), content_type="application/json")

    def claims(self, nonce: str, **changes) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "user-1",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "email": "ana@acme.test",
            "email_verified": True,
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def answer(self, id_token: str, *, userinfo: dict | None = None) -> None:
        self.server.expect_oneshot_request("/token", method="POST").respond_with_json(
            {"access_token": "at-1", "token_type": "Bearer", "id_token": id_token, "expires_in": 300}
        )
        if userinfo is not None:
            self.server.expect_oneshot_request("/userinfo").respond_with_json(userinfo)

    def sign(self, claims: dict, *, key=None, header: dict | None = None) -> str:
        return jwt.encode(header or {"alg": "RS256", "kid": "key-1"}, claims, key or self.key)


@pytest.fixture
def provider(httpserver):
    return TokenServer(httpserver)


def identity_at(provider: TokenServer, **fields):
    from tests.factories import IdentityProviderFactory

    values = {
        "alias": "corp",
        "issuer": provider.issuer,
        "authorization_url": provider.server.url_for("/authorize"),
        "token_url": provider.server.url_for("/token"),
        "user_info_url": "",
        "jwks_url": provider.server.url_for("/jwks"),
        "client_id": CLIENT_ID,
        "update_profile_first_login_mode": "off",
        **fields,
    }
    return IdentityProviderFactory(**values)


def begin(client) -> dict:
    response = start(client, "corp")
    assert response.status_code == 302
    return query_of(response["Location"])


def back(client, params: dict, **extra):
    return client.get("/signin/default/corp/callback", {"code": "code-1", "state": params["state"], **extra})


def assert_refused(response, status: int, text: str, code: str):
    assert response.status_code == status, response.content[:600]
    body = response.content.decode()
    assert text in body, body[:600]
    event = last_signin_event()
    assert event is not None and not event.ok and f"] {code}:" in event.detail, event.detail
    assert event.detail[1:9] in body  # the page's reference is the audit entry's
    assert User.objects.count() == 0 and FederatedIdentity.objects.count() == 0
    assert "code-1" not in event.detail and "at-1" not in event.detail


def test_a_valid_token_signs_in(client, provider):
    identity_at(provider)
    params = begin(client)
    provider.answer(provider.sign(provider.claims(params["nonce"])))
    response = back(client, params)
    assert response.status_code == 302 and FederatedIdentity.objects.get().subject == "user-1"


@pytest.mark.parametrize(
    ("changes", "text", "code"),
    [
        ({"iss": "https://evil.test"}, "iss claim", "issuer"),
        ({"aud": "another-client"}, "aud claim", "audience"),
        ({"aud": [CLIENT_ID, "other"]}, "another client (azp)", "audience"),
        ({"aud": [CLIENT_ID, "other"], "azp": "other"}, "another client (azp)", "audience"),
        ({"exp": int(time.time()) - 3600}, "has expired", "expired"),
        ({"nbf": int(time.time()) + 3600}, "claim", "claims"),
        ({"iat": None}, "iat claim", "claims"),
        ({"sub": None}, "sub claim", "claims"),
    ],
)
def test_claims_checks(client, provider, changes, text, code):
    identity_at(provider)
    params = begin(client)
    provider.answer(provider.sign(provider.claims(params["nonce"], **changes)))
    assert_refused(back(client, params), 400, text, code)


def test_nonce_mismatch(client, provider):
    identity_at(provider)
    params = begin(client)
    provider.answer(provider.sign(provider.claims("another-nonce")))
    assert_refused(back(client, params), 400, "nonce claim", "nonce")


def test_token_signed_by_a_key_not_in_the_jwks(client, provider):
    identity_at(provider)
    params = begin(client)
    forged = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
    provider.answer(provider.sign(provider.claims(params["nonce"]), key=forged))
    assert_refused(back(client, params), 400, "signature is not by a key of the provider", "signature")


def test_unknown_kid_refetches_the_jwks_once_then_refuses(client, provider):
    identity_at(provider)
    params = begin(client)
    provider.answer(provider.sign(provider.claims(params["nonce"])))
    assert back(client, params).status_code == 302  # keys now cached
    client.logout()
    params = begin(client)
    forged = RSAKey.generate_key(2048, parameters={"kid": "key-2"})
    provider.answer(
        provider.sign(provider.claims(params["nonce"]), key=forged, header={"alg": "RS256", "kid": "key-2"})
    )
    User.objects.all().delete()
    response = back(client, params)
    assert response.status_code == 400 and provider.jwks_calls == 2


def _part(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_alg_none_is_refused(client, provider):
    identity_at(provider)
    params = begin(client)
    provider.answer(f"{_part({'alg': 'none'})}.{_part(provider.claims(params['nonce']))}.")
    assert_refused(back(client, params), 400, "algorithm &#x27;none&#x27; is not allowed", "algorithm")


def test_hmac_signed_with_the_public_key_is_refused(client, provider):
    """The classic confusion: an HS256 token whose shared secret is the provider's public key.
    (joserfc itself refuses to make such a key, so the token is put together by hand.)"""
    identity_at(provider)
    params = begin(client)
    header = _part({"alg": "HS256", "kid": "key-1"})
    payload = _part(provider.claims(params["nonce"]))
    secret = provider.key.as_pem(private=False)
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    provider.answer(f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}")
    assert_refused(back(client, params), 400, "HS256", "algorithm")


def test_userinfo_about_another_subject(client, provider):
    identity_at(provider, user_info_url=provider.server.url_for("/userinfo"))
    params = begin(client)
    provider.answer(provider.sign(provider.claims(params["nonce"])), userinfo={"sub": "someone-else"})
    assert_refused(back(client, params), 400, "another user than its ID token", "userinfo_sub")


def test_jwks_unreachable_refuses_but_cached_keys_still_work(client, provider):
    identity_at(provider)
    provider.jwks_status = 503
    params = begin(client)
    provider.answer(provider.sign(provider.claims(params["nonce"])))
    assert_refused(back(client, params), 502, "signing keys (JWKS)", "unreachable")

    provider.jwks_status = 200
    params = begin(client)
    provider.answer(provider.sign(provider.claims(params["nonce"])))
    assert back(client, params).status_code == 302
    client.logout()
    provider.jwks_status = 503
    params = begin(client)
    provider.answer(provider.sign(provider.claims(params["nonce"])))
    assert back(client, params).status_code == 302


def test_state_missing_and_expired(client, provider, monkeypatch):
    identity_at(provider)
    begin(client)
    assert_refused(
        client.get("/signin/default/corp/callback", {"code": "code-1"}), 400, "has no state", "state_missing"
    )
    params = begin(client)
    session = client.session
    pending = session["signin.pending"]
    pending[params["state"]]["at"] -= 601
    session["signin.pending"] = pending
    session.save()
    assert_refused(back(client, params), 400, "longer than 10 minutes", "state_expired")


def test_disabled_provider_refuses_start_and_callback(client, provider):
    identity = identity_at(provider)
    params = begin(client)
    identity.provider.enabled = False
    identity.provider.save()
    assert_refused(back(client, params), 403, "disabled", "disabled")
    assert_refused(start(client, "corp"), 403, "disabled", "disabled")


def test_link_only_without_a_session(client, provider):
    identity_at(provider, link_only=True)
    params = begin(client)
    provider.answer(provider.sign(provider.claims(params["nonce"])))
    assert_refused(back(client, params), 403, "only links accounts", "link_only")


def test_email_collision_without_proof_links_nothing(client, provider):
    from tests.factories import UserFactory

    existing = UserFactory(username="ana", email="ana@acme.test")
    existing.set_password("a-long-password-1")
    existing.save()
    identity_at(provider)  # no verified domain: the provider cannot vouch for the address
    params = begin(client)
    provider.answer(provider.sign(provider.claims(params["nonce"])))
    response = back(client, params)
    assert response.status_code == 302 and response["Location"] == "/signin/first-login/existing-account/"
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"Sign in to it to link" in page.content
    assert FederatedIdentity.objects.count() == 0
    wrong = client.post(response["Location"], {"password": "wrong"})
    assert wrong.status_code == 400 and FederatedIdentity.objects.count() == 0
    right = client.post(response["Location"], {"password": "a-long-password-1"})
    assert right.status_code == 302
    assert FederatedIdentity.objects.get().user == existing


def test_verified_email_in_a_verified_domain_links_automatically(client, provider):
    from django.utils import timezone

    from providers.models import IdentityProviderDomain
    from tests.factories import UserFactory

    existing = UserFactory(username="ana", email="ana@acme.test")
    identity = identity_at(provider)
    IdentityProviderDomain.objects.create(identity=identity, domain="acme.test", verified_at=timezone.now())
    params = begin(client)
    provider.answer(provider.sign(provider.claims(params["nonce"])))
    assert back(client, params).status_code == 302
    assert FederatedIdentity.objects.get().user == existing
    assert AuditEvent.objects.filter(action="link", ok=True).count() == 1


def test_unverified_email_in_a_verified_domain_needs_proof(client, provider):
    from django.utils import timezone

    from providers.models import IdentityProviderDomain
    from tests.factories import UserFactory

    UserFactory(username="ana", email="ana@acme.test")
    identity = identity_at(provider)
    IdentityProviderDomain.objects.create(identity=identity, domain="acme.test", verified_at=timezone.now())
    params = begin(client)
    provider.answer(provider.sign(provider.claims(params["nonce"], email_verified=False)))
    assert back(client, params)["Location"] == "/signin/first-login/existing-account/"
    assert FederatedIdentity.objects.count() == 0


# With the real provider: what it answers itself.


@pytest.fixture
def idp(fresh_oidc_provider):
    fresh_oidc_provider.set_account("ana", {"email": "ana@acme.test", "email_verified": True})
    return fresh_oidc_provider


@pytest.mark.parametrize(
    ("fault", "status", "text", "code"),
    [
        (
            {"status": 400, "body": '{"error": "invalid_grant"}', "content_type": "application/json"},
            502,
            "refused the code exchange (HTTP 400, invalid_grant)",
            "token_refused",
        ),
        ({"status": 200, "body": "not json"}, 502, "token response is not JSON", "token_response"),
        ({"delay_ms": 3000}, 502, "The code exchange failed", "token_unreachable"),
    ],
)
def test_code_exchange_failures(client, idp, fault, status, text, code):
    oidc_identity(idp)
    started = start(client, "corp")
    back_url = idp.sign_in(started["Location"], "ana")
    idp.set_fault("token", times=1, **fault)
    response = client.get(back_url.removeprefix("http://testserver"))
    assert response.status_code == status, response.content[:500]
    assert text in response.content.decode()
    event = last_signin_event()
    assert not event.ok and f"] {code}:" in event.detail
    assert User.objects.count() == 0


def test_key_rotation_costs_one_jwks_call_and_no_failed_login(client, idp):
    oidc_identity(idp)
    assert sign_in(client, idp, "corp", "ana").status_code == 302
    client.logout()
    idp.rotate_key()
    before = idp.request_counts().get("jwks", 0)
    assert sign_in(client, idp, "corp", "ana").status_code == 302
    assert idp.request_counts().get("jwks", 0) - before == 1
    client.logout()
    assert sign_in(client, idp, "corp", "ana").status_code == 302
    assert idp.request_counts().get("jwks", 0) - before == 1


def test_a_superuser_is_never_linked_on_an_email_alone(client, provider):
    from django.utils import timezone

    from providers.models import IdentityProviderDomain
    from tests.factories import UserFactory

    UserFactory(username="root", email="ana@acme.test", is_superuser=True)
    identity = identity_at(provider)
    IdentityProviderDomain.objects.create(identity=identity, domain="acme.test", verified_at=timezone.now())
    params = begin(client)
    provider.answer(provider.sign(provider.claims(params["nonce"])))
    assert back(client, params)["Location"] == "/signin/first-login/existing-account/"
    assert FederatedIdentity.objects.count() == 0
