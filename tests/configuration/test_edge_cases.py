"""Cases where a plan and its apply could part ways, or a second plan find changes again: each
holds the plan's word."""

import json

import pytest
import yaml

from accounts.models import Membership
from providers.models import IdentityProvider, Project, Provider

from ..conftest import client_for
from ..factories import UserFactory
from .helpers import GITHUB_TOKEN, OKTA_SECRET, apply, exported, plan

pytestmark = pytest.mark.django_db


def test_an_api_apply_that_prunes_answers_200(acme):
    user = UserFactory(username="acme-op")
    Membership.objects.create(workspace=acme, user=user, role="operator")
    text = b"version: 1\nprojects:\n- id: data-pipeline\n  state: absent\n"
    path = "/api/workspaces/acme/config/apply?prune_unmanaged=true"
    response = client_for(user).generic("POST", path, text, content_type="application/yaml")
    assert response.status_code == 200, response.content
    assert response.json()["applied"] is True
    assert not Project.objects.filter(workspace=acme, project_id="data-pipeline").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "version: 1\nproviders:\n- id: okta\n  state: absent\n",
            "providers[0].id: This is an identity provider: list it under `identityProviders`.",
        ),
        (
            "version: 1\nidentityProviders:\n- alias: github-cloud\n  state: absent\n",
            "identityProviders[0].alias: This is a git provider: list it under `providers`.",
        ),
    ],
)
def test_absent_in_the_other_providers_section_deletes_nothing(acme, text, expected):
    result = plan(acme, text)
    assert [str(error) for error in result.errors] == [expected]
    with pytest.raises(Exception):  # noqa: B017  (refused: ConfigRefusedError)
        apply(acme, text, prune_unmanaged=True)
    assert Provider.objects.filter(workspace=acme, provider_id__in=["okta", "github-cloud"]).count() == 2


def test_a_credential_type_of_the_wrong_shape_is_an_error(acme):
    text = "version: 1\nproviders:\n- id: g2\n  label: G\n  type: github\n  credentials: {type: [token], content: {}}\n"
    [error] = plan(acme, text).errors
    assert str(error).startswith("providers[0].credentials.")


def test_a_reserved_id_is_refused_by_the_plan_as_by_the_apply(acme, monkeypatch):
    monkeypatch.setenv("TOKEN", "t")
    text = (
        "version: 1\nproviders:\n- id: Export\n  label: E\n  type: github\n  credentials:\n    type: token\n"
        "    content: {accessToken: {secretRef: {env: TOKEN}}}\n"
    )
    [error] = plan(acme, text).errors
    assert str(error) == "providers[0].id: “Export” is reserved by the API; choose another id."


def test_moving_the_issuer_sends_the_referenced_secret_again(acme, monkeypatch):
    monkeypatch.setenv("IDP_OKTA_CLIENT_SECRET", OKTA_SECRET)
    monkeypatch.setenv("PROVIDER_GITHUB_CLOUD_ACCESSTOKEN", GITHUB_TOKEN)
    text = exported(acme, secret_refs="env").replace(
        "https://acme.okta.com/oauth2/default", "https://acme.okta.com/oauth2/aus2"
    )
    result = plan(acme, text)
    assert result.errors == []
    [change] = result.changes
    assert "    oidc_config.client_secret: sent again (its destination changes)" in change.lines()
    apply(acme, text)
    identity = IdentityProvider.objects.get(provider__workspace=acme, provider__provider_id="okta")
    assert identity.issuer == "https://acme.okta.com/oauth2/aus2"
    assert identity.client_secret == OKTA_SECRET
    assert plan(acme, text).changes == []


def test_keycloak_keys_kept_settle_after_one_apply(acme):
    entry = {
        "alias": "kc",
        "providerId": "oidc",
        "postBrokerLoginFlowAlias": "pb",
        "config": {"issuer": "https://kc.acme.test/realms/a", "clientId": "registry", "guiOrder": "1"},
    }
    first = yaml.safe_dump({"version": 1, "identityProviders": [entry]}, sort_keys=False)
    apply(acme, first)
    without = {**entry, "config": {"issuer": "https://kc.acme.test/realms/a", "clientId": "registry"}}
    del without["postBrokerLoginFlowAlias"]
    second = yaml.safe_dump({"version": 1, "identityProviders": [without]}, sort_keys=False)
    assert plan(acme, second).changes == []  # kept keys merge as the API's do: a key left out stays
    assert plan(acme, first).changes == []


def test_json_tells_true_from_1(acme):
    text = exported(acme).replace("  metadata: {}\n", "  metadata:\n    flag: true\n", 1)
    apply(acme, text)
    assert plan(acme, text).changes == []
    changed = text.replace("    flag: true\n", "    flag: 1\n")
    [change] = plan(acme, changed).changes
    assert change.lines()[1] == '    metadata: {"flag": true} → {"flag": 1}'


def test_exported_variables_never_collide(acme, monkeypatch):
    from accounts import scoping
    from providers.services import CredentialInput, provider_create

    with scoping.within(acme.pk):
        for provider_id in ("gh-prod", "gh.prod", "GH_PROD"):
            provider_create(
                actor=None,
                provider_id=provider_id,
                label=provider_id,
                type="github",
                credentials=CredentialInput(type="token", content={"accessToken": f"token-{provider_id}"}),
            )
    document = yaml.safe_load(exported(acme, secret_refs="env"))
    names = [
        entry["credentials"]["content"]["accessToken"]["secretRef"]["env"]
        for entry in document["providers"]
        if entry["id"].lower().replace(".", "-").replace("_", "-") == "gh-prod"
    ]
    assert len(set(names)) == 3, names
    assert json.dumps(document) == json.dumps(yaml.safe_load(exported(acme, secret_refs="env")))
