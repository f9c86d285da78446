"""The test OpenID provider itself (tests/idp/oidc/server.mjs through its fixture): what the sign-in
tests rely on, done with plain HTTP and verified with joserfc. No Django here."""

import base64
import hashlib
import json
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from .oidc_provider import OidcClient, OidcProvider, OidcProviderError, http_client, http_request

REDIRECT_URI = "http://127.0.0.1:9/signin/test/callback"  # never requested: sign_in stops there


def start(idp: OidcProvider, client: OidcClient, *, scope: str = "openid email profile") -> dict[str, str]:
    """An authorization request as a relying party makes it: state, nonce and PKCE S256."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    request = {"state": secrets.token_urlsafe(16), "nonce": secrets.token_urlsafe(16), "verifier": verifier}
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": request["state"],
        "nonce": request["nonce"],
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    request["url"] = f"{idp.discovery()['authorization_endpoint']}?{urlencode(query)}"
    return request


def callback_params(url: str) -> dict[str, str]:
    assert url.startswith(REDIRECT_URI + "?"), url
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def exchange(idp: OidcProvider, client: OidcClient, code: str, verifier: str, *, secret: str | None = None):
    """The token request, authenticated the way the client is registered."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    secret = secret if secret is not None else client.client_secret
    if client.auth_method == "client_secret_basic":
        headers["Authorization"] = "Basic " + base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    elif client.auth_method == "client_secret_post":
        form |= {"client_id": client.client_id, "client_secret": secret}
    else:
        form["client_id"] = client.client_id
    return http_request(
        http_client(), idp.discovery()["token_endpoint"], data=urlencode(form).encode(), headers=headers
    )


def sign_in_and_verify(idp: OidcProvider, client: OidcClient, sub: str, **start_options):
    request = start(idp, client, **start_options)
    params = callback_params(idp.sign_in(request["url"], sub))
    assert params["state"] == request["state"]
    assert params["iss"] == idp.issuer  # RFC 9207
    answer = exchange(idp, client, params["code"], request["verifier"])
    assert answer.status == 200, answer.body
    tokens = answer.json()
    token = jwt.decode(tokens["id_token"], KeySet.import_key_set(idp.jwks()), algorithms=["RS256", "ES256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": idp.issuer},
        aud={"essential": True, "value": client.client_id},
        sub={"essential": True, "value": sub},
        nonce={"essential": True, "value": request["nonce"]},
        exp={"essential": True},
    ).validate(token.claims)
    return token, tokens


@pytest.fixture
def idp(fresh_oidc_provider):
    fresh_oidc_provider.set_redirect_uris([REDIRECT_URI])
    return fresh_oidc_provider


def test_discovery_names_the_servers_own_url_and_the_jwks_has_its_keys(oidc_provider):
    discovery = oidc_provider.discovery()
    keys = oidc_provider.jwks()["keys"]

    assert discovery["issuer"] == oidc_provider.issuer
    assert oidc_provider.issuer.startswith("http://127.0.0.1:")
    assert discovery["jwks_uri"] == f"{oidc_provider.issuer}/jwks"
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert sorted((key["kty"], key["alg"]) for key in keys) == [("EC", "ES256"), ("RSA", "RS256"), ("RSA", "RS256")]
    assert len({key["kid"] for key in keys}) == 3
    assert not any("d" in key for key in keys), "private key material published"


def test_public_client_with_pkce_gets_an_id_token_with_the_accounts_claims(idp):
    claims = {
        "email": "ana@acme.test",
        "email_verified": True,
        "name": "Ana Lima",
        "groups": ["engineering", "operators"],
        "department": "platform",
    }
    idp.set_account("ana", claims)

    token, tokens = sign_in_and_verify(idp, idp.public, "ana")
    userinfo = http_request(
        http_client(),
        idp.discovery()["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )

    assert token.header["alg"] == "RS256"
    assert token.header["kid"] == idp.signing_kid("RS256")
    assert {name: token.claims[name] for name in claims} == claims
    assert userinfo.json() == {"sub": "ana", **claims}


def test_public_client_without_pkce_is_refused(idp):
    idp.set_account("ana", {"email": "ana@acme.test"})
    url = start(idp, idp.public)["url"].replace("code_challenge=", "no_challenge=")

    params = callback_params(idp.sign_in(url, "ana"))

    assert params["error"] == "invalid_request"
    assert "code_challenge" in params["error_description"]


@pytest.mark.parametrize("client_id", ["rp-basic", "rp-post"])
def test_confidential_clients_exchange_with_their_authentication_method(idp, client_id):
    client = idp.client(client_id)
    idp.set_account("ana", {"email": "ana@acme.test", "email_verified": True})
    request = start(idp, client)
    code = callback_params(idp.sign_in(request["url"], "ana"))["code"]

    wrong = exchange(idp, client, code, request["verifier"], secret="not-the-secret")
    token, _ = sign_in_and_verify(idp, client, "ana")

    assert wrong.status == 401
    assert wrong.json()["error"] == "invalid_client"
    assert token.claims["email"] == "ana@acme.test"


def test_claims_changed_between_two_logins_come_through(idp):
    idp.set_account("ana", {"email": "ana@acme.test", "groups": ["operators"]})
    first, _ = sign_in_and_verify(idp, idp.basic, "ana")
    idp.set_account("ana", {"email": "ana@acme.test", "groups": [], "team": "billing"})

    second, _ = sign_in_and_verify(idp, idp.basic, "ana")

    assert first.claims["groups"] == ["operators"]
    assert second.claims["groups"] == []
    assert second.claims["team"] == "billing"


def test_rotation_signs_with_a_key_the_jwks_did_not_have(idp):
    idp.set_account("ana", {"email": "ana@acme.test"})
    before = {key["kid"] for key in idp.jwks()["keys"]}

    kid = idp.rotate_key()
    token, _ = sign_in_and_verify(idp, idp.basic, "ana")
    after = {key["kid"] for key in idp.jwks()["keys"]}

    assert kid not in before
    assert token.header["kid"] == kid
    assert after == before | {kid}


def test_cancel_and_unknown_accounts(idp):
    idp.set_account("ana", {"email": "ana@acme.test"})

    cancelled = callback_params(idp.sign_in(start(idp, idp.basic)["url"], "ana", cancel=True))
    with pytest.raises(OidcProviderError, match="401"):
        idp.sign_in(start(idp, idp.basic)["url"], "nobody")

    assert cancelled["error"] == "access_denied"


def test_faults_replace_an_endpoints_answer_and_requests_are_counted(idp):
    idp.set_account("ana", {"email": "ana@acme.test"})
    request = start(idp, idp.basic)
    code = callback_params(idp.sign_in(request["url"], "ana"))["code"]
    idp.set_fault("token", status=200, body="{not json", times=1)

    faulty = exchange(idp, idp.basic, code, request["verifier"])
    exchanged = exchange(idp, idp.basic, code, request["verifier"])
    idp.jwks()

    assert faulty.status == 200
    assert faulty.body == b"{not json"
    assert "id_token" in json.loads(exchanged.body)
    assert idp.request_counts()["token"] == 2
    assert idp.request_counts()["jwks"] == 1
