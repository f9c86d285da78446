"""The test OpenID provider (npm oidc-provider, `tests/idp/oidc/server.mjs`) run by Node on a port the
OS picks, and the fixtures that hand it to tests.

`oidc_provider` (session-scoped; one server per pytest-xdist worker) and `fresh_oidc_provider` (the
same server, reset to its start state before the test: clients, accounts, keys, faults, counters)
give an `OidcProvider`:

    idp.issuer                         "http://127.0.0.1:<port>", equal to discovery's issuer
    idp.basic / idp.post / idp.public  the registered clients (`client_id`, `client_secret`, `auth_method`)
    idp.set_account("ana", {"email": ..., "email_verified": True, "groups": [...]})
    idp.set_redirect_uris([live_server.url + "/signin/okta/callback"])     every client, or client_ids=[...]
    idp.sign_in(authorization_url, "ana")  -> the callback URL (code, state, iss), not followed
    idp.sign_in(authorization_url, "ana", cancel=True)  -> the callback URL with error=access_denied
    idp.rotate_key()                   -> the new kid, never published before; it signs from now on
    idp.set_fault("token", status=200, body="not json", times=1)    or delay_ms=... (see server.mjs)
    idp.request_counts()["jwks"]       requests per endpoint since the last reset

A browser signs in at the same page: it shows a form with an `Account` field (`login`, the account's
sub) and a "Sign in" button; "Cancel" answers access_denied. Consent is implied.
"""

import json
import os
import re
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

import pytest

SERVER_DIR = Path(__file__).resolve().parent / "oidc"
READY_TIMEOUT = 30.0  # seconds for Node to start and generate its RSA keys on a busy machine
HTTP_TIMEOUT = 10.0
INTERACTION_PATH = re.compile(r"/interaction/[A-Za-z0-9_-]+")


class OidcProviderError(Exception):
    """The test provider could not start, or answered a control or sign-in request unexpectedly."""


@dataclass(frozen=True)
class OidcClient:
    client_id: str
    client_secret: str | None
    auth_method: str  # token_endpoint_auth_method: client_secret_basic, client_secret_post or none


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx comes back as the answer, its Location to read


@dataclass
class Answer:
    status: int
    headers: Any
    body: bytes
    url: str

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    opener: urllib.request.OpenerDirector,
    url: str,
    *,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    method: str | None = None,
) -> Answer:
    """One request, redirects not followed; 4xx and 5xx are answers, not exceptions."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with opener.open(request, timeout=HTTP_TIMEOUT) as response:
            return Answer(response.status, response.headers, response.read(), url)
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, error.headers, error.read(), url)


def http_client(cookies: CookieJar | None = None) -> urllib.request.OpenerDirector:
    """A urllib opener that keeps cookies (a jar of its own unless given) and does not follow redirects."""
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies or CookieJar()), _NoRedirects)


class OidcProvider:
    """A running test provider and its control endpoints (documented in server.mjs)."""

    def __init__(self, issuer: str, process: subprocess.Popen, output: deque[str]):
        self.issuer = issuer
        self.process = process
        self._output = output
        self._control = http_client()
        state = self.control("GET", "state")
        self.clients = {client["client_id"]: client for client in state["clients"]}
        self.basic = self.client("rp-basic")
        self.post = self.client("rp-post")
        self.public = self.client("rp-public")

    def client(self, client_id: str) -> OidcClient:
        metadata = self.clients[client_id]
        return OidcClient(client_id, metadata.get("client_secret"), metadata["token_endpoint_auth_method"])

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def output(self) -> str:
        """What the Node process printed (its last lines), for failure messages."""
        return "".join(self._output)

    def control(self, method: str, name: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        answer = http_request(
            self._control,
            f"{self.issuer}/__control/{name}",
            data=data,
            headers={"Content-Type": "application/json"},
            method=method,
        )
        if answer.status != 200:
            raise OidcProviderError(f"{method} /__control/{name}: {answer.status} {answer.body[:500]!r}")
        return answer.json()

    def get_json(self, url: str) -> Any:
        answer = http_request(self._control, url)
        if answer.status != 200:
            raise OidcProviderError(f"GET {url}: {answer.status} {answer.body[:500]!r}")
        return answer.json()

    def discovery(self) -> dict[str, Any]:
        return self.get_json(self.discovery_url)

    def jwks(self) -> dict[str, Any]:
        return self.get_json(f"{self.issuer}/jwks")

    def set_account(self, sub: str, claims: dict[str, Any]) -> None:
        """Sets or replaces the account's claims; its next ID token and userinfo carry them."""
        self.control("POST", "accounts", {"sub": sub, "claims": claims})

    def delete_account(self, sub: str) -> None:
        self.control("POST", "accounts", {"sub": sub, "delete": True})

    def set_clients(self, clients: list[dict[str, Any]]) -> None:
        """Replaces the registered clients (oidc-provider client metadata)."""
        self.control("POST", "clients", {"clients": clients})
        self.clients = {client["client_id"]: client for client in clients}

    def set_redirect_uris(
        self,
        uris: list[str],
        *,
        client_ids: list[str] | None = None,
        post_logout_redirect_uris: list[str] | None = None,
    ) -> None:
        """Registers these redirect URIs (replacing the previous ones) on every client, or on those named."""
        clients = []
        for client_id, metadata in self.clients.items():
            if client_ids is None or client_id in client_ids:
                metadata = {**metadata, "redirect_uris": list(uris)}
                if post_logout_redirect_uris is not None:
                    metadata["post_logout_redirect_uris"] = list(post_logout_redirect_uris)
            clients.append(metadata)
        self.set_clients(clients)

    def rotate_key(self, *, alg: str = "RS256", keep_previous: bool = True) -> str:
        """Signs with a new key from now on (published from now on too) and returns its kid."""
        return self.control("POST", "rotate", {"alg": alg, "keep_previous": keep_previous})["kid"]

    def signing_kid(self, alg: str = "RS256") -> str:
        return self.control("GET", "state")["signing_kids"][alg]

    def set_fault(self, endpoint: str, **fault: Any) -> None:
        """Makes `endpoint` (discovery, jwks, authorization, token, userinfo, end_session) answer
        `status`/`body`/`content_type` instead, or late by `delay_ms`, for the next `times` requests
        (all, without it). Replaces any other fault."""
        self.control("POST", "faults", {endpoint: fault})

    def clear_faults(self) -> None:
        self.control("POST", "faults", {})

    def request_counts(self) -> dict[str, int]:
        return self.control("GET", "requests")

    def reset(self) -> None:
        """Back to the start state: clients, accounts, signing keys, faults and counters."""
        state = self.control("POST", "reset")
        self.clients = {client["client_id"]: client for client in state["clients"]}

    def sign_in(
        self, authorization_url: str, sub: str, *, cancel: bool = False, cookies: CookieJar | None = None
    ) -> str:
        """Completes the provider's sign-in page as account `sub` (or cancels it) over plain HTTP and
        returns where the provider sends the browser back: the client's redirect URI with code and
        state, or with an error. That URL is not requested. `cookies` keeps the provider's session
        between calls (a new jar each time otherwise: a fresh browser)."""
        if not authorization_url.startswith(f"{self.issuer}/"):
            raise ValueError(f"{authorization_url} is not at the provider {self.issuer}")
        opener = http_client(cookies)
        url, data, submitted = authorization_url, None, False
        for _ in range(10):
            answer = http_request(opener, url, data=data)
            if answer.status in (301, 302, 303, 307, 308):
                location = urljoin(url, answer.headers["Location"])
                if not location.startswith(f"{self.issuer}/"):
                    return location
                url, data = location, None
                continue
            path = url.removeprefix(self.issuer).split("?")[0]
            if answer.status == 200 and INTERACTION_PATH.fullmatch(path) and not submitted:
                url = f"{self.issuer}{path}/{'abort' if cancel else 'login'}"
                data, submitted = urlencode({"login": sub}).encode(), True
                continue
            raise OidcProviderError(f"sign-in stopped at {url}: {answer.status} {answer.body[:800]!r}")
        raise OidcProviderError(f"sign-in did not leave the provider after 10 requests (last: {url})")


