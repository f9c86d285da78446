"""The "canary secret" proof for Django's technical 500 reports: a crash while a request carries
credentials reports neither the request data nor the secrets in frame variables. The helpers come
from tests/canary/ so all canary proofs search the same way."""

import json
import sys
from dataclasses import dataclass

from django.test import Client
from django.urls import reverse
from django.views.debug import ExceptionReporter

from accounts.services import api_token_create
from providers.models import IdentityProvider
from tests.canary.identity_flows import canonical_body, jsonapi_document, public_body
from tests.canary.lifecycle_flows import (
    PROVIDERS,
    USER_NAME,
    Canaries,
    EchoProvider,
    admin_form,
    provider_urls,
    store_token_provider,
)
from tests.canary.search import assert_no_leak, find_leaks
from tests.conftest import client_for


def injected_failure(*args, **kwargs):
    """Stands in for a service step that crashes; keeps no arguments, so no secret sits in its frame."""
    del args, kwargs
    raise RuntimeError("injected failure")


def fresh_exc_info():
    """An exception raised here, with no locals: a report of it shows the request and nothing else."""
    try:
        raise RuntimeError("report check")
    except RuntimeError:
        return sys.exc_info()


@dataclass
class Crash:
    label: str
    request: object
    exc_info: tuple
    secrets: list[str]


def crash_requests(operator, httpserver, monkeypatch, caplog) -> list[Crash]:
    """Requests carrying canaries (admin form posts, API JSON bodies) that end in an unexpected
    exception deep in the services, as a bug or a lost database connection would; Django logs each
    with its request, which is what an error mail or an error tracker turns into a report."""
    canaries = Canaries()
    EchoProvider(httpserver)
    token_provider = store_token_provider(operator, httpserver, canaries, "crash-gh")
    _, api_token = api_token_create(user=operator, name="crash")
    api = client_for(None)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")
    api.raise_request_exception = False
    admin = Client(raise_request_exception=False)
    admin.force_login(operator)

    crashes: list[Crash] = []

    def crashed(label: str, response, secrets: list[str]) -> None:
        assert response.status_code == 500, (label, response.status_code, response.content[:300])
        records = [r for r in caplog.records if r.name == "django.request" and r.levelname == "ERROR" and r.exc_info]
        assert records, label
        crashes.append(Crash(label, records[-1].request, records[-1].exc_info, [*secrets, api_token]))
        caplog.clear()

    monkeypatch.setattr("providers.services.credentials.credential_fingerprint", injected_failure)

    # The admin change form with every secret input filled in (form-encoded POST).
    secret_inputs = {
        "access_token": canaries.secret("form-token"),
        "password": canaries.secret("form-password"),
        "client_secret": canaries.secret("form-client-secret"),
        "private_key": canaries.pem(),
    }
    change = admin_form(
        "crash-gh", "github", httpserver, "token", {}, user_name=USER_NAME, app_id="1", installation_id="2"
    )
    change.update(secret_inputs)
    change_url = reverse("admin:providers_provider_change", args=[token_provider.pk])
    crashed("admin change POST", admin.post(change_url, change), canaries.unique)
    add = admin_form("crash-add", "github", httpserver, "githubApp", canaries.content("githubApp", token_url=""))
    crashed("admin add POST", admin.post(reverse("admin:providers_provider_add"), add), canaries.unique)

    # API JSON bodies.
    body = {
        "id": "crash-api",
        "label": "Crash",
        "type": "bitbucket",
        "urls": provider_urls(httpserver, "crash-api"),
        "credentials": {
            "type": "oauth2ClientCredentials",
            "content": canaries.content("oauth2ClientCredentials", token_url="https://login.canary.test/token"),
        },
    }
    crashed("API POST (JSON body)", api.post(PROVIDERS, body, format="json"), canaries.unique)
    rotate = {"credentials": {"type": "token", "content": canaries.content("token", token_url="")}}
    crashed("API PATCH rotate (JSON body)", api.patch(f"{PROVIDERS}/crash-gh", rotate, format="json"), canaries.unique)
    monkeypatch.undo()

    # Identity providers: a client secret in each dialect's body, the service crashing on it.
    monkeypatch.setattr(IdentityProvider, "fill_from_preset", injected_failure)
    client_secret = canaries.secret("idp-client-secret")
    bodies = [
        ("API canonical identity POST", "/api/identity-providers", canonical_body("crash-oidc", client_secret), None),
        ("API /api/idps POST", "/api/idps", public_body("crash-oauth", client_secret), None),
        (
            "API JSON:API POST",
            "/api/identity_providers",
            jsonapi_document("Crash JSON:API", client_secret, "crash.test"),
            "application/vnd.api+json",
        ),
    ]
    for label, path, body, media_type in bodies:
        if media_type:
            response = api.generic("POST", path, json.dumps(body), content_type=media_type, HTTP_ACCEPT=media_type)
        else:
            response = api.post(path, body, format="json")
        crashed(label, response, canaries.unique)
    monkeypatch.undo()

    # Test connection crashing on the way out (the secret is in the request headers by then).
    monkeypatch.setattr("providers.connection.fetch", injected_failure)
    crashed("API POST test", api.post(f"{PROVIDERS}/crash-gh/test"), canaries.unique)
    action = {"action": "test_connection", "confirmed": "yes", "_selected_action": [token_provider.pk], "index": "0"}
    crashed("admin test action", admin.post(reverse("admin:providers_provider_changelist"), action), canaries.unique)
    monkeypatch.undo()
    return crashes


