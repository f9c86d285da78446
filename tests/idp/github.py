"""A GitHub-style OAuth 2.0 server (an OAuth App at github.com and the REST API it opens) for the tests
of the non-OIDC sign-in path, served by pytest-httpserver on 127.0.0.1. As at GitHub there is no ID
token and no discovery: the user is read from `/user` and `/user/emails` with the access token.

`github_provider` (function-scoped, on the `httpserver` fixture) gives a `GithubProvider`:

    gh.base_url                         "http://127.0.0.1:<port>"; the URLs below are under it
    gh.authorization_url, gh.token_url  <base_url>/login/oauth/authorize, <base_url>/login/oauth/access_token
    gh.user_url, gh.emails_url          <base_url>/user, <base_url>/user/emails
    gh.client_id, gh.client_secret      the OAuth App's credentials
    gh.callback_url = "..."             optional: the App's registered callback URL (any redirect_uri otherwise)
    gh.set_user("octocat", id=1, name="Mona", email=None, emails=[{"email": ..., "primary": True,
                "verified": True, "visibility": None}])    who approves at the next sign_in
    gh.sign_in(authorization_url)       -> redirect_uri?code=...&state=..., not followed
    gh.sign_in(authorization_url, cancel=True)  -> redirect_uri?error=access_denied&error_description=...&state=...
    gh.set_fault("token", status=502, body="bad gateway")    the endpoint's next answer only (or delay=...)
    gh.request_counts()["user"]         requests per endpoint: authorize, token, user, emails

The answers are GitHub's (docs.github.com, "Authorizing OAuth apps", "Troubleshooting OAuth app access
token request errors", REST "Get the authenticated user"): the token endpoint takes the form
`client_id`, `client_secret` (or HTTP Basic), `code`, `redirect_uri`, optional `code_verifier` (PKCE,
S256 only), answers JSON with `Accept: application/json` and a form body otherwise, and answers its
errors (`bad_verification_code`, `incorrect_client_credentials`, `redirect_uri_mismatch`) with status
200. A code is single use and lasts 10 minutes. `/user` takes `Authorization: Bearer <token>` or
`token <token>` and answers 401 "Bad credentials" for any other.

A browser that follows the sign-in redirect to `authorization_url` is sent straight back with a code,
as GitHub does for a user who already authorized the App: the last `set_user` approves.
"""

import base64
import hashlib
import json
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from .oidc_provider import http_client, http_request

AUTHORIZE_PATH = "/login/oauth/authorize"
TOKEN_PATH = "/login/oauth/access_token"
USER_PATH = "/user"
EMAILS_PATH = "/user/emails"
CODE_LIFETIME = 600.0  # seconds, as GitHub's
TROUBLESHOOTING = "/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/"
AUTHORIZATION_TROUBLESHOOTING = (
    "/apps/building-integrations/setting-up-and-registering-oauth-apps/troubleshooting-authorization-request-errors/"
)
TOKEN_ERRORS = {
    "bad_verification_code": ("The code passed is incorrect or expired.", "#bad-verification-code"),
    "incorrect_client_credentials": (
        "The client_id and/or client_secret passed are incorrect.",
        "#incorrect-client-credentials",
    ),
    "redirect_uri_mismatch": (
        "The redirect_uri MUST match the registered callback URL for this application.",
        "#redirect-uri-mismatch2",
    ),
}
BAD_CREDENTIALS = {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}
CANCEL_HEADER = "X-Test-Decision"  # sign_in(cancel=True) sends "cancel"; a browser never does
ALPHANUMERIC = string.ascii_letters + string.digits


class GithubProviderError(Exception):
    """The fake refused a sign-in request (unknown client, no redirect URI) or answered it unexpectedly."""


@dataclass
class GithubUser:
    login: str
    id: int
    name: str | None
    email: str | None  # the public email /user shows; null when the user keeps it private
    emails: list[dict[str, Any]]


@dataclass
class _Grant:
    login: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    expires: float


@dataclass
class _Fault:
    status: int
    body: bytes
    content_type: str
    delay: float


