"""Requests Django refuses before any view — a body over the upload limit, too many form fields, a
Host that is not allowed — get the documented answers (413 JSON; 400 JSON under /api/, a plain 400
page elsewhere), never Django's debug page, which lists the settings and the environment: in the
test client with DEBUG on, and from real servers started with each settings module."""

import re
import sys

import pytest
from django.test import Client
from django.views.debug import ExceptionReporter

from tests.servers import serve

LIMIT = 2_621_440  # DATA_UPLOAD_MAX_MEMORY_SIZE, Django's default
TOO_LARGE = b"a=" + b"x" * 3_000_000
TOO_MANY_FIELDS = "&".join(f"f{n}=1" for n in range(1_100)).encode()
FORM = "application/x-www-form-urlencoded"
CANARY_PASSWORD = "canary-db-password-7f3a"
CANARY_ENV = {"CANARY_DATABASE_URL": f"postgres://registry:{CANARY_PASSWORD}@db.internal:5432/registry"}
DEBUG_PAGE_MARKERS = ("Traceback", "DJANGO_SETTINGS_MODULE", "You're seeing this error")


def assert_not_the_debug_page(body: bytes) -> None:
    text = body.decode(errors="replace")
    assert len(body) < 1_000, text[:300]
    assert CANARY_PASSWORD not in text
    assert not any(marker in text for marker in DEBUG_PAGE_MARKERS), text[:300]


@pytest.fixture
def debug_client(settings, db):
    settings.DEBUG = True
    return Client()


@pytest.mark.parametrize("path", ["/admin/login/", "/api/backend/providers", "/api/identity_providers"])
def test_a_body_over_the_limit_is_413_json_with_debug_on(debug_client, path):
    response = debug_client.post(path, TOO_LARGE, content_type=FORM)

    assert response.status_code == 413
    assert response["Content-Type"].split(";")[0] in ("application/json", "application/vnd.api+json")
    assert f"larger than the {LIMIT} bytes" in response.content.decode()
    assert_not_the_debug_page(response.content)


def test_a_json_body_over_the_limit_is_413_json_with_debug_on(debug_client):
    response = debug_client.post(
        "/api/backend/providers", b'{"a": "' + b"x" * 3_000_000 + b'"}', content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json() == {"detail": f"The request body is larger than the {LIMIT} bytes the server accepts."}


def test_too_many_form_fields_is_a_plain_400_with_debug_on(debug_client):
    form = debug_client.post("/admin/login/", TOO_MANY_FIELDS, content_type=FORM)
    query = debug_client.get("/admin/login/?" + TOO_MANY_FIELDS.decode())
    api = debug_client.post("/api/backend/providers", TOO_MANY_FIELDS, content_type=FORM)

    assert (form.status_code, query.status_code, api.status_code) == (400, 400, 400)
    assert form["Content-Type"].startswith("text/html") and b"Bad Request (400)" in form.content
    assert query["Content-Type"].startswith("text/html")
    assert api.json() == {"detail": "Bad request."}
    for response in (form, query, api):
        assert_not_the_debug_page(response.content)


def test_a_host_not_allowed_is_a_plain_400_and_json_under_the_api_with_debug_on(debug_client):
    page = debug_client.get("/admin/login/", HTTP_HOST="attacker.test")
    api = debug_client.get("/api/backend/providers", HTTP_HOST="attacker.test")
    jsonapi = debug_client.get("/api/identity_providers", HTTP_HOST="attacker.test")

    assert (page.status_code, api.status_code, jsonapi.status_code) == (400, 400, 400)
    assert page["Content-Type"].startswith("text/html") and b"Bad Request (400)" in page.content
    assert api.json() == {"detail": "Bad request."}
    assert jsonapi.json()["errors"][0]["status"] == "400"
    for response in (page, api, jsonapi):
        assert_not_the_debug_page(response.content)


# Each settings module as it is served: `make run` (local, DEBUG on), `make serve` (production,
# gunicorn; with DEBUG forced on too, which must change nothing), and the test settings.
SERVERS = [
    ("config.settings.local", "runserver", {}),
    ("config.settings.production", "gunicorn", {"DJANGO_SECURE_SSL_REDIRECT": "false"}),
    ("config.settings.production", "gunicorn", {"DJANGO_SECURE_SSL_REDIRECT": "false", "DJANGO_DEBUG": "true"}),
    ("config.settings.test", "runserver", {"DJANGO_DEBUG": "true"}),
]


@pytest.mark.parametrize("settings_module,server,env", SERVERS, ids=["local", "production", "production-debug", "test"])
def test_real_servers_never_answer_the_debug_page(settings_module, server, env):
    with serve(settings_module, server=server, env={**CANARY_ENV, **env}) as running:
        too_large = running.request("POST", "/admin/login/", TOO_LARGE, {"Content-Type": FORM})
        too_many = running.request("POST", "/admin/login/", TOO_MANY_FIELDS, {"Content-Type": FORM})
        bad_host = running.request("GET", "/admin/login/", headers={"Host": "attacker.test"})
        bad_host_api = running.request("GET", "/api/backend/providers", headers={"Host": "attacker.test"})

    assert (too_large.status, too_large.content_type) == (413, "application/json")
    assert f"larger than the {LIMIT} bytes".encode() in too_large.body
    assert (too_many.status, too_many.content_type) == (400, "text/html")
    assert (bad_host.status, bad_host.content_type) == (400, "text/html")
    assert (bad_host_api.status, bad_host_api.content_type) == (400, "application/json")
    for answer in (too_large, too_many, bad_host, bad_host_api):
        assert_not_the_debug_page(answer.body)


def exception_report(request) -> str:
    try:
        raise RuntimeError("report check")
    except RuntimeError:
        return ExceptionReporter(request, *sys.exc_info()).get_traceback_html()


def test_the_debug_page_masks_credentials_in_url_valued_settings_and_variables(settings, rf):
    settings.DEBUG = True
    settings.SENTRY_DSN = "https://sentry-public-key-1a2b@o0.ingest.sentry.test/1"
    settings.BROKER_URL = "amqp://guest:broker-password-3c4d@mq.internal:5672//"
    settings.MESSAGE_BROKER = "amqp://guest:broker-password-3c4d@mq.internal:5672//"
    settings.UPSTREAMS = ["redis://:list-password-5e6f@cache.internal:6379/0", "https://plain.example.test/"]
    request = rf.get(
        "/crash",
        DATABASE_URL="postgres://registry:database-password-7a8b@db.internal:5432/registry",
        ANALYTICS_ENDPOINT="https://reporter:analytics-password-9c0d@analytics.test/collect",
        CACHE_URL="redis://cache-token-1e2f@cache.internal:6379/1",
    )

    page = exception_report(request)

    for secret in (
        "sentry-public-key-1a2b",
        "broker-password-3c4d",
        "list-password-5e6f",
        "database-password-7a8b",
        "analytics-password-9c0d",
        "cache-token-1e2f",
    ):
        assert secret not in page
    assert "db.internal:5432/registry" in page  # the rest of the URL stays, for the developer
    assert re.search(r"amqp://\*+@mq\.internal", page)  # BROKER_URL: named as a URL, the whole user part goes
    assert re.search(r"amqp://guest:\*+@mq\.internal", page)  # MESSAGE_BROKER: the password goes
    assert re.search(r"https://reporter:\*+@analytics\.test", page)
    assert "https://plain.example.test/" in page
