"""Keycloak's own formats, as Keycloak exports them: the `identityProviders` and
`identityProviderMappers` entries of real realm exports (tests/data/keycloak/, sources in its
README) posted one by one, unchanged, and read back in Keycloak's representation."""

import json
from pathlib import Path

import pytest

from providers.identity.services import SECRET_MASK
from providers.models import IdentityProvider, IdentityProviderMapper

DATA = Path(__file__).resolve().parent.parent / "data" / "keycloak"
# Realm exports whose identity providers are complete (real URLs): each must be accepted as is.
ACCEPTED = ("tractusx-cx-central.json", "tractusx-cx-central-consortia-dev.json", "cqen-github-example.json")
# Mapper types of those exports that act on what the registry does not have (user-session notes):
# kept as sent, never applied.
KEPT_MAPPERS = {"hardcoded-user-session-attribute-idp-mapper"}


def export(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def assert_read_back(sent: dict, read: dict) -> None:
    """Every key sent reads back with the value sent; secrets as the mask."""
    for key, value in sent.items():
        if key == "config":
            for config_key, config_value in value.items():
                want = SECRET_MASK if config_key == "clientSecret" else config_value
                assert read["config"].get(config_key) == want, config_key
        else:
            assert read.get(key) == value, key


@pytest.mark.parametrize("name", ACCEPTED)
def test_realm_export_identity_providers_are_accepted_unchanged_and_read_back_the_same(operator_client, name):
    for entry in export(name)["identityProviders"]:
        created = operator_client.post("/api/identity-providers", entry, format="json")
        assert created.status_code == 201, created.json()
        read = operator_client.get(f"/api/identity-providers/{entry['alias']}?representation=keycloak")
        assert read.status_code == 200
        assert_read_back(entry, read.json())
    assert IdentityProvider.objects.count() == len(export(name)["identityProviders"])


def test_a_secret_in_an_export_is_stored_encrypted_and_never_read_back(operator_client):
    entry = export("cqen-github-example.json")["identityProviders"][0]
    operator_client.post("/api/identity-providers", entry, format="json")
    read = operator_client.get("/api/identity-providers/github?representation=keycloak").json()
    assert read["config"]["clientSecret"] == SECRET_MASK
    assert "?GITHUBSECRET?" not in json.dumps(read)
    assert IdentityProvider.objects.get().client_secret == "?GITHUBSECRET?"


def test_keys_kept_without_being_acted_on_are_stored_as_sent(operator_client):
    entry = export("tractusx-cx-central.json")["identityProviders"][0]
    operator_client.post("/api/identity-providers", entry, format="json")
    identity = IdentityProvider.objects.get()
    assert identity.keycloak_kept == {
        "internalId": entry["internalId"],
        "config": {"hideOnLoginPage": "false", "clientAssertionSigningAlg": "RS256"},
    }
    # The settings it acts on are fields, typed.
    assert identity.client_auth_method == "private_key_jwt"
    assert identity.validate_signature is True
    assert identity.sync_mode == "FORCE"
    canonical = operator_client.get("/api/identity-providers/CX-Operator").json()
    assert canonical["oidc_config"]["token_url"] == entry["config"]["tokenUrl"]


@pytest.mark.parametrize("name", ACCEPTED)
def test_realm_export_mappers_are_accepted_unchanged_and_read_back_the_same(operator_client, name):
    realm = export(name)
    for entry in realm["identityProviders"]:
        assert operator_client.post("/api/identity-providers", entry, format="json").status_code == 201
    for mapper in realm["identityProviderMappers"]:
        url = f"/api/identity-providers/{mapper['identityProviderAlias']}/mappers"
        created = operator_client.post(url, mapper, format="json")
        assert created.status_code == 201, created.json()
        read = operator_client.get(f"{url}/{created.json()['id']}?representation=keycloak").json()
        for key in ("name", "identityProviderAlias", "identityProviderMapper"):
            assert read[key] == mapper[key]
        for key, value in mapper["config"].items():
            assert read["config"][key] == value, key
    assert IdentityProviderMapper.objects.count() == len(realm["identityProviderMappers"])


def test_a_kept_keycloak_mapper_is_stored_as_sent_and_never_applied(operator_client):
    realm = export("tractusx-cx-central-consortia-dev.json")
    mapper = next(m for m in realm["identityProviderMappers"] if m["identityProviderMapper"] in KEPT_MAPPERS)
    provider = next(p for p in realm["identityProviders"] if p["alias"] == mapper["identityProviderAlias"])
    operator_client.post("/api/identity-providers", provider, format="json")
    url = f"/api/identity-providers/{mapper['identityProviderAlias']}/mappers"

    created = operator_client.post(url, mapper, format="json")
    result = operator_client.post(f"{url}/dry-run", {"claims": {"sub": "1"}}, format="json").json()
    types = operator_client.get("/api/identity-providers/mapper-types").json()

    assert created.status_code == 201, created.json()
    assert result["applied"] == [
        {
            "name": mapper["name"],
            "type": "hardcoded-user-session-attribute-idp-mapper",
            "matched": False,
            "detail": "Kept from Keycloak; not applied (it acts on roles or user sessions).",
        }
    ]
    assert result["attributes"] == {} and result["groups"] == []
    kept = next(t for t in types if t["id"] == "hardcoded-user-session-attribute-idp-mapper")
    assert kept["applied"] is False
    assert [f["name"] for f in kept["config_fields"]] == ["attribute", "attribute.value"]


@pytest.mark.parametrize(
    ("mapper_type", "config"),
    [
        ("oidc-hardcoded-role-idp-mapper", {"role": "realm-admin", "syncMode": "INHERIT"}),
        ("oidc-role-idp-mapper", {"claim": "groups", "claim.value": "ops", "role": "ops-role"}),
        (
            "oidc-advanced-role-idp-mapper",
            {"claims": '[{"key":"dept","value":"ops"}]', "role": "ops", "are.claim.values.regex": "false"},
        ),
    ],
)
def test_keycloaks_role_mappers_are_kept(operator_client, mapper_type, config):
    provider = export("tractusx-cx-central.json")["identityProviders"][0]
    operator_client.post("/api/identity-providers", provider, format="json")
    url = "/api/identity-providers/CX-Operator/mappers"
    body = {
        "name": "roles",
        "identityProviderAlias": "CX-Operator",
        "identityProviderMapper": mapper_type,
        "config": config,
    }

    created = operator_client.post(url, body, format="json")

    assert created.status_code == 201, created.json()
    read = operator_client.get(f"{url}/{created.json()['id']}?representation=keycloak").json()
    assert read["identityProviderMapper"] == mapper_type
    assert read["config"] == config | {"syncMode": read["config"]["syncMode"]}


def test_an_unknown_key_on_a_kept_mapper_is_refused_naming_it(operator_client):
    provider = export("tractusx-cx-central.json")["identityProviders"][0]
    operator_client.post("/api/identity-providers", provider, format="json")
    body = {"name": "r", "identityProviderMapper": "oidc-hardcoded-role-idp-mapper", "config": {"rolez": "x"}}

    response = operator_client.post("/api/identity-providers/CX-Operator/mappers", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["config.rolez"]


def test_a_mapper_in_keycloak_keys_applies_like_the_same_mapper_in_the_registry_names(operator_client):
    provider = export("tractusx-cx-central.json")["identityProviders"][0]
    operator_client.post("/api/identity-providers", provider, format="json")
    url = "/api/identity-providers/CX-Operator/mappers"
    keycloak = {
        "name": "operators",
        "identityProviderAlias": "CX-Operator",
        "identityProviderMapper": "oidc-advanced-group-idp-mapper",
        "config": {"claim": "groups", "claim.value": "ops", "group": "/access_token_manager", "syncMode": "FORCE"},
    }
    created = operator_client.post(url, keycloak, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["sync_mode"] == "FORCE"
    assert created.json()["config"] == {"claim": "groups", "claim_value": "ops", "group": "/access_token_manager"}
    result = operator_client.post(f"{url}/dry-run", {"claims": {"groups": ["ops"]}}, format="json").json()
    assert result["groups"] == ["access_token_manager"]


def test_a_mapper_for_another_identity_provider_is_refused_naming_the_field(operator_client):
    operator_client.post(
        "/api/identity-providers", export("cqen-github-example.json")["identityProviders"][0], format="json"
    )
    mapper = export("tractusx-cx-central.json")["identityProviderMappers"][0]
    response = operator_client.post("/api/identity-providers/github/mappers", mapper, format="json")
    assert response.status_code == 400
    assert "identityProviderAlias" in response.json()
    assert IdentityProviderMapper.objects.count() == 0


def test_a_config_key_keycloak_does_not_define_is_refused_naming_it(operator_client):
    entry = export("tractusx-cx-central.json")["identityProviders"][0]
    entry = {**entry, "config": {**entry["config"], "notAKeycloakKey": "x"}}
    response = operator_client.post("/api/identity-providers", entry, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["config.notAKeycloakKey"]
    assert IdentityProvider.objects.count() == 0


def test_placeholder_urls_of_a_test_realm_are_refused_naming_the_field(operator_client):
    entry = export("keycloak-testsuite-saml-broker.json")["identityProviders"][0]
    response = operator_client.post("/api/identity-providers", entry, format="json")
    assert response.status_code == 400
    # Every problem at once, named as the export names them: the placeholder URLs, and the
    # signing certificate the test realm leaves out.
    assert set(response.json()) == {
        "config.singleSignOnServiceUrl",
        "config.singleLogoutServiceUrl",
        "config.signingCertificate",
    }
    assert IdentityProvider.objects.count() == 0


def test_the_other_protocols_keys_are_kept_on_a_saml_provider(operator_client, certificate_pem):
    body = "".join(certificate_pem.strip().splitlines()[1:-1])
    entry = {
        "alias": "corp-saml",
        "providerId": "saml",
        "config": {
            "idpEntityId": "https://idp.example.test/metadata",
            "singleSignOnServiceUrl": "https://idp.example.test/sso",
            "signingCertificate": body,
            "validateSignature": "true",
            "wantAssertionsSigned": "true",
            "principalType": "SUBJECT",
        },
    }
    created = operator_client.post("/api/identity-providers", entry, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["saml_config"]["signing_certificate"].startswith("-----BEGIN CERTIFICATE-----")
    read = operator_client.get("/api/identity-providers/corp-saml?representation=keycloak").json()
    assert_read_back(entry, read)


def test_an_unknown_representation_is_refused_naming_the_parameter(operator_client):
    operator_client.post(
        "/api/identity-providers", export("cqen-github-example.json")["identityProviders"][0], format="json"
    )
    response = operator_client.get("/api/identity-providers/github?representation=xml")
    assert response.status_code == 400
    assert list(response.json()) == ["representation"]


def test_prompt_and_login_hint_in_keycloak_keys_and_in_the_registry_names(operator_client):
    keycloak = {
        "alias": "kc",
        "providerId": "keycloak-oidc",
        "config": {"issuer": "https://sso.example.test/realms/acme", "prompt": "login", "loginHint": "true"},
    }
    assert operator_client.post("/api/identity-providers", keycloak, format="json").status_code == 201
    identity = IdentityProvider.objects.get()
    assert (identity.prompt, identity.login_hint, identity.keycloak_kept) == ("login", True, {})
    read = operator_client.get("/api/identity-providers/kc").json()["oidc_config"]
    assert (read["prompt"], read["login_hint"]) == ("login", True)
    assert_read_back(keycloak, operator_client.get("/api/identity-providers/kc?representation=keycloak").json())

    changed = operator_client.patch(
        "/api/identity-providers/kc", {"oidc_config": {"prompt": "", "login_hint": False}}, format="json"
    )
    assert changed.status_code == 200
    assert (changed.json()["oidc_config"]["prompt"], changed.json()["oidc_config"]["login_hint"]) == ("", False)


def test_a_prompt_keycloak_does_not_send_is_refused_naming_the_field(operator_client):
    body = {"alias": "p", "provider_id": "oidc", "oidc_config": {"issuer": "https://sso.example.test", "prompt": "x"}}
    response = operator_client.post("/api/identity-providers", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["oidc_config.prompt"]
    assert IdentityProvider.objects.count() == 0


def test_a_client_secret_sent_to_a_saml_provider_is_refused_not_kept_in_clear(operator_client, certificate_pem):
    body = "".join(certificate_pem.strip().splitlines()[1:-1])
    entry = {
        "alias": "corp-saml",
        "providerId": "saml",
        "config": {
            "singleSignOnServiceUrl": "https://idp.example.test/sso",
            "signingCertificate": body,
            "clientSecret": "saml-has-no-client-secret",
        },
    }
    response = operator_client.post("/api/identity-providers", entry, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["config.clientSecret"]
    assert "saml-has-no-client-secret" not in response.content.decode()
    assert IdentityProvider.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {
                "providerId": "oidc",
                "config": {"clientId": "x", "authorizationUrl": "https://a.test/a", "tokenUrl": "no"},
            },
            {"config.tokenUrl": ["Enter a valid URL."]},
        ),
        (
            {"providerId": "oidc", "config": {"issuer": "https://a.test", "syncMode": "NOPE"}},
            {"config.syncMode": ["Not a valid choice (expected one of: INHERIT, IMPORT, LEGACY, FORCE)."]},
        ),
        (
            {"providerId": "oidc", "trustEmail": "yes", "config": {"issuer": "https://a.test", "pkceEnabled": "maybe"}},
            {"trustEmail": ["Expected true or false."], "config.pkceEnabled": ["Expected true or false."]},
        ),
        (
            {"providerId": "saml", "config": {"singleSignOnServiceUrl": "https://a.test/sso"}},
            {"config.signingCertificate": ["This field is required for SAML."]},
        ),
        (
            {"providerId": "oidc"},
            {"config.issuer": ["Give the issuer (to discover the endpoints) or the authorization and token URLs."]},
        ),
    ],
    ids=["serializer-url", "serializer-choice", "top-level-and-config", "model-rule-saml", "model-rule-no-config"],
)
def test_errors_of_a_keycloak_style_body_name_keycloaks_keys(operator_client, body, errors):
    response = operator_client.post("/api/identity-providers", {"alias": "kc", **body}, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert not IdentityProvider.objects.exists()


def test_errors_of_a_canonical_body_keep_the_canonical_names(operator_client):
    body = {"alias": "kc", "provider_id": "oidc", "oidc_config": {"client_id": "x", "sync_mode": "NOPE"}}

    response = operator_client.post("/api/identity-providers", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["oidc_config.sync_mode"]


def test_the_mapper_list_in_keycloaks_representation_gives_back_a_realm_exports_mappers(operator_client):
    realm = export("tractusx-cx-central-consortia-dev.json")
    for entry in realm["identityProviders"]:
        operator_client.post("/api/identity-providers", entry, format="json")
    for mapper in realm["identityProviderMappers"]:
        url = f"/api/identity-providers/{mapper['identityProviderAlias']}/mappers"
        assert operator_client.post(url, mapper, format="json").status_code == 201
    alias = realm["identityProviderMappers"][0]["identityProviderAlias"]
    sent = [m for m in realm["identityProviderMappers"] if m["identityProviderAlias"] == alias]

    response = operator_client.get(f"/api/identity-providers/{alias}/mappers?representation=keycloak")

    assert response.status_code == 200
    read = response.json()
    assert [(m["name"], m["identityProviderMapper"]) for m in read] == [
        (m["name"], m["identityProviderMapper"]) for m in sent
    ]
    for one, mapper in zip(read, sent, strict=True):
        assert one["identityProviderAlias"] == alias
        assert {key: one["config"].get(key) for key in mapper["config"]} == mapper["config"]
    assert operator_client.get("/api/identity-providers/nobody/mappers?representation=keycloak").status_code == 404


def test_a_keycloak_style_patch_of_a_saml_provider_changes_the_setting(operator_client, certificate_pem):
    certificate = "".join(certificate_pem.strip().splitlines()[1:-1])
    config = {"singleSignOnServiceUrl": "https://idp.test/sso", "signingCertificate": certificate}
    body = {"alias": "corp-saml", "providerId": "saml", "config": config}
    assert operator_client.post("/api/identity-providers", body, format="json").status_code == 201

    changed = operator_client.patch(
        "/api/identity-providers/corp-saml",
        {"config": {"singleSignOnServiceUrl": "https://idp.test/new"}},
        format="json",
    )

    assert changed.status_code == 200, changed.json()
    identity = IdentityProvider.objects.get()
    assert identity.single_sign_on_service_url == "https://idp.test/new"
    assert "singleSignOnServiceUrl" not in identity.keycloak_kept.get("config", {})
    read = operator_client.get("/api/identity-providers/corp-saml?representation=keycloak").json()
    assert read["config"]["singleSignOnServiceUrl"] == "https://idp.test/new"


def test_errors_of_a_canonical_section_in_a_keycloak_style_body_keep_its_names(operator_client):
    body = {"alias": "kc", "providerId": "oidc", "oidc_config": {"issuer": "https://a.test", "sync_mode": "NOPE"}}

    response = operator_client.post("/api/identity-providers", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["oidc_config.sync_mode"]
