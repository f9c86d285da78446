"""The configuration file's JSON Schema (docs/config.md): generated from the catalogues and the API's
write serializers, committed as docs/config-schema.json, served at /api/config/schema.json, and
telling a realistic file from wrong ones the way the API would."""

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from providers.api.backend.serializers import ProviderWriteSerializer
from providers.api.identity.serializers import IdentityProviderWriteSerializer, MapperInputSerializer
from providers.catalog import CREDENTIAL_TYPES, PROVIDER_TYPES
from providers.configuration.schema import config_schema, dumps
from providers.identity import catalogue
from providers.identity.mappers import MAPPER_TYPES
from tests.certificates import pem
from tests.conftest import client_for

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "config-schema.json"
SCHEMA = config_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
PROVIDER = SCHEMA["$defs"]["gitProvider"]["properties"]
IDP = SCHEMA["$defs"]["identityProvider"]["properties"]


def errors(document: dict[str, Any]) -> list[str]:
    """Each error as `path: message`, the path dotted as docs/config.md writes it."""
    found = []
    for error in VALIDATOR.iter_errors(document):
        path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
        found.append(f"{path.lstrip('.')}: {error.message}")
    return found


@pytest.fixture
def document(signing_certificate) -> dict[str, Any]:
    return {
        "version": 1,
        "workspace": "acme",
        "managedBy": "platform-prod",
        "providers": [
            {
                "id": "my-github-provider",
                "label": "Mia-Platform GitHub",
                "type": "github",
                "description": "",
                "urls": {"base": "https://github.com", "apiBase": "https://api.github.com"},
                "enabled": True,
                "credentials": {
                    "type": "token",
                    "expiresAt": "2027-01-31T00:00:00Z",
                    "content": {"accessToken": {"secretRef": {"env": "GITHUB_TOKEN"}}},
                },
            },
            {
                "id": "gitlab-onprem",
                "label": "GitLab on-premises",
                "type": "gitlab",
                "urls": {"base": "", "apiBase": ""},
                "credentials": {
                    "type": "userPass",
                    "content": {"userName": "svc-ci", "password": {"secretRef": {"file": "secrets/gitlab.txt"}}},
                },
            },
            {"id": "bitbucket-old", "state": "absent"},
        ],
        "identityProviders": [
            {
                "alias": "okta",
                "display_name": "Okta",
                "provider_id": "oidc",
                "enabled": True,
                "known_provider": "okta",
                "description": "",
                "trust_email": False,
                "first_broker_login_flow_alias": "first broker login",
                "update_profile_first_login_mode": "on",
                "metadata": {"team": "identity"},
                "oidc_config": {
                    "client_id": "0oa1b2c3d4Example",
                    "client_secret": {"secretRef": {"file": "/run/secrets/okta-client-secret"}},
                    "issuer": "https://acme.okta.com/oauth2/default",
                    "logout_url": "",
                    "default_scope": "openid email profile",
                    "client_auth_method": "client_secret_basic",
                    "pkce_enabled": True,
                    "pkce_method": "S256",
                    "prompt": "",
                    "sync_mode": "FORCE",
                },
                "domains": ["acme.com", "acme.io"],
                "mappers": [
                    {
                        "name": "email",
                        "identity_provider_mapper": "oidc-user-attribute-idp-mapper",
                        "sync_mode": "INHERIT",
                        "config": {"claim": "email", "user_attribute": "email"},
                    },
                    {
                        "name": "admins",
                        "identity_provider_mapper": "oidc-advanced-group-idp-mapper",
                        "config": {"claim": "groups", "claim_value": "admins", "group": "operators"},
                    },
                ],
            },
            {
                "alias": "corp-saml",
                "display_name": "Corporate SAML",
                "provider_id": "saml",
                "known_provider": "custom_saml",
                "saml_config": {
                    "entity_id": "http://www.okta.com/exk1a2b3c4Example",
                    "single_sign_on_service_url": "https://acme.okta.com/app/acme_registry/exk1a2b3c4/sso/saml",
                    "name_id_policy_format": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
                    "signing_certificate": pem(signing_certificate),
                    "principal_type": "SUBJECT",
                    "post_binding_response": True,
                    "sync_mode": "IMPORT",
                },
                "mappers": [
                    {
                        "name": "department",
                        "identity_provider_mapper": "saml-user-attribute-idp-mapper",
                        "config": {"attribute_name": "department", "user_attribute": "department"},
                    }
                ],
            },
            {"alias": "retired-idp", "state": "absent"},
        ],
        "projects": [
            {
                "id": "payments-api",
                "name": "Payments API",
                "description": "",
                "repository": {"providerId": "my-github-provider", "path": "acme/payments-api"},
            },
            {"id": "sandbox", "name": "Sandbox", "repository": {"providerId": None, "path": ""}},
        ],
    }


