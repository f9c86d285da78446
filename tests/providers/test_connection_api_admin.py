"""Test connection as the API and the admin offer it: the last result in the reads, the audit
event, who may test (endpoint and admin action), the changelist's result column and the OpenAPI
description of the endpoint."""

import pytest
from django.urls import reverse

from providers.models import AuditEvent
from tests.conftest import client_for
from tests.providers.connection_helpers import PROVIDERS, PROVIDERS_CHANGELIST, answer_github_user, github


def test_reads_show_the_last_test(httpserver, operator_client):
    answer_github_user(httpserver)
    provider = github(httpserver)
    updated_at = provider.updated_at

    before = operator_client.get(f"{PROVIDERS}/gh").json()
    tested = operator_client.post(f"{PROVIDERS}/gh/test").json()
    detail = operator_client.get(f"{PROVIDERS}/gh").json()
    listed = operator_client.get(PROVIDERS).json()["results"]

    assert before["lastTest"] == {"ok": None, "at": None, "message": ""}
    expected = {"ok": True, "at": tested["testedAt"], "message": "Connected as octocat."}
    assert detail["lastTest"] == expected
    assert [row["lastTest"] for row in listed if row["id"] == "gh"] == [expected]
    provider.refresh_from_db()
    assert provider.updated_at == updated_at
    assert provider.last_test_ok is True


def test_the_test_is_audited(httpserver, operator, operator_client):
    answer_github_user(httpserver)
    github(httpserver)
    github(httpserver, provider_id="gh-bad", credential__content={"accessToken": "wrong-token-value"})

    operator_client.post(f"{PROVIDERS}/gh/test")
    operator_client.post(f"{PROVIDERS}/gh-bad/test")

    events = AuditEvent.objects.filter(action="test").order_by("id")
    assert [(e.object_id, e.ok, e.actor, e.source) for e in events] == [
        ("gh", True, operator, "api"),
        ("gh-bad", False, operator, "api"),
    ]
    assert events[1].detail == "The provider rejected the credentials (HTTP 401)."


@pytest.mark.parametrize(("who", "status"), [("operator", 200), ("owner", 403), ("anonymous", 401)])
def test_testing_needs_the_change_permission(db, httpserver, request, who, status):
    answer_github_user(httpserver)
    provider = github(httpserver)
    user = None if who == "anonymous" else request.getfixturevalue(who)

    response = client_for(user).post(f"{PROVIDERS}/gh/test")

    assert response.status_code == status
    provider.refresh_from_db()
    assert (provider.last_tested_at is not None) is (status == 200)
    assert len(httpserver.log) == (1 if status == 200 else 0)


def test_unknown_provider_is_404(operator_client):
    assert operator_client.post(f"{PROVIDERS}/nope/test").status_code == 404


def test_admin_action_tests_each_provider_and_the_changelist_shows_the_result(httpserver, client, operator):
    answer_github_user(httpserver)
    good = github(httpserver, label="Main GitHub")
    bad = github(
        httpserver, provider_id="gh-bad", label="Old GitHub", credential__content={"accessToken": "wrong-token-value"}
    )
    untested = github(httpserver, provider_id="gh-untested")
    client.force_login(operator)

    response = client.post(
        PROVIDERS_CHANGELIST,
        {"action": "test_connection", "confirmed": "yes", "_selected_action": [good.pk, bad.pk], "index": 0},
    )
    page = client.get(response["Location"]).content.decode()

    assert response.status_code == 302
    assert '<li class="success">Main GitHub (gh): Connected as octocat.</li>' in page
    assert '<li class="warning">Old GitHub (gh-bad): The provider rejected the credentials (HTTP 401).</li>' in page
    rows = {
        provider.provider_id: row
        for provider in (good, bad, untested)
        for row in page.split("<tr")
        if f">{provider.provider_id}</a>" in row
    }
    assert 'class="field-last_test"><span title="Connected as octocat.">✓ ' in rows["gh"]
    rejected = "The provider rejected the credentials (HTTP 401)."
    assert f'class="field-last_test"><span title="{rejected}">✗ ' in rows["gh-bad"]
    assert 'class="field-last_test">—<' in rows["gh-untested"]
    untested.refresh_from_db()
    assert untested.last_tested_at is None
    change_page = client.get(reverse("admin:providers_provider_change", args=[bad.pk])).content.decode()
    assert "Last connection test" in change_page
    assert "failed at " in change_page


def test_admin_action_needs_the_change_permission(httpserver, client, owner):
    answer_github_user(httpserver)
    provider = github(httpserver)
    client.force_login(owner)

    client.post(
        PROVIDERS_CHANGELIST,
        {"action": "test_connection", "confirmed": "yes", "_selected_action": [provider.pk], "index": 0},
    )

    provider.refresh_from_db()
    assert provider.last_tested_at is None
    assert httpserver.log == []


def test_openapi_schema_describes_the_test_endpoint():
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/schema/?format=json").json()

    operation = schema["paths"]["/api/backend/providers/{providerId}/test"]["post"]
    assert {"200", "401", "403", "404"} <= set(operation["responses"])
    assert "requestBody" not in operation
