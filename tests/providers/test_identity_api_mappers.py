"""Identity-provider mappers through the API: the mapper types catalogue, create/read/update/
delete with the provider's mapper count, malformed configurations refused by field, and the dry run
applying every mapper type to sample claims."""

import pytest
from django.contrib.auth.models import Group

from providers.models import IdentityProviderMapper

from .dialects import CANONICAL as IDPS
from .dialects import oidc_body


def test_mapper_types_catalogue(operator_client):
    response = operator_client.get(f"{IDPS}/mapper-types")

    assert response.status_code == 200
    ids = {item["id"] for item in response.json()}
    assert {
        "oidc-user-attribute-idp-mapper",
        "oidc-advanced-group-idp-mapper",
        "oidc-hardcoded-group-idp-mapper",
        "hardcoded-attribute-idp-mapper",
        "oidc-username-idp-mapper",
    } <= ids
    saml = {item["id"] for item in operator_client.get(f"{IDPS}/mapper-types?protocol=saml").json()}
    assert "oidc-user-attribute-idp-mapper" not in saml and "saml-user-attribute-idp-mapper" in saml
    assert operator_client.get(f"{IDPS}/mapper-types?protocol=ldap").status_code == 400


def test_mapper_crud_and_count(operator_client):
    Group.objects.create(name="admins")
    operator_client.post(IDPS, oidc_body(), format="json")
    mapper = {
        "name": "admins",
        "identity_provider_mapper": "oidc-advanced-group-idp-mapper",
        "config": {"claim": "groups", "claim_value": "idp-admins", "group": "admins"},
    }

    created = operator_client.post(f"{IDPS}/corp-oidc/mappers", mapper, format="json")
    assert created.status_code == 201, created.content
    mapper_id = created.json()["id"]
    assert operator_client.get(f"{IDPS}/corp-oidc").json()["mapper_count"] == 1
    assert operator_client.post(f"{IDPS}/corp-oidc/mappers", mapper, format="json").status_code == 409
    changed = operator_client.patch(f"{IDPS}/corp-oidc/mappers/{mapper_id}", {"name": "renamed"}, format="json")
    assert changed.status_code == 200 and changed.json()["name"] == "renamed"
    assert [m["name"] for m in operator_client.get(f"{IDPS}/corp-oidc/mappers").json()] == ["renamed"]
    assert operator_client.delete(f"{IDPS}/corp-oidc/mappers/{mapper_id}").status_code == 204
    assert operator_client.get(f"{IDPS}/corp-oidc").json()["mapper_count"] == 0
    assert operator_client.get(f"{IDPS}/corp-oidc/mappers/{mapper_id}").status_code == 404


def mapper(mapper_type: str, config, name: str = "m") -> dict:
    return {"name": name, "identity_provider_mapper": mapper_type, "config": config}


GROUP, ATTRIBUTE, HARDCODED_GROUP = (
    "oidc-advanced-group-idp-mapper",
    "oidc-user-attribute-idp-mapper",
    "oidc-hardcoded-group-idp-mapper",
)


@pytest.mark.parametrize(
    "mapper,field",
    [
        (mapper(GROUP, {"claim": "groups", "claim_value": "x", "group": "no-such-group"}), "config.group"),
        (mapper(GROUP, {"claim": "groups", "group": "admins"}), "config.claim_value"),
        (mapper(ATTRIBUTE, {"claim": "email", "user_attribute": "email", "extra": "x"}), "config.extra"),
        (
            mapper("saml-user-attribute-idp-mapper", {"attribute_name": "mail", "user_attribute": "email"}),
            "identity_provider_mapper",
        ),
        (mapper("oidc-username-idp-mapper", {"template": "${NOPE.x}"}), "config.template"),
        (mapper(HARDCODED_GROUP, {"group": "admins"}, name=""), "name"),
        (mapper(HARDCODED_GROUP, "admins"), "config"),
    ],
)
def test_malformed_mapper_configs_are_rejected(operator_client, mapper, field):
    Group.objects.create(name="admins")
    operator_client.post(IDPS, oidc_body(), format="json")

    response = operator_client.post(f"{IDPS}/corp-oidc/mappers", mapper, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not IdentityProviderMapper.objects.exists()


def test_dry_run_applies_every_mapper_type(operator_client):
    Group.objects.create(name="admins")
    Group.objects.create(name="employees")
    mappers = [
        {
            "name": "email",
            "identity_provider_mapper": "oidc-user-attribute-idp-mapper",
            "config": {"claim": "email", "user_attribute": "email"},
        },
        {
            "name": "country",
            "identity_provider_mapper": "oidc-user-attribute-idp-mapper",
            "config": {"claim": "address.country", "user_attribute": "country"},
        },
        {
            "name": "admins",
            "identity_provider_mapper": "oidc-advanced-group-idp-mapper",
            "config": {"claim": "groups", "claim_value": "idp-admins", "group": "admins"},
        },
        {
            "name": "everyone",
            "identity_provider_mapper": "oidc-hardcoded-group-idp-mapper",
            "config": {"group": "employees"},
        },
        {
            "name": "source",
            "identity_provider_mapper": "hardcoded-attribute-idp-mapper",
            "config": {"user_attribute": "source", "attribute_value": "sso"},
        },
        {
            "name": "username",
            "identity_provider_mapper": "oidc-username-idp-mapper",
            "config": {"template": "${CLAIM.preferred_username}@${ALIAS}"},
        },
    ]
    operator_client.post(IDPS, oidc_body(mappers=mappers), format="json")
    claims = {
        "email": "ada@corp.test",
        "address": {"country": "UK"},
        "groups": ["idp-admins", "staff"],
        "preferred_username": "ada",
    }

    response = operator_client.post(f"{IDPS}/corp-oidc/mappers/dry-run", {"claims": claims}, format="json")

    assert response.status_code == 200, response.content
    result = response.json()
    assert result["attributes"] == {"email": "ada@corp.test", "country": "UK", "source": "sso"}
    assert result["groups"] == ["admins", "employees"]
    assert result["username"] == "ada@corp-oidc"
    assert [row["name"] for row in result["applied"]] == [m["name"] for m in mappers]
    assert IdentityProviderMapper.objects.count() == 6


def test_dry_run_rejects_non_object_claims(operator_client):
    operator_client.post(IDPS, oidc_body(), format="json")

    response = operator_client.post(f"{IDPS}/corp-oidc/mappers/dry-run", {"claims": ["a"]}, format="json")

    assert response.status_code == 400
    assert "claims" in response.json()
