"""OpenID Connect sign-in: login start and callback against the test OpenID provider (npm
oidc-provider, tests/idp/oidc/server.mjs), django-allauth's `openid_connect` provider next to the
product's `/signin/<workspace>/<alias>/`, in alternating rounds. Writes docs/benchmarks-signin.json
and .md.

    python -m bench.signin [--logins 60] [--rounds 2] [--seconds 8] [--concurrency 4] [--quick]

Each side is its own gunicorn (2 sync workers, production settings) on its own PostgreSQL database:
allauth on bench/settings_allauth.py, the product on bench/settings_signin.py. The harness plays
the browser: GET the start (302 to the provider), the provider's sign-in page through the driver
(tests/idp/oidc_provider.py: a fresh provider session each time, so its form every time), GET the
callback (302 to the next page). Every account has signed in once before the figures are taken, so
each measured callback is a returning user's login, not a signup. Per request the servers report
their queries (`X-Queries`), their time (`X-Server-Ms`) and the part of it spent waiting for the
provider (`X-Outbound-Ms`, bench/middleware.py); the provider's own request counters give the
outbound calls. The product's side runs once the product has `/signin/`; until then it prints
"product sign-in not available".

SAML 2.0, the product alone (allauth's side is OpenID Connect only): the test SAML identity provider
(pysaml2, tests/idp/saml_provider.py) runs in this process, on a thread, and signs the Responses; the
harness plays the browser through the start (302 to the provider's SSO URL), the provider's answer
(`SamlProvider.sign_in`), the ACS (posted without the session cookie, as a cross-site POST arrives)
and the finish its page posts to, as a browser submits that page's form: its action and its hidden
fields, nothing else (the ACS renders no CSRF token and the finish asks for none; a token the page
held would be posted), with the session cookie and this site's Origin. The cookies the ACS's answer
sets are counted (none expected: a CSRF cookie set there broke the forms of the user's other tabs).
Every account signs up first, so each measured finish is a returning user's. Outbound calls are the
requests the provider's HTTP server received during the ACS and the finish, and the connections the
server opened (`X-Outbound-Connects`). The SP metadata is asked for without and with `If-None-Match`.
"""

import argparse
import contextlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from bench.run import ROOT, environment, free_port, machine, recreate_database, start_gunicorn
from tests.idp.oidc_provider import SERVER_DIR, OidcProviderError, running_oidc_provider
from tests.idp.saml_provider import NAMEID_PERSISTENT, SamlProviderError, running_saml_provider

RESULTS = ROOT / "docs" / "benchmarks-signin.json"
REPORT = ROOT / "docs" / "benchmarks-signin.md"
ACCOUNTS = 40  # returning users, spread over the client threads so no two sign in as the same user at once
OUTBOUND = ("discovery", "jwks", "token", "userinfo")  # the provider's back-channel endpoints
TARGETS = {"start_ms": 10.0, "callback_p95_ms": 50.0, "queries": 12, "outbound": 2, "logins_per_s": 40.0}

# The product's side (B). The harness needs only these two paths and one identity provider.
WORKSPACE, ALIAS = "default", "bench-oidc"
PRODUCT_START = f"/signin/{WORKSPACE}/{ALIAS}/"
PRODUCT_CALLBACK = f"/signin/{WORKSPACE}/{ALIAS}/callback"
# The product's SAML identity provider, at the test SAML identity provider in this process.
SAML_ALIAS = "bench-saml"
SAML_START = f"/signin/{WORKSPACE}/{SAML_ALIAS}/"
SAML_ACS = f"/signin/{WORKSPACE}/{SAML_ALIAS}/saml/acs"
SAML_FINISH = f"/signin/{WORKSPACE}/{SAML_ALIAS}/saml/finish"
SAML_METADATA = f"/signin/{WORKSPACE}/{SAML_ALIAS}/saml/metadata"
SAML_TARGETS = {"finish_p95_ms": 25.0, "queries": 12, "outbound": 0}
# allauth's side (A): `provider_id` "bench" in bench/settings_allauth.py.
ALLAUTH_START = "/accounts/oidc/bench/login/"
ALLAUTH_CALLBACK = "/accounts/oidc/bench/login/callback/"


def product_signin_available() -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(PRODUCT_START)
    except Resolver404:
        return False
    return True


def create_product_identity_provider(issuer: str) -> None:
    """An OIDC identity provider for the test provider, made through the service layer the API and
    the admin call: the issuer alone (no endpoints: its discovery document has them), client rp-basic,
    client_secret_basic."""
    from accounts.models import DEFAULT_WORKSPACE_ID
    from accounts.scoping import within
    from bench import seed
    from providers.identity import services

    operator, _ = seed.users()
    with within(DEFAULT_WORKSPACE_ID):
        services.identity_provider_create(
            actor=operator,
            alias=ALIAS,
            display_name="Bench OIDC",
            protocol="oidc",
            client_secret="rp-basic-secret",
            data={
                "client_id": "rp-basic",
                "issuer": issuer,
                "client_auth_method": "client_secret_basic",
                "default_scope": "openid email profile",
                "trust_email": True,
                "update_profile_first_login_mode": "off",
            },
        )


@dataclass
class Variant:
    name: str
    port: int
    start: str
    callback: str

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.callback}"


@dataclass
class Hit:
    status: int
    location: str
    ms: float  # at the client
    server_ms: float
    outbound_ms: float
    queries: int
    body: bytes
    connects: int = 0  # connections the server opened (`X-Outbound-Connects`)
    headers: dict[str, str] = field(default_factory=dict)
    set_cookies: tuple[str, ...] = ()  # the names of the cookies the response set or deleted

    @property
    def own_ms(self) -> float:
        """The app's own time: its server time less the time it waited for the provider."""
        return self.server_ms - self.outbound_ms