def report_surfaces(crash: Crash, exc_info) -> list[tuple[str, str]]:
    surfaces = []
    for is_email in (False, True):
        reporter = ExceptionReporter(crash.request, *exc_info, is_email=is_email)
        kind = "mail" if is_email else "page"
        surfaces.append((f"{crash.label}: technical 500 text ({kind})", reporter.get_traceback_text()))
        surfaces.append((f"{crash.label}: technical 500 HTML ({kind})", reporter.get_traceback_html()))
    return surfaces


def test_exception_reports_hide_the_request_data(operator, httpserver, monkeypatch, caplog, settings):
    """The request part of a report (POST, body, META, cookies) of requests that carried secrets:
    the admin's sensitive_post_parameters() masks the form; an API request's JSON body is not in
    the report at all (DRF has consumed the stream, and the report lists POST/FILES/META only);
    the bearer API token is masked by Django's META cleansing."""
    assert settings.DEBUG is False  # the filters are only active with DEBUG off, as in production
    crashes = crash_requests(operator, httpserver, monkeypatch, caplog)

    assert len(crashes) == 9
    for crash in crashes:
        surfaces = report_surfaces(crash, fresh_exc_info())
        text = surfaces[0][1]
        assert "report check" in text and f"Request Method: {crash.request.method}" in text, text[:2000]
        if crash.label.startswith("admin"):
            assert "********************" in text, "the admin form's inputs should be masked"
        assert_no_leak(surfaces, crash.secrets)


def test_exception_reports_hide_secrets_in_frame_variables(operator, httpserver, monkeypatch, caplog, settings):
    assert settings.DEBUG is False
    crashes = crash_requests(operator, httpserver, monkeypatch, caplog)

    leaks = []
    for crash in crashes:
        reporter = ExceptionReporter(crash.request, *crash.exc_info)
        for frame in reporter.get_traceback_frames():
            for name, value in frame["vars"]:
                if find_leaks([("", repr(value))], crash.secrets):
                    leaks.append(f"{crash.label}: {frame['filename']}:{frame['lineno']} {frame['function']}() {name}")
        leaks += find_leaks(report_surfaces(crash, crash.exc_info), crash.secrets)
    assert not leaks, "secret in a technical 500 report:\n" + "\n".join(leaks)
