"""Export, plan and apply against each other: an export plans as no change, applies to an empty
workspace (secrets by reference) into the same state, and a second apply writes nothing."""

import json

import pytest
import yaml

from providers.models import AuditEvent, IdentityProvider, IdentityProviderMapper, Project, Provider

from .helpers import GITHUB_TOKEN, OKTA_SECRET, apply, exported, plan, workspace

pytestmark = pytest.mark.django_db


def test_two_exports_of_the_same_state_are_byte_identical(acme):
    first = exported(acme)
    assert first == exported(acme)
    assert exported(acme, fmt="json") == exported(acme, fmt="json")


def test_the_export_names_fields_as_the_api_and_sorts_objects(acme):
    document = yaml.safe_load(exported(acme))
    assert document["version"] == 1
    assert document["workspace"] == "acme"
    assert [p["id"] for p in document["providers"]] == ["github-cloud"]
    assert [i["alias"] for i in document["identityProviders"]] == ["corp-saml", "okta"]
    assert [p["id"] for p in document["projects"]] == ["data-pipeline", "payments-api"]
    okta = document["identityProviders"][1]
    assert okta["provider_id"] == "oidc"
    assert okta["known_provider"] == "okta"
    assert okta["oidc_config"]["issuer"] == "https://acme.okta.com/oauth2/default"
    assert okta["domains"] == ["acme.test"]
    assert [m["name"] for m in okta["mappers"]] == ["email", "department"]  # the order they apply
    assert document["providers"][0]["urls"] == {"base": "https://github.com", "apiBase": "https://api.github.com"}
    assert document["projects"][1]["repository"] == {"providerId": "github-cloud", "path": "acme/pay"}


def test_the_json_export_is_the_same_document(acme):
    text = exported(acme, fmt="json")
    assert json.loads(text) == yaml.safe_load(exported(acme))
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_no_secret_is_exported(acme):
    for fmt in ("yaml", "json"):
        for refs in (None, "env"):
            text = exported(acme, fmt=fmt, secret_refs=refs)
            assert GITHUB_TOKEN not in text
            assert OKTA_SECRET not in text
            assert ("IDP_OKTA_CLIENT_SECRET" in text) == (refs == "env")


def test_an_export_plans_as_no_change(acme):
    result = plan(acme, exported(acme))
    assert result.errors == []
    assert result.changes == []
    assert result.exit_code == 0
    assert result.counts()["unchanged"] == 5


