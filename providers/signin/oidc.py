"""The OpenID Connect and OAuth 2.0 side of a login: the authorization URL, the code exchange, the
ID token's checks and the userinfo call. authlib builds the requests (grant URI, token request,
client authentication, PKCE), joserfc verifies the ID token; every call goes through the outbound
fetcher (`providers.fetch`), under its policy.

Discovery documents and JWKS are cached in the Django cache (shared between app servers with
`CACHE_URL=redis://…`) for the time their `Cache-Control: max-age` says, within bounds. An ID
token signed with a `kid` the cached keys lack triggers one refetch of the JWKS, at most once a
minute per JWKS URL, so a key rotation at the provider costs one call and no failed login.

Every refusal raises `LoginError` with a reason a user can read and a short code for the audit log;
nothing here writes to the database."""

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7523 import ClientSecretJWT
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.conf import settings
from django.core.cache import cache
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import KeySet

from providers.catalog import OAUTH2
from providers.fetch import FetchError, fetch
from providers.identity.discovery import WELL_KNOWN_OIDC
from providers.models import IdentityProvider

# Asymmetric algorithms only: never `none`, and never an HMAC, which would let a public key from
# the JWKS be used as a shared secret.
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
TENANT_PLACEHOLDER = "{tenantid}"
CACHE_PREFIX = "signin:doc:"
DEFAULT_DOCUMENT_TTL = 3600
MIN_DOCUMENT_TTL, MAX_DOCUMENT_TTL = 60, 86400
JWKS_REFETCH_INTERVAL = 60
_MAX_AGE = re.compile(r"max-age=(\d+)")