def test_committed_schema_is_the_generated_one():
    assert COMMITTED.read_text() == dumps(SCHEMA), (
        "docs/config-schema.json is out of date: regenerate it with "
        "`python -m providers.configuration.schema > docs/config-schema.json`"
    )


def test_schema_is_valid_json_schema_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)

    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"].endswith("config.schema.json")
    assert SCHEMA["title"]
    assert SCHEMA["description"]


def test_a_realistic_file_validates(document):
    assert errors(document) == []


def test_minimal_file_validates():
    assert errors({"version": 1}) == []


def _resolved(value: Any) -> Any:
    """`value` with each secret reference replaced by a value, as the plan resolves them."""
    if isinstance(value, dict):
        return "resolved-secret" if "secretRef" in value else {key: _resolved(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolved(item) for item in value]
    return value


def test_the_files_entries_are_bodies_the_api_accepts(document):
    """The schema describes the API's write bodies: the realistic file's entries, references resolved,
    pass the API's own shape checks (the rules beyond shape are the services')."""
    bodies = [
        *((ProviderWriteSerializer, entry) for entry in document["providers"] if "state" not in entry),
        *((IdentityProviderWriteSerializer, entry) for entry in document["identityProviders"] if "state" not in entry),
    ]
    for serializer_class, entry in bodies:
        serializer = serializer_class(data=_resolved(entry))
        assert serializer.is_valid(), serializer.errors


def _set(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy with `value` at the dotted `path` (list indexes as numbers)."""
    changed = copy.deepcopy(document)
    *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
    target = changed
    for part in parents:
        target = target[part]
    target[last] = value
    return changed


@pytest.mark.parametrize(
    "path,value,at",
    [
        ("color", "blue", ""),
        ("version", 2, "version"),
        ("providers.0.secret", "x", "providers[0]"),
        ("providers.0.urls.baseUrl", "https://github.com", "providers[0].urls"),
        ("identityProviders.0.oidc_config.clientId", "x", "identityProviders[0].oidc_config"),
        (
            "providers.0.credentials.content.accessToken",
            "my-super-super-super-secret-token",
            "providers[0].credentials.content.accessToken",
        ),
        ("providers.1.credentials.content.password", "hunter2", "providers[1].credentials.content.password"),
        ("identityProviders.0.oidc_config.client_secret", "s3cret", "identityProviders[0].oidc_config.client_secret"),
        ("identityProviders.0.oidc_config.client_secret", {"secretRef": {"env": "A", "file": "b"}}, "client_secret"),
        ("identityProviders.0.oidc_config.client_secret", {"secretRef": {"vault": "a"}}, "client_secret"),
        ("providers.0.type", "okta2", "providers[0].type"),
        ("providers.0.credentials.type", "githubApp2", "providers[0].credentials.type"),
        ("providers.1.credentials.type", "githubApp", "providers[1].credentials.type"),
        ("providers.0.credentials.content", {"accessToken": {"secretRef": {"env": "T"}}, "scope": "x"}, "content"),
        ("providers.1.credentials.content", {"userName": "svc-ci"}, "providers[1].credentials.content"),
        ("providers.0.id", "not a slug!", "providers[0].id"),
        ("providers.0.enabled", "yes", "providers[0].enabled"),
        ("identityProviders.0.provider_id", "ldap", "identityProviders[0].provider_id"),
        ("identityProviders.0.known_provider", "myspace", "identityProviders[0].known_provider"),
        ("identityProviders.0.oidc_config.client_auth_method", "basic", "client_auth_method"),
        ("identityProviders.0.oidc_config.sync_mode", "ALWAYS", "identityProviders[0].oidc_config.sync_mode"),
        ("identityProviders.0.oidc_config.issuer", "x" * 501, "identityProviders[0].oidc_config.issuer"),
        ("identityProviders.0.domains", [f"d{n}.example" for n in range(51)], "identityProviders[0].domains"),
        ("identityProviders.0.mappers.0.config", {"claim": "email", "user.attribute": "email"}, "mappers[0].config"),
        ("identityProviders.0.mappers.0.config", {"claim_name": "email", "user_attribute": "x"}, "mappers[0].config"),
        ("identityProviders.0.mappers.0.config", {"claim": "  ", "user_attribute": "email"}, "config.claim"),
        ("identityProviders.0.mappers.0.identity_provider_mapper", "oidc-magic", "identity_provider_mapper"),
        (
            "identityProviders.0.mappers.0.identity_provider_mapper",
            "saml-user-attribute-idp-mapper",  # a SAML mapper on an OIDC identity provider
            "identityProviders[0].mappers[0].identity_provider_mapper",
        ),
        ("identityProviders.1.saml_config.client_id", "x", "identityProviders[1].saml_config"),
        ("projects.0.repository.provider", "my-github-provider", "projects[0].repository"),
        ("projects.0.state", "deleted", "projects[0].state"),
    ],
)
def test_a_wrong_file_fails_where_expected(document, path, value, at):
    found = errors(_set(document, path, value))

    assert found, f"{path} = {value!r} should be refused"
    assert any(at in error.split(": ")[0] for error in found), found


@pytest.mark.parametrize(
    "kind,key", [("providers", "label"), ("identityProviders", "provider_id"), ("projects", "name")]
)
def test_only_the_key_is_required_to_delete(kind, key):
    entry = {"id": "x"} if kind != "identityProviders" else {"alias": "x"}

    assert errors({"version": 1, kind: [{**entry, "state": "absent"}]}) == []
    assert any(key in error for error in errors({"version": 1, kind: [entry]}))


def test_every_catalogue_field_appears_where_the_api_takes_it():
    oidc = IDP["oidc_config"]["properties"]
    saml = IDP["saml_config"]["properties"]
    placement = {
        catalogue.BROKER: [IDP],
        catalogue.LIFECYCLE: [IDP],
        catalogue.OIDC_SECTION: [oidc],
        catalogue.SAML_SECTION: [saml],
        catalogue.GENERAL: [oidc, saml],
    }
    for field in catalogue.FIELDS:
        for properties in placement[field.section]:
            schema = properties[field.name]
            assert schema.get("description", "").startswith(field.help), field.name
            if field.secret:
                assert schema["$ref"] == "#/$defs/secretRef"
            elif field.kind == catalogue.CHOICE:
                assert field.choices is not None
                assert schema["enum"] == list(field.choices.values)
                assert schema["default"] == field.default
            elif field.kind == catalogue.BOOLEAN:
                assert (schema["type"], schema["default"]) == ("boolean", field.default)
            elif field.kind == catalogue.JSON:
                assert schema["type"] == "object"
            else:
                assert (schema["type"], schema["maxLength"]) == ("string", field.max_length)
            if field.kind == catalogue.URL:
                assert {"format": "uri"} in schema["anyOf"]


def test_a_field_added_to_the_catalogue_shows_up(monkeypatch):
    extra = (
        catalogue.IdpField("acr_values", catalogue.OIDC_SECTION, catalogue.STRING, "e.g. “mfa”.", max_length=300),
        catalogue.IdpField("sign_out_all", catalogue.BROKER, catalogue.BOOLEAN, "Sign out everywhere.", default=True),
    )
    monkeypatch.setattr(catalogue, "FIELDS", catalogue.FIELDS + extra)

    schema = config_schema()["$defs"]["identityProvider"]["properties"]

    assert schema["oidc_config"]["properties"]["acr_values"]["maxLength"] == 300
    assert schema["sign_out_all"]["default"] is True


def test_every_mapper_type_and_credential_type_is_described():
    mapper = SCHEMA["$defs"]["mapper"]
    assert mapper["properties"]["identity_provider_mapper"]["enum"] == list(MAPPER_TYPES)
    configs = {rule["if"]["properties"]["identity_provider_mapper"]["const"]: rule["then"] for rule in mapper["allOf"]}
    for key, mtype in MAPPER_TYPES.items():
        config = configs[key]["properties"]["config"]
        assert [field.name for field in mtype.fields] == list(config["properties"])[: len(mtype.fields)]
        assert config["required"] == [field.name for field in mtype.fields if field.required]

    credentials = PROVIDER["credentials"]
    contents = {rule["if"]["properties"]["type"]["const"]: rule["then"] for rule in credentials["allOf"]}
    for key, ctype in CREDENTIAL_TYPES.items():
        content = contents[key]["properties"]["content"]
        assert list(content["properties"]) == list(ctype.all_fields)
        assert content["required"] == list(ctype.fields)
        for name in ctype.secret_fields:
            assert content["properties"][name]["$ref"] == "#/$defs/secretRef"
    # Every provider type: a provider without identity configuration is listed under `providers`.
    assert PROVIDER["type"]["enum"] == list(PROVIDER_TYPES)


def test_every_field_of_the_write_bodies_is_in_the_file():
    """The file's entries are the API's write bodies (less the other spellings, and read-back values
    the API ignores): a field the API gains must be added here too."""
    assert set(ProviderWriteSerializer().fields) == set(PROVIDER) - {"state"}
    assert set(IdentityProviderWriteSerializer().fields) == set(IDP) - {"state"}
    assert set(MapperInputSerializer().fields) - {"id"} == set(SCHEMA["$defs"]["mapper"]["properties"])


def test_secret_ref_is_exactly_one_of_env_or_file():
    ref = jsonschema.Draft202012Validator({**SCHEMA["$defs"]["secretRef"], "$defs": SCHEMA["$defs"]})

    assert ref.is_valid({"secretRef": {"env": "OKTA_CLIENT_SECRET"}})
    assert ref.is_valid({"secretRef": {"file": "secrets/okta.txt"}})
    assert not ref.is_valid({"secretRef": {}})
    assert not ref.is_valid({"secretRef": {"env": "A", "file": "b"}})
    assert not ref.is_valid({"secretRef": {"env": "NOT A NAME"}})
    assert not ref.is_valid({"secretRef": {"env": "A"}, "fallback": "x"})


@pytest.mark.django_db
def test_endpoint_serves_the_schema_to_anyone_with_caching():
    response = client_for(None).get("/api/config/schema.json")

    assert response.status_code == 200
    assert response["Content-Type"] in ("application/schema+json", "application/json")
    assert json.loads(response.content) == SCHEMA
    assert response.content.decode() == COMMITTED.read_text()
    assert response["Cache-Control"] == "public, max-age=3600"
    etag = response["ETag"]
    assert etag.startswith('"') and etag.endswith('"')

    again = client_for(None).get("/api/config/schema.json", HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304
    assert again["ETag"] == etag
    assert again.content == b""
    assert client_for(None).get("/api/config/schema.json", HTTP_IF_NONE_MATCH='"other"').status_code == 200


@pytest.mark.django_db
def test_endpoint_answers_plain_json_when_asked_and_ignores_a_bad_token():
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = client.get("/api/config/schema.json", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