def _missing_prerequisite() -> str | None:
    if shutil.which("node") is None:
        return "`node` is not on PATH: the test OpenID provider needs Node.js 20 or later."
    if not (SERVER_DIR / "node_modules" / "oidc-provider" / "package.json").is_file():
        return f"{SERVER_DIR}/node_modules is missing: `make test` installs it (`npm ci` in that directory)."
    return None


START_ATTEMPTS = 3


def _stop(process: subprocess.Popen, reader: threading.Thread) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    reader.join(timeout=5)


def _start(env: dict[str, str]) -> tuple[subprocess.Popen, threading.Thread, deque[str], str]:
    """server.mjs started, once it says READY: its process, output reader, output and issuer.
    OidcProviderError (the process stopped) when it does not within READY_TIMEOUT."""
    process = subprocess.Popen(
        ["node", "server.mjs", "--port", "0"],
        cwd=SERVER_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: deque[str] = deque(maxlen=200)
    ready = threading.Event()
    issuer: list[str] = []

    def read_output() -> None:
        # Keeps draining the pipe for the server's whole life, so its logging never blocks it.
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if line.startswith("READY ") and not issuer:
                issuer.append(line.split()[1])
                ready.set()
        ready.set()  # it exited

    reader = threading.Thread(target=read_output, name="oidc-provider-output", daemon=True)
    reader.start()
    ready.wait(READY_TIMEOUT)
    if not issuer:
        status = process.poll()
        _stop(process, reader)
        raise OidcProviderError(f"the test OpenID provider did not start (exit status {status}):\n{''.join(output)}")
    return process, reader, output, issuer[0]


@contextmanager
def running_oidc_provider(config: dict[str, Any] | None = None) -> Iterator[OidcProvider]:
    """Starts server.mjs on a port the OS picks, waits for its READY line and its discovery document,
    and stops it (SIGTERM) on exit. `config`: {"clients": [...], "accounts": {...}} (see server.mjs).
    A start that does not say READY in time is stopped and made again, up to START_ATTEMPTS times:
    Node has stalled at startup on this machine (0.5 s of CPU in 40 s, for a few minutes), and the
    session fixture's one failure fails every later test of its worker."""
    problem = _missing_prerequisite()
    if problem:
        raise OidcProviderError(problem)
    env = {**os.environ, "OIDC_TEST_IDP_CONFIG": json.dumps(config or {})}
    env.pop("PORT", None)
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            process, reader, output, issuer = _start(env)
            break
        except OidcProviderError:
            if attempt == START_ATTEMPTS:
                raise
    try:
        provider = OidcProvider(issuer, process, output)
        discovered = provider.discovery()["issuer"]
        if discovered != provider.issuer:
            raise OidcProviderError(f"discovery names issuer {discovered}, expected {provider.issuer}")
        yield provider
    finally:
        _stop(process, reader)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    """The test OpenID provider, one per test session (per pytest-xdist worker). Tests that change its
    state (accounts, clients, keys, faults) should use `fresh_oidc_provider` or reset it themselves."""
    try:
        with running_oidc_provider() as provider:
            yield provider
    except OidcProviderError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def fresh_oidc_provider(oidc_provider: OidcProvider) -> OidcProvider:
    """The session's test OpenID provider, reset to its start state before the test."""
    oidc_provider.reset()
    return oidc_provider