class LoginError(Exception):
    """A login refused: `reason` is for the user's page and the audit log (never a token, code or
    claim value), `code` a short name of the check (`state`, `nonce`, `signature`, …), `status` the
    page's HTTP status (400 for what the browser or the provider sent, 403 for a refusal by
    configuration, 502 when the provider could not be reached or answered nonsense)."""

    def __init__(self, reason: str, *, code: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Endpoints:
    issuer: str
    authorization_url: str
    token_url: str
    user_info_url: str
    jwks_url: str
    logout_url: str


@dataclass(frozen=True)
class Authorization:
    """What the start of a login sends the browser to, and what the callback needs to check."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class LoginResult:
    """What a successful exchange established: the subject, the claims the mappers read (the ID
    token's, with userinfo's on top), and the token response (kept only when `store_token` is on)."""

    subject: str
    claims: dict[str, Any]
    tokens: dict[str, Any]


def uses_pkce(identity: IdentityProvider) -> bool:
    """PKCE when the provider has it on, and always for a public client (no secret to prove who
    exchanges the code)."""
    return bool(identity.pkce_enabled or not identity.client_secret_updated_at)


def endpoints(identity: IdentityProvider, *, callback: bool = True) -> Endpoints:
    """The provider's endpoints: those stored (the import fills them from discovery), with any
    left empty taken from the issuer's discovery document (cached). The start of a login needs
    only the authorization URL (`callback=False`)."""
    stored = Endpoints(
        issuer=identity.issuer,
        authorization_url=identity.authorization_url,
        token_url=identity.token_url,
        user_info_url=identity.user_info_url,
        jwks_url=identity.jwks_url,
        logout_url=identity.logout_url,
    )
    needs_jwks = identity.protocol != OAUTH2
    if stored.authorization_url and not callback:
        return stored
    if stored.authorization_url and stored.token_url and (stored.jwks_url or not needs_jwks):
        return stored
    if not stored.issuer:
        raise LoginError("The identity provider has no authorization or token URL.", code="configuration", status=403)
    document = _discovery_document(stored.issuer)
    return Endpoints(
        issuer=stored.issuer,
        authorization_url=stored.authorization_url or _text(document, "authorization_endpoint"),
        token_url=stored.token_url or _text(document, "token_endpoint"),
        user_info_url=stored.user_info_url or _text(document, "userinfo_endpoint"),
        jwks_url=stored.jwks_url or _text(document, "jwks_uri"),
        logout_url=stored.logout_url or _text(document, "end_session_endpoint"),
    )


def authorization(
    identity: IdentityProvider, *, redirect_uri: str, login_hint: str = "", links: Endpoints | None = None
) -> Authorization:
    """The authorization URL of the code flow with a fresh `state` and `nonce`, PKCE S256 (or plain
    where configured) when `uses_pkce`, the configured scopes and `prompt`, and `login_hint` when
    the provider passes it on."""
    links = links or endpoints(identity)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    extra: dict[str, str] = {}
    if identity.protocol != OAUTH2:
        extra["nonce"] = nonce
    verifier = ""
    if uses_pkce(identity):
        verifier = secrets.token_urlsafe(48)
        plain = identity.pkce_method == IdentityProvider.PkceMethod.PLAIN and identity.client_secret_updated_at
        extra["code_challenge"] = verifier if plain else create_s256_code_challenge(verifier)
        extra["code_challenge_method"] = "plain" if plain else "S256"
    if identity.prompt:
        extra["prompt"] = identity.prompt
    if login_hint and identity.login_hint:
        extra["login_hint"] = login_hint
    scope = identity.default_scope or ("openid" if identity.protocol != OAUTH2 else "")
    url = prepare_grant_uri(
        links.authorization_url,
        client_id=identity.client_id,
        response_type="code",
        redirect_uri=redirect_uri,
        scope=scope or None,
        state=state,
        **extra,
    )
    return Authorization(url=url, state=state, nonce=nonce, code_verifier=verifier)


def exchange(
    identity: IdentityProvider, *, code: str, redirect_uri: str, nonce: str, code_verifier: str, links: Endpoints
) -> LoginResult:
    """Exchange the code and establish who signed in: for OIDC, the ID token verified (signature,
    issuer, audience, times, nonce) and userinfo when configured, whose `sub` must match; for OAuth
    2.0 (GitHub and the like), userinfo alone, with GitHub's primary verified address."""
    tokens = _token_request(identity, code=code, redirect_uri=redirect_uri, code_verifier=code_verifier, links=links)
    access_token = tokens.get("access_token")
    if identity.protocol == OAUTH2:
        if not isinstance(access_token, str) or not links.user_info_url:
            raise LoginError(
                "The provider gave no access token, or has no userinfo URL.", code="token_response", status=502
            )
        claims = _userinfo(links.user_info_url, access_token)
        if _is_github(identity, links):
            claims.update(_github_email(links.user_info_url, access_token))
        subject = claims.get("sub", claims.get("id"))
        if not isinstance(subject, str | int) or isinstance(subject, bool) or str(subject) == "":
            raise LoginError("The provider's user information has no user id.", code="userinfo", status=502)
        return LoginResult(subject=str(subject), claims=claims, tokens=tokens)

    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise LoginError("The provider's token response has no ID token.", code="token_response", status=502)
    claims = verify_id_token(identity, id_token, nonce=nonce, links=links)
    if links.user_info_url and isinstance(access_token, str):
        userinfo = _userinfo(links.user_info_url, access_token)
        if userinfo.get("sub") != claims["sub"]:
            raise LoginError(
                "The provider's user information is about another user than its ID token.", code="userinfo_sub"
            )
        claims = {**claims, **userinfo}
    return LoginResult(subject=claims["sub"], claims=claims, tokens=tokens)


def verify_id_token(identity: IdentityProvider, id_token: str, *, nonce: str, links: Endpoints) -> dict[str, Any]:
    """The ID token's claims once every check has passed (OpenID Connect Core 3.1.3.7): an allowed
    algorithm, a signature by a key of the provider's JWKS, `iss` (for an Entra ID multi-tenant
    issuer, the template filled with the token's `tid`, which the tenant allow-list must hold),
    `aud` holding the client id (and `azp` equal to it with several audiences), `exp`, `iat`, `nbf`
    within the allowed clock skew, and the login's `nonce`."""
    try:
        header = jws.extract_compact(id_token.encode()).protected
    except (JoseError, ValueError, TypeError) as exc:
        raise LoginError("The ID token is malformed.", code="id_token") from exc
    algorithm = header.get("alg")
    if algorithm == "none" or algorithm not in ALLOWED_ALGORITHMS:
        raise LoginError(f"The ID token's algorithm {str(algorithm)[:20]!r} is not allowed.", code="algorithm")
    if not identity.use_jwks_url or not links.jwks_url:
        raise LoginError("The identity provider has no JWKS URL to check signatures.", code="configuration", status=403)
    kid = header.get("kid")
    keys = _keys(links.jwks_url, kid=kid if isinstance(kid, str) else None)
    try:
        token = jwt.decode(id_token, keys, algorithms=list(ALLOWED_ALGORITHMS))
    except (BadSignatureError, ValueError) as exc:
        raise LoginError("The ID token's signature is not by a key of the provider.", code="signature") from exc
    except JoseError as exc:
        raise LoginError("The ID token could not be verified.", code="signature") from exc
    claims = dict(token.claims)

    issuer = _expected_issuer(identity, links.issuer, claims)
    registry = jwt.JWTClaimsRegistry(
        leeway=settings.SIGNIN_CLOCK_SKEW,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": identity.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise LoginError("The ID token has expired.", code="expired") from exc
    except (InvalidClaimError, MissingClaimError) as exc:
        name = getattr(exc, "claim", "")
        code = {"iss": "issuer", "aud": "audience", "nonce": "nonce"}.get(name, "claims")
        raise LoginError(f"The ID token's {name or 'claims'} claim is missing or wrong.", code=code) from exc
    except JoseError as exc:
        raise LoginError("The ID token's claims are not valid.", code="claims") from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if ("azp" in claims or len(audiences) > 1) and claims.get("azp") != identity.client_id:
        raise LoginError("The ID token was issued to another client (azp).", code="audience")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise LoginError("The ID token has no subject.", code="claims")
    return claims


def end_session_url(identity: IdentityProvider, *, id_token_hint: str, post_logout_redirect_uri: str) -> str:
    """The provider's logout URL (RP-initiated logout), or "" when it has none or the operator has
    not turned it on."""
    if not identity.logout_at_provider:
        return ""
    try:
        logout_url = endpoints(identity).logout_url
    except LoginError:
        return ""
    if not logout_url:
        return ""
    params = {"client_id": identity.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
    if id_token_hint:
        params["id_token_hint"] = id_token_hint
    return add_params_to_uri(logout_url, params)


def _expected_issuer(identity: IdentityProvider, issuer: str, claims: dict[str, Any]) -> str:
    if TENANT_PLACEHOLDER not in issuer:
        return issuer
    tenant = claims.get("tid")
    if not isinstance(tenant, str) or not tenant:
        raise LoginError("The ID token names no tenant (tid) for a multi-tenant issuer.", code="issuer")
    allowed = identity.allowed_tenants.split()
    if allowed and tenant not in allowed:
        raise LoginError("The ID token's tenant is not one of the allowed tenants.", code="tenant", status=403)
    return issuer.replace(TENANT_PLACEHOLDER, tenant)


def _token_request(
    identity: IdentityProvider, *, code: str, redirect_uri: str, code_verifier: str, links: Endpoints
) -> dict[str, Any]:
    params: dict[str, str] = {"code": code, "redirect_uri": redirect_uri}
    if code_verifier:
        params["code_verifier"] = code_verifier
    body = prepare_token_request("authorization_code", **params)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    secret = identity.client_secret if identity.client_secret_updated_at else None
    method: Any = identity.client_auth_method if secret else "none"
    if method == IdentityProvider.ClientAuthMethod.PRIVATE_KEY_JWT:
        raise LoginError(
            "Client authentication with a private key (private_key_jwt) is not supported yet.",
            code="configuration",
            status=403,
        )
    if method == IdentityProvider.ClientAuthMethod.SECRET_JWT:
        method = ClientSecretJWT(links.token_url)
    _, headers, body = ClientAuth(identity.client_id, secret, method).prepare("POST", links.token_url, headers, body)
    try:
        result = fetch(links.token_url, method="POST", body=body.encode(), headers=headers, accept="application/json")
    except FetchError as exc:
        raise LoginError(f"The code exchange failed: {exc}", code="token_unreachable", status=502) from exc
    document = _json_object(result.body)
    if document is None:
        raise LoginError("The provider's token response is not JSON.", code="token_response", status=502)
    error = document.get("error")
    if result.status != 200 or error:
        # The provider's error code (e.g. invalid_grant) is a fixed word the RFC defines, not a secret.
        described = re.sub(r"[^A-Za-z0-9_.-]", "", str(error or ""))[:40]
        raise LoginError(
            f"The provider refused the code exchange (HTTP {result.status}{', ' + described if described else ''}).",
            code="token_refused",
            status=502,
        )
    return document


def _userinfo(url: str, access_token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {access_token}"}
    return _get_json(url, what="user information", code="userinfo", headers=headers)[0]


def _is_github(identity: IdentityProvider, links: Endpoints) -> bool:
    return identity.known_provider == "github" or urlsplit(links.user_info_url).hostname == "api.github.com"


def _github_email(user_info_url: str, access_token: str) -> dict[str, Any]:
    """GitHub's primary verified address (`/user/emails`): `/user` shows only a public one, and
    does not say whether it is verified."""
    try:
        result = fetch(
            user_info_url.rstrip("/") + "/emails",
            accept="application/json",
            headers={"Authorization": f"Bearer {access_token}"},
        )
        addresses = json.loads(result.body) if result.status == 200 else []
    except (FetchError, ValueError, RecursionError):
        addresses = []
    for entry in addresses if isinstance(addresses, list) else []:
        if isinstance(entry, dict) and entry.get("primary") and entry.get("verified"):
            return {"email": str(entry.get("email", "")), "email_verified": True}
    return {"email_verified": False}


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def _text(document: dict[str, Any], key: str) -> str:
    value = document.get(key, "")
    return value if isinstance(value, str) else ""


def _cache_key(kind: str, url: str) -> str:
    return CACHE_PREFIX + kind + ":" + hashlib.sha256(url.encode()).hexdigest()[:32]


def _ttl(headers: dict[str, str]) -> int:
    match = _MAX_AGE.search(headers.get("cache-control", ""))
    ttl = int(match.group(1)) if match else DEFAULT_DOCUMENT_TTL
    return max(MIN_DOCUMENT_TTL, min(ttl, MAX_DOCUMENT_TTL))


def _get_json(
    url: str, *, what: str, code: str = "unreachable", headers: dict[str, str] | None = None
) -> tuple[dict[str, Any], int]:
    """The JSON object at `url` and how long it may be cached; a `LoginError` naming `what` when it
    cannot be fetched or is not a JSON object."""
    try:
        result = fetch(url, accept="application/json", headers=headers)
    except FetchError as exc:
        raise LoginError(f"The provider's {what} could not be fetched: {exc}", code=code, status=502) from exc
    document = _json_object(result.body) if result.status == 200 else None
    if document is None:
        raise LoginError(f"The provider's {what} (HTTP {result.status}) is not a JSON object.", code=code, status=502)
    return document, _ttl(result.headers)


def discovery_cache_key(issuer: str) -> str:
    """Where the issuer's discovery document is cached (`providers.signin.csp` reads it there)."""
    return _cache_key("discovery", issuer)


def _discovery_document(issuer: str) -> dict[str, Any]:
    key = discovery_cache_key(issuer)
    document = cache.get(key)
    if document is None:
        document, ttl = _get_json(issuer.rstrip("/") + WELL_KNOWN_OIDC, what="discovery document")
        if document.get("issuer") != issuer:
            raise LoginError("The discovery document is for another issuer.", code="issuer", status=502)
        cache.set(key, document, ttl)
    return document


def _keys(jwks_url: str, *, kid: str | None) -> KeySet:
    """The provider's keys, from the cache unless `kid` is not among them (a rotation), when the
    JWKS is fetched again, at most once per `JWKS_REFETCH_INTERVAL`. Keys still cached are used
    when the JWKS cannot be reached."""
    key = _cache_key("jwks", jwks_url)
    cached = cache.get(key)
    if cached is not None and (kid is None or any(entry.get("kid") == kid for entry in cached.get("keys", []))):
        return _key_set(cached)
    if cached is not None and not cache.add(_cache_key("jwks-refetch", jwks_url), time.time(), JWKS_REFETCH_INTERVAL):
        return _key_set(cached)  # refetched a moment ago: the kid is not the provider's
    try:
        document, ttl = _get_json(jwks_url, what="signing keys (JWKS)")
    except LoginError:
        if cached is not None:
            return _key_set(cached)
        raise
    if not isinstance(document.get("keys"), list):
        raise LoginError("The provider's signing keys (JWKS) are not a key set.", code="unreachable", status=502)
    cache.set(key, document, ttl)
    return _key_set(document)


def _key_set(document: dict[str, Any]) -> KeySet:
    # Public signing keys only: a symmetric ("oct") or private entry has no place in a JWKS.
    entries = [
        entry
        for entry in document.get("keys", [])
        if isinstance(entry, dict)
        and entry.get("kty") in ("RSA", "EC", "OKP")
        and entry.get("use", "sig") == "sig"
        and "d" not in entry
    ]
    try:
        return KeySet.import_key_set({"keys": entries})
    except (JoseError, ValueError, TypeError) as exc:
        raise LoginError("The provider's signing keys (JWKS) cannot be read.", code="unreachable", status=502) from exc