@dataclass
class GithubProvider:
    server: HTTPServer
    client_id: str = field(default_factory=lambda: "Iv1." + secrets.token_hex(8))
    client_secret: str = field(default_factory=lambda: secrets.token_hex(20))
    callback_url: str | None = None
    users: dict[str, GithubUser] = field(default_factory=dict)
    current_login: str | None = None
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # token -> (login, scope)
    _faults: dict[str, _Fault] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("authorize", "token", "user", "emails"), 0))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for path, endpoint, answer in (
            (AUTHORIZE_PATH, "authorize", self._authorize),
            (TOKEN_PATH, "token", self._token),
            (USER_PATH, "user", self._user),
            (EMAILS_PATH, "emails", self._emails),
        ):
            self.server.expect_request(path).respond_with_handler(self._endpoint(endpoint, answer))

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    @property
    def authorization_url(self) -> str:
        return self.base_url + AUTHORIZE_PATH

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def user_url(self) -> str:
        return self.base_url + USER_PATH

    @property
    def emails_url(self) -> str:
        return self.base_url + EMAILS_PATH

    def set_user(
        self,
        login: str,
        *,
        id: int | None = None,
        name: str | None = None,
        email: str | None = None,
        emails: list[dict[str, Any]] | None = None,
    ) -> GithubUser:
        """Sets or replaces the account `login`; it approves the next sign-ins. Without `emails` its list
        is one primary verified address: `email`, or `<login>@users.example.test` kept private."""
        if emails is None:
            address = email or f"{login}@users.example.test"
            emails = [
                {"email": address, "primary": True, "verified": True, "visibility": "public" if email else "private"}
            ]
        with self._lock:
            known = self.users.get(login)
            number = id if id is not None else known.id if known else 1000 + len(self.users)
            user = GithubUser(login, number, name, email, [dict(entry) for entry in emails])
            self.users[login] = user
            self.current_login = login
        return user

    def sign_in(self, authorization_url: str, *, cancel: bool = False) -> str:
        """The user approving (or cancelling) at GitHub: requests `authorization_url` over HTTP and returns
        where GitHub sends the browser back (redirect_uri with code and state, or with an error), not
        requested."""
        if not authorization_url.startswith(self.authorization_url + "?"):
            raise ValueError(f"{authorization_url} is not this provider's authorization URL {self.authorization_url}")
        headers = {CANCEL_HEADER: "cancel"} if cancel else {}
        answer = http_request(http_client(), authorization_url, headers=headers)
        if answer.status != 302:
            raise GithubProviderError(f"sign-in at {authorization_url}: {answer.status} {answer.body[:500]!r}")
        return answer.headers["Location"]

    def set_fault(
        self,
        endpoint: str,
        *,
        status: int = 500,
        body: str | bytes | dict | list = b"",
        content_type: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Makes the next request to `endpoint` (authorize, token, user, emails) answer `status` and
        `body` (a dict or list is sent as JSON) after `delay` seconds, instead of its own answer; a
        faulted token request does not use up its code. The server is single-threaded: a delay holds
        every other request too."""
        if endpoint not in self._counts:
            raise ValueError(f"unknown endpoint {endpoint!r}: one of {sorted(self._counts)}")
        if isinstance(body, dict | list):
            data, kind = json.dumps(body).encode(), "application/json; charset=utf-8"
        else:
            data, kind = (body.encode() if isinstance(body, str) else body), "text/plain; charset=utf-8"
        with self._lock:
            self._faults[endpoint] = _Fault(status, data, content_type or kind, delay)

    def request_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    # The endpoints. Each runs in the server's thread.

    def _endpoint(self, endpoint: str, answer: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            with self._lock:
                self._counts[endpoint] += 1
                fault = self._faults.pop(endpoint, None)
            if fault is None:
                return answer(request)
            time.sleep(fault.delay)
            return Response(fault.body, status=fault.status, content_type=fault.content_type)

        return handle

    def _authorize(self, request: Request) -> Response:
        query = request.args
        if query.get("client_id") != self.client_id:
            return Response("Not Found", status=404, content_type="text/plain")
        redirect_uri = query.get("redirect_uri") or self.callback_url
        if not redirect_uri:
            return Response("redirect_uri is missing and no callback URL is registered", status=400)
        state = query.get("state")
        if self.callback_url and not redirect_uri.startswith(self.callback_url):
            return _redirect(self.callback_url, _authorization_error("redirect_uri_mismatch", state))
        if request.headers.get(CANCEL_HEADER) == "cancel":
            return _redirect(redirect_uri, _authorization_error("access_denied", state))
        challenge = query.get("code_challenge")
        if challenge and query.get("code_challenge_method", "plain") != "S256":
            return Response("Only the S256 code challenge method is supported", status=400)
        with self._lock:
            login = self.current_login
            if login is None:
                return Response("no user: call set_user first", status=400)
            code = secrets.token_hex(10)
            scope = ",".join(query.get("scope", "").replace(",", " ").split())
            self._codes[code] = _Grant(login, redirect_uri, scope, challenge, time.monotonic() + CODE_LIFETIME)
        return _redirect(redirect_uri, {"code": code, **({"state": state} if state is not None else {})})

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            return Response("Not Found", status=404, content_type="text/plain")
        form = request.form
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if request.authorization and request.authorization.type == "basic":
            client_id, client_secret = request.authorization.username, request.authorization.password
        as_json = "application/json" in request.headers.get("Accept", "")
        if client_id != self.client_id or client_secret != self.client_secret:
            return _token_answer(_token_error("incorrect_client_credentials"), as_json)
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)
            if grant is None or grant.expires < time.monotonic():
                return _token_answer(_token_error("bad_verification_code"), as_json)
            if form.get("redirect_uri") and form["redirect_uri"] != grant.redirect_uri:
                return _token_answer(_token_error("redirect_uri_mismatch"), as_json)
            if grant.code_challenge and _s256(form.get("code_verifier", "")) != grant.code_challenge:
                return _token_answer(_token_error("bad_verification_code"), as_json)
            token = "gho_" + "".join(secrets.choice(ALPHANUMERIC) for _ in range(36))
            self._tokens[token] = (grant.login, grant.scope)
        return _token_answer({"access_token": token, "token_type": "bearer", "scope": grant.scope}, as_json)

    def _authenticated(self, request: Request) -> tuple[GithubUser, str] | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "token"):
            return None
        with self._lock:
            login, scope = self._tokens.get(token.strip(), (None, ""))
            user = self.users.get(login) if login else None
        return (user, scope) if user else None

    def _user(self, request: Request) -> Response:
        found = self._authenticated(request)
        if found is None:
            return _json(BAD_CREDENTIALS, status=401)
        user, scope = found
        return _json(user_json(user), headers={"X-OAuth-Scopes": scope.replace(",", ", ")})

    def _emails(self, request: Request) -> Response:
        found = self._authenticated(request)
        if found is None:
            return _json(BAD_CREDENTIALS, status=401)
        user, scope = found
        return _json(user.emails, headers={"X-OAuth-Scopes": scope.replace(",", ", ")})


def user_json(user: GithubUser) -> dict[str, Any]:
    """The body of GitHub's `GET /user` ("Response with public and private profile information")."""
    api = f"https://api.github.com/users/{user.login}"
    return {
        "login": user.login,
        "id": user.id,
        "node_id": base64.b64encode(f"04:User{user.id}".encode()).decode(),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user.id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"https://github.com/{user.login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": "User",
        "site_admin": False,
        "name": user.name,
        "company": None,
        "blog": "",
        "location": None,
        "email": user.email,
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "public_repos": 2,
        "public_gists": 1,
        "followers": 20,
        "following": 0,
        "created_at": "2008-01-14T04:33:35Z",
        "updated_at": "2008-01-14T04:33:35Z",
        "private_gists": 81,
        "total_private_repos": 100,
        "owned_private_repos": 100,
        "disk_usage": 10000,
        "collaborators": 8,
        "two_factor_authentication": True,
        "plan": {"name": "Medium", "space": 400, "private_repos": 20, "collaborators": 0},
    }


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _authorization_error(error: str, state: str | None) -> dict[str, str]:
    descriptions = {
        "access_denied": "The user has denied your application access.",
        "redirect_uri_mismatch": "The redirect_uri MUST match the registered callback URL for this application.",
    }
    anchor = "#access-denied" if error == "access_denied" else "#redirect-uri-mismatch"
    params = {
        "error": error,
        "error_description": descriptions[error],
        "error_uri": AUTHORIZATION_TROUBLESHOOTING + anchor,
    }
    return params | ({"state": state} if state is not None else {})


def _token_error(error: str) -> dict[str, str]:
    description, anchor = TOKEN_ERRORS[error]
    return {"error": error, "error_description": description, "error_uri": TROUBLESHOOTING + anchor}


def _token_answer(body: dict[str, str], as_json: bool) -> Response:
    if as_json:
        return _json(body)
    return Response(urlencode(body), content_type="application/x-www-form-urlencoded; charset=utf-8")


def _json(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, content_type="application/json; charset=utf-8")


def _redirect(uri: str, params: dict[str, str]) -> Response:
    separator = "&" if urlsplit(uri).query else "?"
    return Response("", status=302, headers={"Location": f"{uri}{separator}{urlencode(params)}"})


def callback_params(url: str) -> dict[str, str]:
    """The query of a callback URL sign_in returned, one value per name."""
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def github_provider(httpserver: HTTPServer) -> GithubProvider:
    """A fresh GitHub-style OAuth App and its user API on the test's pytest-httpserver."""
    return GithubProvider(httpserver)