def test_export_applied_to_an_empty_workspace_gives_the_same_state(acme, monkeypatch):
    monkeypatch.setenv("PROVIDER_GITHUB_CLOUD_ACCESSTOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("IDP_OKTA_CLIENT_SECRET", OKTA_SECRET)
    text = exported(acme, secret_refs="env")
    empty = workspace("empty")
    first = apply(empty, text.replace("workspace: acme", "workspace: empty"))
    assert first.errors == []
    assert first.counts() == {"create": 5, "update": 0, "delete": 0, "unchanged": 0}
    assert exported(empty).replace("workspace: empty", "workspace: acme") == exported(acme)
    # The secrets arrived: the same fingerprint, and the identity provider's secret decrypts to it.
    assert Provider.objects.get(workspace=empty, provider_id="github-cloud").credential.fingerprint == (
        Provider.objects.get(workspace=acme, provider_id="github-cloud").credential.fingerprint
    )
    assert IdentityProvider.objects.get(provider__workspace=empty, provider__provider_id="okta").client_secret == (
        OKTA_SECRET
    )


def test_a_second_apply_finds_nothing_and_writes_nothing(acme, monkeypatch, django_assert_max_num_queries):
    monkeypatch.setenv("PROVIDER_GITHUB_CLOUD_ACCESSTOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("IDP_OKTA_CLIENT_SECRET", OKTA_SECRET)
    text = exported(acme, secret_refs="env")
    empty = workspace("empty")
    apply(empty, text)
    events = AuditEvent.objects.count()
    stamps = list(Provider.objects.order_by("pk").values_list("updated_at", flat=True))
    second = apply(empty, text)
    assert second.changes == []
    assert second.exit_code == 0
    assert AuditEvent.objects.count() == events
    assert list(Provider.objects.order_by("pk").values_list("updated_at", flat=True)) == stamps


def test_a_change_in_the_file_is_planned_field_by_field_then_applied(acme):
    text = exported(acme).replace("label: Company GitHub", "label: GitHub (cloud)")
    text = text.replace("https://acme.okta.com/oauth2/default", "https://acme.okta.com/oauth2/aus1")
    result = plan(acme, text)
    assert result.exit_code == 1  # moving the issuer needs the client secret again
    assert [str(e) for e in result.errors] == [
        "identityProviders[1].oidc_config.client_secret: Changing the token endpoint or issuer requires sending "
        "the client secret again."
    ]
    result = plan(acme, exported(acme).replace("label: Company GitHub", "label: GitHub (cloud)"))
    assert result.exit_code == 2
    [change] = result.changes
    assert change.lines() == ["~ update providers github-cloud", '    label: "Company GitHub" → "GitHub (cloud)"']
    applied = apply(acme, exported(acme).replace("label: Company GitHub", "label: GitHub (cloud)"))
    assert applied.applied
    assert Provider.objects.get(workspace=acme, provider_id="github-cloud").label == "GitHub (cloud)"
    assert AuditEvent.objects.filter(object_type="configuration", action="update").count() == 1


def test_mapper_changes_are_named_by_mapper(acme):
    text = exported(acme).replace("claim: dept", "claim: department")
    result = plan(acme, text)
    [change] = result.changes
    assert change.lines()[1:] == [
        '    mappers.department.config: {"claim": "dept", "user_attribute": "department"} → '
        '{"claim": "department", "user_attribute": "department"}'
    ]
    apply(acme, text)
    assert IdentityProviderMapper.objects.get(identity__provider__workspace=acme, name="department").config == {
        "claim": "department",
        "user_attribute": "department",
    }
    assert plan(acme, text).changes == []


def test_a_project_may_link_a_provider_the_same_file_creates(acme, monkeypatch):
    monkeypatch.setenv("NEW_TOKEN", "ghp_new")
    text = """
version: 1
projects:
- id: payments-api
  name: Payments API
  repository: {providerId: gitlab-new, path: acme/pay}
providers:
- id: gitlab-new
  label: GitLab
  type: gitlab
  credentials:
    type: token
    content: {accessToken: {secretRef: {env: NEW_TOKEN}}}
"""
    result = apply(acme, text)
    assert result.errors == []
    assert Project.objects.get(workspace=acme, project_id="payments-api").provider.provider_id == "gitlab-new"


def test_an_export_validates_against_the_published_schema(acme):
    from jsonschema import Draft202012Validator

    from providers.configuration.schema import config_schema

    validator = Draft202012Validator(config_schema())
    for refs in (None, "env"):
        document = yaml.safe_load(exported(acme, secret_refs=refs))
        assert [error.message for error in validator.iter_errors(document)] == []


def test_the_applied_copy_maps_a_login_as_the_original(acme, monkeypatch):
    from providers.identity.services import mappers_dry_run

    monkeypatch.setenv("PROVIDER_GITHUB_CLOUD_ACCESSTOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("IDP_OKTA_CLIENT_SECRET", OKTA_SECRET)
    empty = workspace("empty")
    apply(empty, exported(acme, secret_refs="env"))
    claims = {"email": "ada@acme.test", "dept": "research", "sub": "00u1"}
    results = [
        mappers_dry_run(provider=Provider.objects.get(workspace=ws, provider_id="okta"), claims=claims)
        for ws in (acme, empty)
    ]
    assert results[0] == results[1]
    assert results[0].attributes == {"email": "ada@acme.test", "department": "research"}


def test_the_applied_copy_has_the_same_public_login_list(acme, monkeypatch):
    from ..conftest import client_for

    monkeypatch.setenv("PROVIDER_GITHUB_CLOUD_ACCESSTOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("IDP_OKTA_CLIENT_SECRET", OKTA_SECRET)
    empty = workspace("empty")
    apply(empty, exported(acme, secret_refs="env"))
    anonymous = client_for(None)

    def listed(ws) -> list[dict]:
        response = anonymous.get(f"/api/workspaces/{ws.name}/idps")
        assert response.status_code == 200
        return [
            {key: value for key, value in item.items() if key not in ("id", "created_at")}
            for item in response.json()["providers"]
        ]

    assert listed(acme) == listed(empty)
    assert [item["name"] for item in listed(acme)] == ["corp-saml"]  # okta waits for its domain's proof


def test_the_projects_links_are_read_once_per_batch_not_once_per_project(acme):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(count: int) -> int:
        text = "version: 1\nprojects:\n" + "".join(
            f"- id: linked-{n}\n  name: Linked {n}\n  repository: {{providerId: github-cloud, path: acme/{n}}}\n"
            for n in range(count)
        )
        with CaptureQueriesContext(connection) as captured:
            result = plan(acme, text)
        assert result.counts()["create"] == count
        return len(captured)

    assert queries(2) == queries(30)