class Browser:
    """The app's side of one browser: its cookies (a new browser per login: signed out)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def get(self, path: str, headers: dict[str, str] | None = None) -> Hit:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, fields: dict[str, str], *, cookies: bool = True, origin: str | None = None) -> Hit:
        """A form's POST; without `cookies`, as a cross-site POST arrives (SameSite=Lax cookies left
        out); `origin` as the browser sends it (the page's origin, or "null")."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if origin:
            headers["Origin"] = origin
        return self.request("POST", path, body=urlencode(fields), headers=headers, cookies=cookies)

    def request(
        self, method: str, path: str, *, body: str | None = None, headers: dict[str, str] | None = None,
        cookies: bool = True,
    ) -> Hit:  # fmt: skip
        headers = dict(headers or {})
        if cookies and self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)  # sync workers close it
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            body_read = response.read()
        finally:
            connection.close()
        elapsed = (time.perf_counter() - started) * 1000
        set_cookies = []
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                set_cookies.append(name)
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Hit(
            response.status,
            response.getheader("Location", ""),
            elapsed,
            float(response.getheader("X-Server-Ms") or "nan"),
            float(response.getheader("X-Outbound-Ms") or "nan"),
            int(response.getheader("X-Queries") or -1),
            body_read,
            int(response.getheader("X-Outbound-Connects") or 0),
            {name.lower(): value for name, value in response.getheaders()},
            tuple(set_cookies),
        )


class LoginError(Exception):
    pass


@dataclass
class Login:
    start: Hit
    idp_ms: float  # the browser at the provider: authorization, sign-in page, form, back to the app
    callback: Hit
    browser: Browser
    outbound: dict[str, dict[str, int]] = field(default_factory=dict)  # start/callback → endpoint → calls

    @property
    def provider_ms(self) -> float:
        """All of the login's time at the provider: the browser's and the app's back-channel calls."""
        return self.idp_ms + self.start.outbound_ms + self.callback.outbound_ms


