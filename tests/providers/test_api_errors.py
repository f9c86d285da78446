"""Bad input gets a 4xx JSON error naming the field, never a 500, and nothing is half-written."""

import copy
import json

import pytest
from django.contrib.admin.models import LogEntry

from providers.models import Credential, Provider
from providers.services import credential_content
from tests.bodies import git_provider_body
from tests.factories import ProviderFactory

PROVIDERS = "/api/backend/providers"

VALID = git_provider_body(
    "acme-gh",
    label="ACME GitHub",
    urls={"base": "https://github.acme.test", "apiBase": "https://github.acme.test/api/v3"},
    token="ghp-valid",
)


def without(*path):
    body = copy.deepcopy(VALID)
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


def with_(path, value):
    body = copy.deepcopy(VALID)
    target = body
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    return body


BAD_CREATES = [
    ("missing id", without("id"), "id"),
    ("missing label", without("label"), "label"),
    ("missing type", without("type"), "type"),
    ("missing credentials", without("credentials"), "credentials"),
    ("missing credential type", without("credentials", "type"), "credentials.type"),
    ("missing credential content", without("credentials", "content"), "credentials.content"),
    ("unknown credential type", with_("credentials.type", "oauth"), "credentials.type"),
    ("token without accessToken", with_("credentials.content", {}), "credentials.content.accessToken"),
    (
        "token with empty accessToken",
        with_("credentials.content", {"accessToken": ""}),
        "credentials.content.accessToken",
    ),
    (
        "token with an extra field",
        with_("credentials.content", {"accessToken": "x", "password": "y"}),
        "credentials.content.password",
    ),
    (
        "userPass without password",
        with_("credentials", {"type": "userPass", "content": {"userName": "svc"}}),
        "credentials.content.password",
    ),
    (
        "userPass without userName",
        with_("credentials", {"type": "userPass", "content": {"password": "p"}}),
        "credentials.content.userName",
    ),
    (
        "userPass given a token",
        with_("credentials", {"type": "userPass", "content": {"accessToken": "t"}}),
        "credentials.content.accessToken",
    ),
    (
        "content value not a string",
        with_("credentials.content", {"accessToken": 12345}),
        "credentials.content.accessToken",
    ),
    ("content value null", with_("credentials.content", {"accessToken": None}), "credentials.content.accessToken"),
    ("content not an object", with_("credentials.content", "ghp-x"), "credentials.content"),
    ("credentials not an object", with_("credentials", "ghp-x"), "credentials"),
    ("credentials unknown key", with_("credentials.scope", "repo"), "credentials.scope"),
    ("base not a URL", with_("urls.base", "not a url"), "urls.base"),
    ("apiBase with ftp scheme", with_("urls.apiBase", "ftp://files.acme.test"), "urls.apiBase"),
    ("javascript URL", with_("urls.base", "javascript:alert(1)"), "urls.base"),
    ("baseUrl not a URL", with_("urls", {"baseUrl": "nope"}), "urls.base"),
    ("urls a list", with_("urls", ["https://a.test"]), "urls"),
    ("urls unknown key", with_("urls", {"baseURL": "https://a.test"}), "urls.baseURL"),
    ("base and baseUrl differ", with_("urls", {"base": "https://a.test", "baseUrl": "https://b.test"}), "urls.baseUrl"),
    ("label too long", with_("label", "x" * 201), "label"),
    ("id too long", with_("id", "x" * 65), "id"),
    ("description too long", with_("description", "x" * 2001), "description"),
    ("token too long", with_("credentials.content.accessToken", "x" * 16385), "credentials.content.accessToken"),
    ("URL too long", with_("urls.base", "https://a.test/" + "x" * 500), "urls.base"),
    ("empty label", with_("label", ""), "label"),
    ("label a number", with_("label", 42), "label"),
    ("label null", with_("label", None), "label"),
    ("label an object", with_("label", {"en": "x"}), "label"),
    ("enabled a string", with_("enabled", "yes"), "enabled"),
    ("enabled a number", with_("enabled", 1), "enabled"),
    ("type a number", with_("type", 1), "type"),
    ("unknown type", with_("type", "svn"), "type"),
    ("id a number", with_("id", 7), "id"),
    ("id with a space", with_("id", "my provider"), "id"),
    ("id with a slash", with_("id", "a/b"), "id"),
    ("id starting with a dash", with_("id", "-gh"), "id"),
    ("id with unicode", with_("id", "gïthub"), "id"),
    ("reserved id", with_("id", "export"), "id"),
    ("NUL in label", with_("label", "a\x00b"), "label"),
    ("NUL in id", with_("id", "a\x00b"), "id"),
    ("NUL in description", with_("description", "a\x00b"), "description"),
    ("NUL in token", with_("credentials.content.accessToken", "a\x00b"), "credentials.content.accessToken"),
    ("NUL in URL", with_("urls.base", "https://a.test/\x00"), "urls.base"),
    ("NUL in a content key", with_("credentials.content", {"accessToken": "t", "a\x00": "b"}), None),
    ("unknown top-level field", with_("homepage", "https://x.test"), "homepage"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("name,body,field", BAD_CREATES, ids=[case[0] for case in BAD_CREATES])
def test_bad_create_is_400_naming_the_field(operator_client, name, body, field):
    response = operator_client.post(PROVIDERS, body, format="json")

    assert response.status_code == 400, response.content
    errors = response.json()
    if field is not None:
        assert field in errors, errors
        assert all(isinstance(message, str) for message in errors[field])
    assert Provider.objects.count() == 0
    assert Credential.objects.count() == 0
    assert LogEntry.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name,raw,content_type,status",
    [
        ("malformed JSON", b'{"id": "x",', "application/json", 400),
        ("a JSON list", b"[1, 2]", "application/json", 400),
        ("a JSON string", b'"provider"', "application/json", 400),
        ("empty body", b"", "application/json", 400),
        ("NaN", b'{"id": NaN}', "application/json", 400),
        ("deeply nested", b'{"label": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json", 400),
        ("form-encoded", b"id=x&label=y", "application/x-www-form-urlencoded", 415),
        ("plain text", b"hello", "text/plain", 415),
        ("invalid UTF-8", b'{"label": "\xff\xfe"}', "application/json", 400),
    ],
)
def test_unparseable_bodies_are_4xx(operator_client, name, raw, content_type, status):
    response = operator_client.generic("POST", PROVIDERS, raw, content_type=content_type)

    assert response.status_code == status, response.content
    assert isinstance(response.json(), dict) and response.json()
    assert Provider.objects.count() == 0


@pytest.mark.django_db
def test_huge_body_is_refused_without_writing(operator_client):
    body = json.dumps({**VALID, "description": "x" * 3_000_000})

    response = operator_client.generic("POST", PROVIDERS, body, content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "larger than the 2621440 bytes" in response.json()["detail"]
    assert Provider.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body,field",
    [
        ({"label": None}, "label"),
        ({"label": ""}, "label"),
        ({"enabled": "false"}, "enabled"),
        ({"urls": {"base": "nope"}, "credentials": {"type": "token", "content": {"accessToken": "t2"}}}, "urls.base"),
        ({"label": "Changed", "credentials": {"type": "token", "content": {}}}, "credentials.content.accessToken"),
        ({"label": "Changed", "credentials": {"type": "nope", "content": {"accessToken": "t2"}}}, "credentials.type"),
        ({"label": "Changed", "urls": {"apiBase": "https://moved.test"}}, "credentials"),
        ({"type": "gitlab", "urls": {"base": "https://gl.test"}}, "credentials"),
        ({"createdBy": "mallory"}, "createdBy"),
    ],
)
def test_bad_patch_is_400_and_changes_nothing(operator_client, body, field):
    provider = ProviderFactory(provider_id="gh", label="Original", credential__content={"accessToken": "original"})

    response = operator_client.patch(f"{PROVIDERS}/gh", body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    provider.refresh_from_db()
    assert provider.label == "Original"
    assert provider.enabled is True
    assert provider.base_url == "https://github.com"
    assert credential_content(provider=provider) == {"accessToken": "original"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path,status",
    [
        ("/api/backend/providers/%00", 400),
        ("/api/backend/projects/%00", 400),
        ("/api/backend/providers/a%2Fb", 404),
        ("/api/backend/providers/a%20b", 404),
        ("/api/no-such-endpoint", 404),
    ],
)
def test_odd_paths_get_json_errors(operator_client, path, status):
    response = operator_client.get(path)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()


@pytest.mark.django_db
def test_lone_surrogates_are_400_not_500(operator_client):
    raw = b'{"id": "x", "label": "\\ud800", "type": "github"}'
    for body in (raw, b'{"\\ud800": 1}', b'{"credentials": {"type": "\\udfff"}}'):
        response = operator_client.generic("POST", PROVIDERS, body, content_type="application/json")
        assert response.status_code == 400, body
        assert "Unicode" in response.json()["detail"]
    assert Provider.objects.count() == 0


@pytest.mark.django_db
def test_invalid_choices_are_not_echoed(operator_client):
    body = {**VALID, "type": "secret-looking-value", "credentials": {"type": "ghp_leaked", "content": {}}}

    response = operator_client.post(PROVIDERS, body, format="json")

    assert response.status_code == 400
    assert "secret-looking-value" not in response.content.decode()
    assert "ghp_leaked" not in response.content.decode()
    assert "expected one of" in response.json()["type"][0]


@pytest.mark.django_db
def test_invalid_cursor_is_404_not_500(operator_client):
    response = operator_client.get(f"{PROVIDERS}?cursor=not-a-cursor")

    assert response.status_code == 404
    assert response.json()["detail"] == "Invalid cursor"
