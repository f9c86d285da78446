"""The API portal's documentation: every request body has examples, the reference documents'
requests are among them, and each example does what it says when sent as it is shown."""

import json

import pytest
from rest_framework.test import APIClient

from providers import services
from providers.api.backend.serializers import REFERENCE_PROVIDER_EXAMPLE
from providers.api.identity.examples import BROKER_OPTIONS_EXAMPLE
from providers.models import CredentialVersion, Provider
from tests.factories import IdentityProviderFactory, ProjectFactory, ProviderFactory

METHODS = ("post", "put", "patch")
# Examples that cannot run here as shown, and why.
NOT_SENT = {
    "OIDCDiscoveryFromTheIssuer": "fetches the issuer's discovery document from the internet",
    "SAMLMetadataFile": "the value stands for a file the client uploads",
    "OneIdentityProviderOfAFederationAggregate": "fetches a federation's metadata from the internet",
    "KeepUnlistedCertificates": "fetches a SAML identity provider's metadata from its metadata URL",
}

# The SP-key examples act at one step of a rollover each: the steps that lead there.
SP_KEY_STEPS = {
    "PublishTheNextKey": ["sp_key_generate"],
    "SignWithTheNextKey": ["sp_key_generate", "sp_key_generate"],
    "EndTheRollover": ["sp_key_generate", "sp_key_generate", "sp_key_activate_next"],
}


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def request_bodies(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in METHODS and "requestBody" in operation:
                yield path, method, operation["requestBody"]["content"]


def examples(schema: dict, path: str, method: str, media_type: str = "application/json") -> list:
    content = schema["paths"][path][method]["requestBody"]["content"][media_type]
    return [example["value"] for example in content.get("examples", {}).values()]


def test_every_request_body_has_an_example(schema):
    without = [
        f"{method.upper()} {path} ({media_type})"
        for path, method, content in request_bodies(schema)
        for media_type, body in content.items()
        if not body.get("examples")
    ]
    assert without == []
    assert len(list(request_bodies(schema))) >= 17


def test_the_reference_documents_requests_are_examples(schema):
    git_reference = REFERENCE_PROVIDER_EXAMPLE.value
    assert git_reference in examples(schema, "/api/backend/providers", "post")
    assert git_reference in examples(schema, "/api/backend/providers/{providerId}", "patch")
    jsonapi = examples(schema, "/api/identity_providers", "post", "application/vnd.api+json")
    assert jsonapi[0]["data"]["attributes"]["client_id"] == "a6CDk5v1ZV99GrtOcfYVEZRnDDt"
    assert {"_disable": True} in [
        e["data"]["attributes"]
        for e in examples(schema, "/api/identity_providers/{resource_id}", "patch", "application/vnd.api+json")
    ]
    idps = examples(schema, "/api/idps", "post")
    assert idps[0]["authorization_endpoint"] == "https://github.com/login/oauth/authorize"
    assert {"display_name": "GitHub SSO", "enabled": True} in examples(schema, "/api/idps/{idp_id}", "put")
    identity = examples(schema, "/api/identity-providers", "post")
    broker = next(e for e in identity if e.get("providerId") == "keycloak-oidc")
    assert broker == BROKER_OPTIONS_EXAMPLE
    okta = next(e for e in identity if e.get("known_provider") == "okta")
    assert set(okta) >= {"alias", "display_name", "provider_id", "enabled", "oidc_config", "mappers"}


def all_examples():
    """(path, method, media type, example name) of every example, read without a database."""
    from drf_spectacular.generators import SchemaGenerator

    generated = SchemaGenerator().get_schema(request=None, public=True)
    for path, method, content in request_bodies(generated):
        for media_type, body in content.items():
            for name in body.get("examples", {}):
                yield pytest.param(path, method, media_type, name, id=f"{method}-{path}-{name}")


def targets(operator) -> dict[str, str]:
    """The objects the examples' paths point at."""
    provider = ProviderFactory(provider_id="my-github-provider")
    ProjectFactory(project_id="payments-api", provider=None)
    identity = IdentityProviderFactory(
        alias="okta-corp",
        display_name="Okta",
        issuer="https://acme.okta.com/oauth2/default",
        authorization_url="",
        token_url="",
        mappers=[{"name": "stored-email"}],
    )
    internal = str(identity.internal_id)
    return {
        "{providerId}": provider.provider_id,
        "{projectId}": "payments-api",
        "{alias}": "okta-corp",
        "{mapper_id}": str(identity.mappers.get().pk),
        "{idp_id}": internal,
        "{resource_id}": internal,
        "{workspaceName}": "default",  # where the objects above are
        "{username}": operator.username,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "method", "media_type", "name"), list(all_examples()))
def test_each_example_works_as_shown(schema, operator, superuser, path, method, media_type, name):
    if name in NOT_SENT:
        pytest.skip(NOT_SENT[name])
    body = schema["paths"][path][method]["requestBody"]["content"][media_type]["examples"][name]["value"]
    url = path.replace("{workspaceName}", "default")  # where `targets` puts the objects
    if "{" in url:
        for placeholder, value in targets(operator).items():
            url = url.replace(placeholder, value)
    client = APIClient()
    client.force_authenticate(superuser if path.startswith("/api/workspaces") else operator)  # superusers' API
    if "rollback" in path:  # the example's id stands for one the credentials history lists
        provider = Provider.objects.get(provider_id="my-github-provider")
        services.provider_update(
            provider=provider,
            actor=operator,
            data={},
            credentials=services.CredentialInput(type="token", content={"accessToken": "replacement"}),
        )
        body = {**body, "version": CredentialVersion.objects.get(provider=provider).pk}

    if path.endswith("/sp-keys"):  # a SAML identity provider, at the step of the rollover the example takes
        from providers.identity.services import sp_keys

        identity = IdentityProviderFactory(saml=True, alias="corp-saml")
        for step in SP_KEY_STEPS[name]:
            getattr(sp_keys, step)(identity=identity, actor=operator)
        url = url.replace("/okta-corp/", "/corp-saml/")

    text = body if media_type == "application/yaml" else json.dumps(body)  # a YAML file is sent as written
    response = client.generic(method.upper(), url, text, content_type=media_type)

    assert response.status_code in (200, 201), response.content.decode()[:500]


def test_every_resource_path_is_documented_under_its_workspace_too(schema):
    """Swagger UI offers each operation at `/api/…` and `/api/workspaces/{workspaceName}/…`, with
    operation ids of their own (none renamed with a numeral suffix). A user's own linked accounts
    (`/api/account/…`) span workspaces and the configuration file's JSON Schema is the same for
    every workspace: each is at one path."""
    paths = set(schema["paths"])
    one_path = ("/api/workspaces", "/api/schema", "/api/docs", "/api/account", "/api/config/schema.json")
    resources = {path for path in paths if not path.startswith(one_path)}
    ids = [operation["operationId"] for item in schema["paths"].values() for operation in item.values()]

    assert resources and {path.replace("/api/", "/api/workspaces/{workspaceName}/", 1) for path in resources} <= paths
    assert len(ids) == len(set(ids))
    assert not [operation_id for operation_id in ids if operation_id[-2:].strip("_").isdigit()]