def login(variant: Variant, idp, account: str, *, count_calls: bool = False) -> Login:
    def counts() -> dict[str, int]:
        return idp.request_counts() if count_calls else {}

    def calls(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
        return {
            name: after.get(name, 0) - before.get(name, 0)
            for name in OUTBOUND
            if after.get(name, 0) > before.get(name, 0)
        }

    browser = Browser(variant.port)
    before_start = counts()
    start = browser.get(variant.start)
    after_start = counts()
    if start.status != 302 or not start.location.startswith(f"{idp.issuer}/"):
        raise LoginError(f"{variant.name} start: {start.status} {start.location!r} {start.body[:300]!r}")
    started = time.perf_counter()
    callback_url = idp.sign_in(start.location, account)
    idp_ms = (time.perf_counter() - started) * 1000
    target = urlsplit(callback_url)
    if f"{target.scheme}://{target.netloc}{target.path}" != variant.redirect_uri:
        raise LoginError(f"{variant.name}: the provider sent the browser to {callback_url}")
    before_callback = counts()
    callback = browser.get(f"{target.path}?{target.query}")
    after_callback = counts()
    if callback.status != 302 or callback.location.startswith(f"{idp.issuer}/"):
        raise LoginError(f"{variant.name} callback: {callback.status} {callback.location!r} {callback.body[:300]!r}")
    outbound = {"start": calls(before_start, after_start), "callback": calls(before_callback, after_callback)}
    return Login(start, idp_ms, callback, browser, outbound)


def whoami(browser: Browser) -> str:
    return browser.get("/bench/whoami").body.decode()


def account(n: int) -> str:
    return f"user-{n:03d}"


def set_up_provider(idp, variants: list[Variant]) -> None:
    for n in range(ACCOUNTS):
        idp.set_account(
            account(n),
            {
                "email": f"{account(n)}@example.com",
                "email_verified": True,
                "name": f"User {n}",
                "given_name": "User",
                "family_name": str(n),
                "preferred_username": account(n),
            },
        )
    idp.set_redirect_uris([variant.redirect_uri for variant in variants], client_ids=["rp-basic"])


def first_logins(idp, variants: list[Variant]) -> None:
    """Every account signs in once (a signup), then once more (a returning user's login), each
    checked: the session it ends with is signed in as the same user both times."""
    for variant in variants:
        for n in range(ACCOUNTS):
            first = login(variant, idp, account(n))
            second = login(variant, idp, account(n))
            users = whoami(first.browser), whoami(second.browser)
            if not users[0] or users[0] != users[1]:
                raise LoginError(f"{variant.name}: {account(n)} signed in as {users[0]!r}, then as {users[1]!r}")
        print(f"  {variant.name}: {ACCOUNTS} accounts signed up and signed in again (as e.g. {users[0]!r})", flush=True)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(idp, variants: list[Variant], *, rounds: int, logins: int) -> dict[str, list[Login]]:
    """One login at a time (no load), `logins` per variant per round, variants alternating."""
    results: dict[str, list[Login]] = {variant.name: [] for variant in variants}
    sequence = 0
    for _ in range(rounds):
        for variant in variants:
            for _ in range(logins):
                results[variant.name].append(login(variant, idp, account(sequence % ACCOUNTS), count_calls=True))
                sequence += 1
    return results


def latency_row(logins: list[Login]) -> dict:
    def figures(values: list[float]) -> dict[str, float]:
        return {"p50": round(percentile(values, 0.5), 3), "p95": round(percentile(values, 0.95), 3)}

    def outbound(part: str) -> dict[str, float]:
        names = sorted({name for item in logins for name in item.outbound[part]})
        return {name: round(statistics.fmean(item.outbound[part].get(name, 0) for item in logins), 2) for name in names}

    return {
        "logins": len(logins),
        "start_own_ms": figures([item.start.own_ms for item in logins]),
        "start_server_ms": figures([item.start.server_ms for item in logins]),
        "start_outbound_ms": figures([item.start.outbound_ms for item in logins]),
        "start_queries": round(statistics.fmean(item.start.queries for item in logins), 2),
        "start_outbound_calls": outbound("start"),
        "callback_own_ms": figures([item.callback.own_ms for item in logins]),
        "callback_server_ms": figures([item.callback.server_ms for item in logins]),
        "callback_outbound_ms": figures([item.callback.outbound_ms for item in logins]),
        "callback_queries": round(statistics.fmean(item.callback.queries for item in logins), 2),
        "callback_queries_max": max(item.callback.queries for item in logins),
        "callback_outbound_calls": outbound("callback"),
        "idp_signin_ms": figures([item.idp_ms for item in logins]),
    }


def cpu_seconds(roots: dict[str, int]) -> dict[str, float]:
    """CPU time (user + system) so far of each part of the login, from /proc: this harness (the
    browsers), each root process with its children (the provider's Node, a gunicorn and its
    workers), and PostgreSQL's processes. Per process, so processes started later count in full."""
    tick = os.sysconf("SC_CLK_TCK")
    parts: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        pid, comm, fields = (
            int(entry.name),
            stat[stat.index("(") + 1 : stat.rindex(")")],
            stat[stat.rindex(")") + 2 :].split(),
        )
        ppid, cpu = int(fields[1]), (int(fields[11]) + int(fields[12])) / tick
        part = "harness" if pid == os.getpid() else "PostgreSQL" if comm == "postgres" else None
        part = part or next((name for name, root in roots.items() if root in (pid, ppid)), None)
        if part:
            parts[f"{part} {pid}"] = cpu
    # The whole machine's busy time (user, nice, system, irq, softirq, steal): what is left once the
    # parts above are taken out is other work on the host.
    busy = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    parts["machine 0"] = sum(int(busy[i]) for i in (0, 1, 2, 5, 6, 7)) / tick
    return parts


def cpu_per_part(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for key, cpu in after.items():
        part = key.rsplit(" ", 1)[0]
        totals[part] = totals.get(part, 0.0) + cpu - before.get(key, 0.0)
    totals["other processes"] = max(0.0, totals.pop("machine") - sum(totals.values()))
    return totals


def throughput(idp, variant: Variant, *, seconds: float, concurrency: int, server_pid: int) -> dict:
    """Complete logins (start, the provider's sign-in, callback) from `concurrency` browsers at once,
    and the CPU time each part of the machine spent on them."""
    done: list[Login] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def browser(index: int) -> None:
        mine = [account(n) for n in range(index, ACCOUNTS, concurrency)]
        n = 0
        while time.perf_counter() < deadline:
            try:
                item = login(variant, idp, mine[n % len(mine)])
            except (LoginError, OidcProviderError, OSError, http.client.HTTPException) as error:
                with lock:
                    errors.append(str(error)[:300])
                continue
            finally:
                n += 1
            with lock:
                done.append(item)

    roots = {"provider": idp.process.pid, "app": server_pid}
    cpu_before = cpu_seconds(roots)
    started = time.perf_counter()
    threads = [threading.Thread(target=browser, args=(index,)) for index in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu = cpu_per_part(cpu_before, cpu_seconds(roots))
    print(f"  {variant.name:<8} {len(done) / elapsed:6.1f} logins/s, {len(errors)} errors; CPU s: "
          + ", ".join(f"{part} {value:.2f}" for part, value in cpu.items()), flush=True)  # fmt: skip
    return {"logins": len(done), "seconds": elapsed, "errors": errors, "items": done, "cpu": cpu}


def throughput_row(runs: list[dict]) -> dict:
    items = [item for run in runs for item in run["items"]]
    logins, seconds = sum(run["logins"] for run in runs), sum(run["seconds"] for run in runs)

    def mean(values) -> float:
        return round(statistics.fmean(values), 3) if items else float("nan")

    cpu: dict[str, float] = {}
    for run in runs:
        for part, value in run["cpu"].items():
            cpu[part] = cpu.get(part, 0.0) + value
    return {
        "logins": logins,
        "seconds": round(seconds, 2),
        # CPU ms per login by part; with 2 cores there are 2,000 ms of CPU per second to share.
        "cpu_ms_per_login": {
            part: round(value * 1000 / logins, 2) for part, value in cpu.items() if part != "other processes"
        }
        if logins
        else {},
        "logins_per_s": round(logins / seconds, 1) if seconds else 0.0,
        "errors": sum(len(run["errors"]) for run in runs),
        "first_errors": [error for run in runs for error in run["errors"]][:3],
        "login_ms_p50": round(percentile([i.start.ms + i.idp_ms + i.callback.ms for i in items], 0.5), 3),
        "app_own_ms_mean": mean(i.start.own_ms + i.callback.own_ms for i in items),
        "provider_ms_mean": mean(i.provider_ms for i in items),
        "idp_signin_ms_mean": mean(i.idp_ms for i in items),
        "outbound_ms_mean": mean(i.start.outbound_ms + i.callback.outbound_ms for i in items),
        "callback_server_ms_p95": round(percentile([i.callback.server_ms for i in items], 0.95), 3),
    }


# SAML 2.0 (the product alone)


def product_saml_available() -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(SAML_ACS)
    except Resolver404:
        return False
    return True


def create_product_saml_identity_provider(idp) -> None:
    """A SAML identity provider for the test SAML identity provider, through the service layer: its
    entity ID, SSO URL (the AuthnRequest by redirect) and signing certificate, as a metadata import
    gives them; NameID persistent; no SP key (the provider signs, nothing is encrypted)."""
    from accounts.models import DEFAULT_WORKSPACE_ID
    from accounts.scoping import within
    from bench import seed
    from providers.identity import services

    operator, _ = seed.users()
    with within(DEFAULT_WORKSPACE_ID):
        services.identity_provider_create(
            actor=operator,
            alias=SAML_ALIAS,
            display_name="Bench SAML",
            protocol="saml",
            data={
                "entity_id": idp.entity_id,
                "single_sign_on_service_url": idp.sso_url,
                "signing_certificate": idp.certificate_pem(0),
                "name_id_policy_format": NAMEID_PERSISTENT,
                "post_binding_authn_request": False,
                "trust_email": True,
                "update_profile_first_login_mode": "off",
            },
        )


def saml_account(n: int) -> str:
    return f"saml-user-{n:03d}"


def set_up_saml_provider(idp, port: int) -> dict[str, int]:
    """The accounts and this server as a service provider at the test SAML identity provider, and a
    counter of the HTTP requests its server receives (none should come from the registry)."""
    for n in range(ACCOUNTS):
        name = saml_account(n)
        attributes = {"mail": f"{name}@example.com", "givenName": "User", "sn": str(n), "uid": name}
        idp.set_user(f"{name}-persistent-id", attributes=attributes, name_id_format=NAMEID_PERSISTENT)
    base = f"http://127.0.0.1:{port}"
    idp.register_sp(entity_id=f"{base}{SAML_METADATA}", acs_url=f"{base}{SAML_ACS}")
    served = {"requests": 0}
    lock = threading.Lock()
    answer = idp.wsgi

    def counted(environ, start_response):
        with lock:
            served["requests"] += 1
        return answer(environ, start_response)

    idp.wsgi = counted  # the provider's server looks the method up on each request
    return served


@dataclass
class SamlLogin:
    start: Hit
    idp_ms: float  # the provider's answer: the AuthnRequest read, the Response built and signed
    acs: Hit
    finish: Hit
    browser: Browser
    outbound: int  # requests the provider's server received during the ACS and the finish
    posted: tuple[str, ...] = ()  # the names of the fields the ACS's form posted to the finish

    @property
    def connects(self) -> int:
        return self.acs.connects + self.finish.connects


class _FormReader(HTMLParser):
    """The form `id="autopost"` of a page, as a browser submits it: its action and the name and
    value of each of its inputs that has a name (a CSRF token among them if the page renders one)."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and values.get("id") == "autopost":
            self.action, self._inside = values.get("action", ""), True
        elif tag == "input" and self._inside and values.get("name") and values.get("type") != "submit":
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def relay_form(page: bytes) -> tuple[str, dict[str, str]]:
    """The action and the fields of the ACS's page (signin/autopost.html), what its form posts."""
    reader = _FormReader()
    reader.feed(page.decode())
    reader.close()
    if reader.action is None:
        raise LoginError(f"the ACS answered no form: {page[:300]!r}")
    return reader.action, reader.fields


def saml_login(port: int, idp, n: int, served: dict[str, int]) -> SamlLogin:
    browser = Browser(port)
    start = browser.get(SAML_START)
    if start.status != 302 or not start.location.startswith(idp.sso_url + "?"):
        raise LoginError(f"SAML start: {start.status} {start.location!r} {start.body[:300]!r}")
    started = time.perf_counter()
    acs_url, fields = idp.sign_in(start.location, name_id=f"{saml_account(n)}-persistent-id")
    idp_ms = (time.perf_counter() - started) * 1000
    if urlsplit(acs_url).path != SAML_ACS:
        raise LoginError(f"the provider posts to {acs_url}")
    before = served["requests"]
    # From the provider's page: another site, so no session cookie, and Origin "null" or the
    # provider's; the ACS's page then posts from this site.
    acs = browser.post(SAML_ACS, fields, cookies=False, origin=urlsplit(idp.sso_url)._replace(path="").geturl())
    if acs.status != 200:
        raise LoginError(f"SAML ACS: {acs.status} {acs.body[:300]!r}")
    action, relayed = relay_form(acs.body)
    finish = browser.post(action, relayed, origin=f"http://127.0.0.1:{port}")
    if finish.status != 302:
        raise LoginError(f"SAML finish: {finish.status} {finish.body[:600]!r}")
    return SamlLogin(start, idp_ms, acs, finish, browser, served["requests"] - before, tuple(sorted(relayed)))


def saml_first_logins(port: int, idp, served: dict[str, int]) -> None:
    for n in range(ACCOUNTS):
        first, second = saml_login(port, idp, n, served), saml_login(port, idp, n, served)
        users = whoami(first.browser), whoami(second.browser)
        if not users[0] or users[0] != users[1]:
            raise LoginError(f"SAML: {saml_account(n)} signed in as {users[0]!r}, then as {users[1]!r}")
    print(f"  SAML: {ACCOUNTS} accounts signed up and signed in again (as e.g. {users[0]!r})", flush=True)


def saml_metadata(port: int, requests: int) -> dict:
    """The SP metadata, `requests` times without a validator and `requests` times with the ETag."""
    browser = Browser(port)
    first = browser.get(SAML_METADATA)
    etag = first.headers.get("etag", "")
    if first.status != 200 or not etag:
        raise LoginError(f"SP metadata: {first.status} ETag {etag!r}")
    full = [browser.get(SAML_METADATA) for _ in range(requests)]
    revalidated = [browser.get(SAML_METADATA, headers={"If-None-Match": etag}) for _ in range(requests)]
    if {hit.status for hit in full} != {200} or {hit.status for hit in revalidated} != {304}:
        raise LoginError("SP metadata: not 200 without If-None-Match and 304 with it")

    def row(hits: list[Hit]) -> dict:
        values = [hit.server_ms for hit in hits]
        return {
            "requests": len(hits),
            "status": hits[0].status,
            "server_ms": {"p50": round(percentile(values, 0.5), 3), "p95": round(percentile(values, 0.95), 3)},
            "queries": round(statistics.fmean(hit.queries for hit in hits), 2),
            "bytes": len(hits[0].body),
            "cache_control": hits[0].headers.get("cache-control", ""),
        }

    return {"etag": etag, "full": row(full), "if_none_match": row(revalidated)}


def saml_row(logins: list[SamlLogin], metadata: dict) -> dict:
    def figures(values: list[float]) -> dict[str, float]:
        return {"p50": round(percentile(values, 0.5), 3), "p95": round(percentile(values, 0.95), 3)}

    return {
        "logins": len(logins),
        "start_server_ms": figures([item.start.server_ms for item in logins]),
        "start_queries": round(statistics.fmean(item.start.queries for item in logins), 2),
        "acs_server_ms": figures([item.acs.server_ms for item in logins]),
        "acs_queries": round(statistics.fmean(item.acs.queries for item in logins), 2),
        "finish_server_ms": figures([item.finish.server_ms for item in logins]),
        "finish_own_ms": figures([item.finish.own_ms for item in logins]),
        "finish_queries": round(statistics.fmean(item.finish.queries for item in logins), 2),
        "finish_queries_max": max(item.finish.queries for item in logins),
        "acs_and_finish_server_ms": figures([item.acs.server_ms + item.finish.server_ms for item in logins]),
        "outbound_requests": sum(item.outbound for item in logins),
        "outbound_connects": sum(item.connects for item in logins),
        # What the ACS's page holds and sets: the fields its form posts, the cookies its answer sets.
        "finish_fields": sorted({name for item in logins for name in item.posted}),
        "acs_set_cookies": sorted({name for item in logins for name in item.acs.set_cookies}),
        "idp_ms": figures([item.idp_ms for item in logins]),
        "metadata": metadata,
    }


def saml_targets(saml: dict) -> list[str]:
    lines = ["| target | product | verdict |", "|---|---:|---|"]

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**not met**"

    finish, both = saml["finish_server_ms"]["p95"], saml["acs_and_finish_server_ms"]["p95"]
    outbound = saml["outbound_requests"] + saml["outbound_connects"]
    full, cached = saml["metadata"]["full"], saml["metadata"]["if_none_match"]
    lines += [
        f"| ACS p95 ≤ 25 ms server time (the finish, which checks the Response) | {finish:.2f} ms "
        f"(ACS page + finish: {both:.2f} ms) | {verdict(finish <= SAML_TARGETS['finish_p95_ms'])} |",
        f"| ≤ 12 queries (the finish) | {saml['finish_queries']:g} ({saml['finish_queries_max']}) "
        f"| {verdict(saml['finish_queries_max'] <= SAML_TARGETS['queries'])} |",
        f"| no outbound call (ACS, finish) | {outbound} | {verdict(outbound == SAML_TARGETS['outbound'])} |",
        f"| SP metadata served from cache (ETag) | 304 with `If-None-Match`: {cached['server_ms']['p50']:.2f} ms, "
        f"{cached['queries']:g} queries, {cached['bytes']} bytes (200: {full['server_ms']['p50']:.2f} ms, "
        f"{full['bytes']} bytes) | {verdict(cached['status'] == 304)} |",
    ]
    return lines


def migrate(env: dict[str, str], settings: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": settings},
        check=True,
    )


def print_table(results: dict) -> None:
    names = list(results["latency"])
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, values: list[str]) -> None:
        rows.append((label, values))

    row("", names)
    lat, thr = results["latency"], results["throughput"]

    def ms(name, key, q="p50"):
        return f"{lat[name][key][q]:.2f} ms"

    def calls(name, key):
        return " + ".join(f"{n} {c:g}" for n, c in lat[name][key].items()) or "none"

    for label, key, q in (
        ("start: own time p50", "start_own_ms", "p50"),
        ("start: own time p95", "start_own_ms", "p95"),
        ("start: waiting for the provider p50", "start_outbound_ms", "p50"),
        ("callback: own time p50", "callback_own_ms", "p50"),
        ("callback: own time p95", "callback_own_ms", "p95"),
        ("callback: server time (with the provider's) p95", "callback_server_ms", "p95"),
        ("callback: waiting for the provider p50", "callback_outbound_ms", "p50"),
        ("the provider's sign-in page (browser) p50", "idp_signin_ms", "p50"),
    ):
        row(label, [ms(name, key, q) for name in names])
    row("start: queries", [f"{lat[name]['start_queries']:g}" for name in names])
    row("callback: queries", [f"{lat[name]['callback_queries']:g}" for name in names])
    row("start: outbound calls", [calls(name, "start_outbound_calls") for name in names])
    row("callback: outbound calls", [calls(name, "callback_outbound_calls") for name in names])
    row(
        f"logins/s ({results['settings']['concurrency']} browsers)",
        [f"{thr[name]['logins_per_s']:.1f}" for name in names],
    )
    row("  per login: app's own ms (mean)", [f"{thr[name]['app_own_ms_mean']:.2f}" for name in names])
    row("  per login: at the provider ms (mean)", [f"{thr[name]['provider_ms_mean']:.2f}" for name in names])
    row("  errors", [str(thr[name]["errors"]) for name in names])
    for part in ("app", "provider", "PostgreSQL", "harness"):
        row(f"  CPU ms per login: {part}", [f"{thr[name]['cpu_ms_per_login'].get(part, 0):.1f}" for name in names])
    width = max(len(value) for _, values in rows for value in values) + 4
    print()
    for label, values in rows:
        print(f"  {label:<50}" + "".join(f"{value:>{width}}" for value in values))
    other = results["other_work_cores"]
    print(f"\n  Other work on the host: {other['latency']:.2f} cores during the latency rounds, "
          f"{other['throughput']:.2f} during the throughput rounds (of {results['machine']['cores']}).")  # fmt: skip


def saml_batch(idp, port: int, served: dict[str, int], *, logins: int, offset: int, server_pid: int) -> dict:
    """`logins` SAML logins one at a time, and the CPU time other work on the host took meanwhile.
    The provider runs in this process and signs with xmlsec1 subprocesses: their CPU time is this
    process's children's (os.times), not other work."""
    roots, children = {"app": server_pid}, os.times()
    cpu_before, started = cpu_seconds(roots), time.perf_counter()
    items = [saml_login(port, idp, (offset + n) % ACCOUNTS, served) for n in range(logins)]
    elapsed, after = time.perf_counter() - started, os.times()
    xmlsec1 = after.children_user + after.children_system - children.children_user - children.children_system
    other = max(0.0, cpu_per_part(cpu_before, cpu_seconds(roots))["other processes"] - xmlsec1)
    return {"items": items, "other_cpu_s": other, "seconds": elapsed}


def print_saml(saml: dict) -> None:
    def ms(key: str) -> str:
        return f"{saml[key]['p50']:.2f} / {saml[key]['p95']:.2f} ms"

    metadata = saml["metadata"]
    rows = [
        ("SAML start: server time p50 / p95", ms("start_server_ms")),
        ("SAML ACS page: server time p50 / p95", ms("acs_server_ms")),
        ("SAML finish: server time p50 / p95", ms("finish_server_ms")),
        ("SAML ACS page + finish p50 / p95", ms("acs_and_finish_server_ms")),
        ("SAML queries: start / ACS page / finish (max)",
         f"{saml['start_queries']:g} / {saml['acs_queries']:g} / {saml['finish_queries']:g} "
         f"({saml['finish_queries_max']})"),
        ("SAML outbound: requests at the provider / connects",
         f"{saml['outbound_requests']} / {saml['outbound_connects']}"),
        ("SAML provider's answer (pysaml2 + xmlsec1) p50", f"{saml['idp_ms']['p50']:.2f} ms"),
        ("SAML ACS page: fields posted to the finish", ", ".join(saml["finish_fields"])),
        ("SAML ACS page: cookies its answer set", ", ".join(saml["acs_set_cookies"]) or "none"),
        ("SP metadata 200: server time p50 / p95, queries",
         f"{metadata['full']['server_ms']['p50']:.2f} / {metadata['full']['server_ms']['p95']:.2f} ms, "
         f"{metadata['full']['queries']:g}"),
        ("SP metadata 304 (If-None-Match): p50 / p95, queries",
         f"{metadata['if_none_match']['server_ms']['p50']:.2f} / {metadata['if_none_match']['server_ms']['p95']:.2f}"
         f" ms, {metadata['if_none_match']['queries']:g}"),
    ]  # fmt: skip
    print()
    for label, value in rows:
        print(f"  {label:<54}{value:>28}")
    print(f"\n  Other work on the host during the SAML logins: {saml['other_work_cores']:.2f} cores.")


def targets(results: dict) -> list[str]:
    lat, thr = results["latency"], results["throughput"]
    lines = ["| target | allauth | product | verdict (product) |", "|---|---:|---:|---|"]
    product = lat.get("product")

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("**met**" if ok else "**not met**")

    def both(fmt, getter) -> tuple[str, str]:
        return fmt(getter("allauth")), (fmt(getter("product")) if product else "—")

    def outbound_total(name: str) -> float:
        return sum(lat[name]["callback_outbound_calls"].values())

    checks = [
        ("start ≤ 10 ms server time (own, p50)", lambda n: lat[n]["start_own_ms"]["p50"], "{:.2f} ms",
         lambda v: v <= TARGETS["start_ms"]),
        ("returning-user callback p95 ≤ 50 ms (own)", lambda n: lat[n]["callback_own_ms"]["p95"], "{:.2f} ms",
         lambda v: v <= TARGETS["callback_p95_ms"]),
        ("callback ≤ 12 queries", lambda n: lat[n]["callback_queries"], "{:g}", lambda v: v <= TARGETS["queries"]),
        ("callback ≤ 2 outbound calls", outbound_total, "{:g}", lambda v: v <= TARGETS["outbound"]),
        ("≥ 40 complete logins/s", lambda n: thr[n]["logins_per_s"], "{:.1f}", lambda v: v >= TARGETS["logins_per_s"]),
    ]  # fmt: skip
    for label, getter, fmt, ok in checks:
        a, b = both(fmt.format, getter)
        lines.append(f"| {label} | {a} | {b} | {verdict(ok(getter('product')) if product else None)} |")
    if product:
        faster = [
            lat["product"]["start_own_ms"]["p50"] < lat["allauth"]["start_own_ms"]["p50"],
            lat["product"]["callback_own_ms"]["p50"] < lat["allauth"]["callback_own_ms"]["p50"],
            thr["product"]["logins_per_s"] > thr["allauth"]["logins_per_s"],
        ]
        ratios = (
            f"start {lat['product']['start_own_ms']['p50'] / lat['allauth']['start_own_ms']['p50']:.2f}×, "
            f"callback {lat['product']['callback_own_ms']['p50'] / lat['allauth']['callback_own_ms']['p50']:.2f}× "
            f"allauth's own time; logins/s {thr['product']['logins_per_s'] / thr['allauth']['logins_per_s']:.2f}×"
        )
        lines.append(f"| faster than allauth (start, callback, logins/s) | — | {ratios} | {verdict(all(faster))} |")
    else:
        lines.append("| faster than allauth | — | — | not measured |")
    return lines


def report(results: dict) -> str:
    settings, lat, thr = results["settings"], results["latency"], results["throughput"]
    names = list(lat)
    m = results["machine"]

    def cells(fmt) -> str:
        return " | ".join(fmt(name) for name in names)

    def calls(name: str, part: str) -> str:
        return ", ".join(f"{n} {c:g}" for n, c in lat[name][f"{part}_outbound_calls"].items()) or "none"

    lines = [
        "# Sign-in: OpenID Connect and SAML 2.0",
        "",
        f"`{results['command']}`, {results['date']}; {m['cpu']}, {m['cores']} cores, PostgreSQL {m['postgresql']}, "
        f"Node {results['node']} running oidc-provider {results['oidc_provider']}; django-allauth "
        f"{results['allauth']}.",
        "",
        "Login start (`GET` → 302 to the provider) and callback (`GET ?code=…&state=…` → 302 to the next page) "
        "of a returning user, against the test OpenID provider (tests/idp/oidc/server.mjs) on the same machine.",
        "",
    ]
    if results["product"] is None:
        lines += ["**Product sign-in not available** in this run (no `/signin/` yet): allauth's figures alone.", ""]
    lines += ["## Targets", "", *targets(results), "", "## Figures", ""]

    def p50_p95(key: str) -> str:
        return cells(lambda n: f"{lat[n][key]['p50']:.2f} / {lat[n][key]['p95']:.2f} ms")

    def p50(key: str) -> str:
        return cells(lambda n: f"{lat[n][key]['p50']:.2f} ms")

    def value(table: dict, key: str, fmt: str = "{:g}") -> str:
        return cells(lambda n: fmt.format(table[n][key]))

    def queries(n: str) -> str:
        return f"{lat[n]['callback_queries']:g} ({lat[n]['callback_queries_max']})"

    def cpu(n: str) -> str:
        parts = thr[n]["cpu_ms_per_login"]
        return " / ".join(f"{parts.get(part, 0):.1f}" for part in ("app", "provider", "PostgreSQL", "harness")) + " ms"

    def counted(n: str) -> str:
        return f"{lat[n]['logins']} / {thr[n]['logins']}, {thr[n]['errors']}"

    lines += [
        "| | " + cells(str) + " |",
        "|---|" + "---:|" * len(names),
        f"| start: own time p50 / p95 | {p50_p95('start_own_ms')} |",
        f"| start: waiting for the provider p50 | {p50('start_outbound_ms')} |",
        f"| start: queries | {value(lat, 'start_queries')} |",
        f"| start: outbound calls | {cells(lambda n: calls(n, 'start'))} |",
        f"| callback: own time p50 / p95 | {p50_p95('callback_own_ms')} |",
        f"| callback: server time, the provider's included, p50 / p95 | {p50_p95('callback_server_ms')} |",
        f"| callback: waiting for the provider p50 / p95 | {p50_p95('callback_outbound_ms')} |",
        f"| callback: queries (max) | {cells(queries)} |",
        f"| callback: outbound calls | {cells(lambda n: calls(n, 'callback'))} |",
        f"| the provider's sign-in page (the browser's 4 requests) p50 | {p50('idp_signin_ms')} |",
        f"| complete logins/s, {settings['concurrency']} browsers | {value(thr, 'logins_per_s', '**{:.1f}**')} |",
        f"| per login: the app's own time (start + callback), mean | {value(thr, 'app_own_ms_mean', '{:.2f} ms')} |",
        f"| per login: at the provider (browser, back channel) | {value(thr, 'provider_ms_mean', '{:.2f} ms')} |",
        f"| per login: wall time p50 (start + provider + callback) | {value(thr, 'login_ms_p50', '{:.2f} ms')} |",
        f"| logins measured (latency / throughput), errors | {cells(counted)} |",
        f"| CPU per login under load: app / provider / PostgreSQL / harness | {cells(cpu)} |",
        "",
        "## How measured",
        "",
        f"Each side is a gunicorn server ({settings['workers']} sync workers) with the production settings and "
        "middleware and database sessions, on its own PostgreSQL database on the same machine: allauth with "
        "bench/settings_allauth.py (its `openid_connect` provider from `SOCIALACCOUNT_PROVIDERS`, login on GET, "
        "automatic signup, no email verification, no PKCE, `fetch_userinfo` off: the ID token's claims), the "
        "product with bench/settings_signin.py. The harness is the browser, with a new cookie jar per login "
        "(signed out, and a new session at the provider, which shows its form every time). Before any figure, "
        f"each of {ACCOUNTS} accounts signs in twice on each side (a signup, then a login; both checked to end "
        "signed in as the same user), so every measured callback is a returning user's. "
        f"**Latency:** one login at a time, {settings['logins']} per side per round, {settings['rounds']} rounds, "
        "the sides alternating. *Own time* is the request's time inside Django (`X-Server-Ms`, bench/middleware.py) "
        "less the time it spent blocked on its sockets to the provider (`X-Outbound-Ms`: connect, send and receive "
        "on Python sockets, whatever HTTP client makes the calls; the database's libpq sockets are not counted): "
        "the provider's time is reported apart. Queries are SQL statements per request (`X-Queries`; BEGIN and "
        "COMMIT not counted); outbound calls are the "
        "provider's own request counters (`/__control/requests`) read before and after each request. "
        f"**Throughput:** {settings['concurrency']} browsers at once, each looping complete logins (start, the "
        f"provider's 4-request sign-in, callback) over its own accounts for {settings['seconds']} s per side per "
        f"round, {settings['rounds']} rounds alternating; the provider (one Node process), both servers' workers, "
        "PostgreSQL and the harness share the machine's cores, and the provider's part of each login is reported "
        "apart.",
        "",
        "allauth fetches the discovery document on every start and every callback (no cache across requests), "
        "and does not check the ID token's signature when it got the token itself from the token endpoint "
        "(OpenID Connect Core 3.1.3.7 allows it over TLS), so it never asks for the JWKS.",
        "",
        f"Other work on the host (CPU time of the machine less the benchmark's processes): "
        f"{results['other_work_cores']['latency']:.2f} cores on average during the latency rounds, "
        f"{results['other_work_cores']['throughput']:.2f} during the throughput rounds, of {m['cores']}. "
        f"The run took {results['seconds']} s.",
        "",
    ]
    if results.get("saml"):
        lines += saml_report(results["saml"], results)
    return "\n".join(lines)


def saml_report(saml: dict, results: dict) -> list[str]:
    def ms(key: str) -> str:
        return f"{saml[key]['p50']:.2f} / {saml[key]['p95']:.2f} ms"

    full, cached = saml["metadata"]["full"], saml["metadata"]["if_none_match"]
    return [
        "## SAML 2.0",
        "",
        f"The product alone (allauth's `openid_connect` has no SAML), on the same server and in the same run, each "
        f"latency round's OpenID Connect logins followed by as many SAML logins: {saml['logins']} logins of "
        f"returning users one at a time, against the test SAML "
        f"identity provider (pysaml2 {package_version('pysaml2')}, tests/idp/saml_provider.py) run in the harness's "
        "process; python3-saml checks each Response (signed Response and signed Assertion, RSA-SHA256).",
        "",
        *saml_targets(saml),
        "",
        "| | product |",
        "|---|---:|",
        f"| start (302 to the SSO URL, AuthnRequest by redirect): server time p50 / p95 | {ms('start_server_ms')} |",
        f"| start: queries | {saml['start_queries']:g} |",
        f"| ACS (the page that posts on; no session): server time p50 / p95 | {ms('acs_server_ms')} |",
        f"| ACS: queries | {saml['acs_queries']:g} |",
        f"| finish (checks, signs in, 302): server time p50 / p95 | {ms('finish_server_ms')} |",
        f"| finish: queries (max) | {saml['finish_queries']:g} ({saml['finish_queries_max']}) |",
        f"| ACS + finish: server time p50 / p95 | {ms('acs_and_finish_server_ms')} |",
        f"| outbound during ACS and finish: requests at the provider / connections opened | "
        f"{saml['outbound_requests']} / {saml['outbound_connects']} |",
        f"| ACS page: the fields its form posts to the finish / the cookies its answer sets | "
        f"{', '.join(f'`{name}`' for name in saml['finish_fields'])} / "
        f"{', '.join(f'`{name}`' for name in saml['acs_set_cookies']) or 'none'} |",
        f"| the provider's answer (pysaml2 builds the Response, xmlsec1 signs it twice) p50 | "
        f"{saml['idp_ms']['p50']:.2f} ms |",
        f"| SP metadata, 200: server time p50 / p95, queries, bytes | {full['server_ms']['p50']:.2f} / "
        f"{full['server_ms']['p95']:.2f} ms, {full['queries']:g}, {full['bytes']} |",
        f"| SP metadata, 304 with `If-None-Match`: server time p50 / p95, queries, bytes | "
        f"{cached['server_ms']['p50']:.2f} / {cached['server_ms']['p95']:.2f} ms, {cached['queries']:g}, "
        f"{cached['bytes']} |",
        "",
        "The harness plays the browser: the start with a new cookie jar, the provider's answer "
        "(`SamlProvider.sign_in`, in-process: no HTTP), the ACS posted **without** the session cookie (a "
        "cross-site POST, `SameSite=Lax`), the finish posted as a browser submits the ACS's page: its form's "
        "action and fields as they stand (no CSRF token: the page renders none and the finish asks for none), "
        "with the session cookie and this site's `Origin`. Before any figure each of "
        f"{results['settings']['accounts']} accounts signs in twice (a signup, then a login, both checked), so "
        "every measured finish is a returning user's. Outbound calls: the requests the provider's HTTP server "
        "received while the ACS and the finish ran, and the connections the server opened "
        f"(`X-Outbound-Connects`). The SP metadata: {full['requests']} requests without a validator, then "
        f"{cached['requests']} with the ETag the first one gave (`Cache-Control: {full['cache_control']}`). "
        f"Other work on the host during the SAML logins: {saml['other_work_cores']:.2f} cores.",
        "",
    ]


def package_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_SIGNIN_DATABASE_URL",
                        "postgres://root@127.0.0.1:5432/bench_signin"))  # fmt: skip
    parser.add_argument("--logins", type=int, default=60, help="Logins per side per round, one at a time (60).")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8.0, help="Seconds of logins under load per side per round.")
    parser.add_argument("--concurrency", type=int, default=4, help="Browsers signing in at once (4).")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server (2).")
    parser.add_argument(
        "--quick", action="store_true", help="A smoke test: few logins, short rounds, no files written."
    )
    args = parser.parse_args()
    if args.quick:
        global ACCOUNTS
        args.logins, args.rounds, args.seconds, ACCOUNTS = 10, 1, 2.0, 8
    started = time.monotonic()
    allauth_url = args.database_url + "_allauth"
    env = {
        **environment(args.database_url),
        "DJANGO_SETTINGS_MODULE": "bench.settings_signin",
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",  # whitenoise: no collectstatic, no static files asked
    }
    os.environ.update(env)
    for url in (args.database_url, allauth_url):
        recreate_database(url)

    import django

    django.setup()
    migrate(env, "bench.settings_signin")
    available = product_signin_available()
    if not available:
        print("product sign-in not available (no /signin/ in the product's URLs): measuring allauth alone", flush=True)
    saml_available = available and product_saml_available()
    migrate({**env, "DATABASE_URL": allauth_url}, "bench.settings_allauth")

    servers = []
    saml_results = None
    with running_oidc_provider() as idp, contextlib.ExitStack() as stack:
        saml_idp = None
        if saml_available:
            try:
                saml_idp = stack.enter_context(running_saml_provider())
            except SamlProviderError as error:
                print(f"SAML not measured: {error}", flush=True)
        try:
            ports = {"allauth": free_port(), "product": free_port()}
            allauth_env = {**env, "DATABASE_URL": allauth_url, "DJANGO_SETTINGS_MODULE": "bench.settings_allauth",
                           "BENCH_OIDC_ISSUER": idp.issuer}  # fmt: skip
            servers.append(start_gunicorn(allauth_env, ports["allauth"], args.workers))
            pids = {"allauth": servers[-1].pid}
            variants = [Variant("allauth", ports["allauth"], ALLAUTH_START, ALLAUTH_CALLBACK)]
            if available:
                create_product_identity_provider(idp.issuer)
                if saml_idp is not None:
                    create_product_saml_identity_provider(saml_idp)
                servers.append(start_gunicorn(env, ports["product"], args.workers))
                pids["product"] = servers[-1].pid
                variants.append(Variant("product", ports["product"], PRODUCT_START, PRODUCT_CALLBACK))
            set_up_provider(idp, variants)
            print(f"Test provider {idp.issuer}; first logins", flush=True)
            first_logins(idp, variants)
            if saml_idp is not None:
                served = set_up_saml_provider(saml_idp, ports["product"])
                print(f"SAML: test identity provider {saml_idp.entity_id}; first logins", flush=True)
                saml_first_logins(ports["product"], saml_idp, served)
            print(f"Latency: {args.rounds} rounds of {args.logins} logins per side, one at a time"
                  + (", then as many by SAML" if saml_idp is not None else ""), flush=True)  # fmt: skip
            roots = {"provider": idp.process.pid, **{f"app {name}": pid for name, pid in pids.items()}}
            logins: dict[str, list[Login]] = {variant.name: [] for variant in variants}
            saml_batches: list[dict] = []
            latency_other, latency_seconds = 0.0, 0.0
            for round_number in range(args.rounds):
                cpu_before, latency_started = cpu_seconds(roots), time.perf_counter()
                for name, items in latency(idp, variants, rounds=1, logins=args.logins).items():
                    logins[name] += items
                latency_other += cpu_per_part(cpu_before, cpu_seconds(roots))["other processes"]
                latency_seconds += time.perf_counter() - latency_started
                if saml_idp is not None:  # the same round's conditions for the SAML logins
                    saml_batches.append(
                        saml_batch(saml_idp, ports["product"], served, logins=args.logins,
                                   offset=round_number * args.logins, server_pid=pids["product"])
                    )  # fmt: skip
            latency_other /= latency_seconds
            print(
                f"Throughput: {args.rounds} rounds of {args.seconds} s per side, {args.concurrency} browsers",
                flush=True,
            )
            runs: dict[str, list[dict]] = {variant.name: [] for variant in variants}
            for _ in range(args.rounds):
                for variant in variants:
                    runs[variant.name].append(
                        throughput(idp, variant, seconds=args.seconds, concurrency=args.concurrency,
                                   server_pid=pids[variant.name])
                    )  # fmt: skip
            if saml_idp is not None:
                print(f"SAML: SP metadata, {args.logins} requests without and with If-None-Match", flush=True)
                items = [item for batch in saml_batches for item in batch["items"]]
                other = sum(b["other_cpu_s"] for b in saml_batches) / sum(b["seconds"] for b in saml_batches)
                saml_results = {**saml_row(items, saml_metadata(ports["product"], args.logins)),
                                "other_work_cores": round(other, 2)}  # fmt: skip
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
        node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    all_runs = [run for variant_runs in runs.values() for run in variant_runs]
    throughput_other = sum(run["cpu"]["other processes"] for run in all_runs) / sum(run["seconds"] for run in all_runs)
    oidc_package = json.loads((Path(SERVER_DIR) / "node_modules" / "oidc-provider" / "package.json").read_text())
    results = {
        "command": "python -m bench.signin " + " ".join(sys.argv[1:]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "node": node,
        "oidc_provider": oidc_package["version"],
        "allauth": package_version("django-allauth"),
        "product": {"start": PRODUCT_START, "callback": PRODUCT_CALLBACK} if available else None,
        "settings": {
            "logins": args.logins,
            "rounds": args.rounds,
            "seconds": args.seconds,
            "concurrency": args.concurrency,
            "workers": args.workers,
            "accounts": ACCOUNTS,
        },
        "latency": {name: latency_row(items) for name, items in logins.items()},
        "throughput": {name: throughput_row(items) for name, items in runs.items()},
        # SAML 2.0, the product alone: ACS and finish of a returning user, the SP metadata.
        "saml": saml_results,
        # Cores busy with work other than the benchmark's, on average (of os.cpu_count()).
        "other_work_cores": {"latency": round(latency_other, 2), "throughput": round(throughput_other, 2)},
    }
    results["seconds"] = round(time.monotonic() - started)
    print_table(results)
    print()
    print("\n".join(targets(results)))
    if results["saml"]:
        print_saml(results["saml"])
        print()
        print("\n".join(saml_targets(results["saml"])))
    if not available:
        print("\nproduct sign-in not available")
    if args.quick:
        return
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    REPORT.write_text(report(results))
    print(f"\nWrote {RESULTS.relative_to(ROOT)} and {REPORT.relative_to(ROOT)} in {results['seconds']} s", flush=True)


if __name__ == "__main__":
    main()
