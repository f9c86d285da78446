import json

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from providers.identity.mappers import (
    KEPT_MAPPER_TYPES,
    MAPPER_TYPES,
    SYNC_MODES,
    mapper_config_validate,
    mapper_types_catalogue,
)
from providers.identity.mapping import MapperSpec, apply_mappers


def error_dict(**kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as excinfo:
        mapper_config_validate(**kwargs)
    return excinfo.value.message_dict


def test_attribute_importer_copies_claims_including_dotted_paths_and_lists():
    mappers = [
        MapperSpec("email", "oidc-user-attribute-idp-mapper", {"claim": "email", "user_attribute": "email"}),
        MapperSpec(
            "country", "oidc-user-attribute-idp-mapper", {"claim": "address.country", "user_attribute": "country"}
        ),
        MapperSpec("roles", "oidc-user-attribute-idp-mapper", {"claim": "roles", "user_attribute": "roles"}),
    ]
    claims = {"email": "ada@example.com", "address": {"country": "UK", "locality": "London"}, "roles": ["a", "b"]}

    result = apply_mappers(mappers=mappers, claims=claims)

    assert result.attributes == {"email": "ada@example.com", "country": "UK", "roles": ["a", "b"]}
    assert [entry["matched"] for entry in result.applied] == [True, True, True]
    assert result.groups == []
    assert result.username is None


def test_attribute_importer_skips_a_missing_claim():
    mappers = [
        MapperSpec("dept", "oidc-user-attribute-idp-mapper", {"claim": "department", "user_attribute": "dept"}),
        MapperSpec("zip", "oidc-user-attribute-idp-mapper", {"claim": "address.postal_code", "user_attribute": "zip"}),
    ]

    result = apply_mappers(mappers=mappers, claims={"address": "not an object"})

    assert result.attributes == {}
    assert result.applied == [
        {
            "name": "dept",
            "type": "oidc-user-attribute-idp-mapper",
            "matched": False,
            "detail": '"department" not present.',
        },
        {
            "name": "zip",
            "type": "oidc-user-attribute-idp-mapper",
            "matched": False,
            "detail": '"address.postal_code" not present.',
        },
    ]


def test_attribute_importer_finds_a_namespaced_claim_whose_name_contains_dots():
    claim = "https://example.com/roles"
    mappers = [MapperSpec("roles", "oidc-user-attribute-idp-mapper", {"claim": claim, "user_attribute": "roles"})]

    result = apply_mappers(mappers=mappers, claims={claim: ["admin"]})

    assert result.attributes == {"roles": ["admin"]}


def test_saml_attribute_importer_looks_up_the_attribute_name_verbatim():
    oid = "urn:oid:0.9.2342.19200300.100.1.3"
    mappers = [MapperSpec("mail", "saml-user-attribute-idp-mapper", {"attribute_name": oid, "user_attribute": "email"})]

    result = apply_mappers(mappers=mappers, claims={oid: ["ada@example.com"]})

    assert result.attributes == {"email": ["ada@example.com"]}


def test_claim_to_group_matches_scalar_and_list_claims_and_not_other_values():
    config = {"claim": "groups", "claim_value": "admins", "group": "Admins"}
    mappers = [MapperSpec("admins", "oidc-advanced-group-idp-mapper", config)]

    assert apply_mappers(mappers=mappers, claims={"groups": "admins"}).groups == ["Admins"]
    assert apply_mappers(mappers=mappers, claims={"groups": ["users", "admins"]}).groups == ["Admins"]
    for claims in ({"groups": "users"}, {"groups": ["users"]}, {"groups": []}, {}, {"groups": {"admins": 1}}):
        result = apply_mappers(mappers=mappers, claims=claims)
        assert result.groups == []
        assert result.applied[0]["matched"] is False


def test_claim_to_group_compares_odd_claim_types_as_strings():
    mappers = [
        MapperSpec("level", "oidc-advanced-group-idp-mapper", {"claim": "level", "claim_value": "42", "group": "L42"}),
        MapperSpec("staff", "oidc-advanced-group-idp-mapper", {"claim": "staff", "claim_value": "true", "group": "S"}),
        MapperSpec(
            "nested", "oidc-advanced-group-idp-mapper", {"claim": "org.ids", "claim_value": "7", "group": "Org7"}
        ),
    ]
    claims = {"level": 42, "staff": True, "org": {"ids": [1.5, 7, None, {"x": 1}]}}

    result = apply_mappers(mappers=mappers, claims=claims)

    assert result.groups == ["L42", "S", "Org7"]


def test_saml_attribute_to_group_matches_a_multi_valued_attribute():
    config = {"attribute_name": "memberOf", "attribute_value": "cn=admins", "group": "Admins"}
    mappers = [MapperSpec("admins", "saml-advanced-group-idp-mapper", config)]

    assert apply_mappers(mappers=mappers, claims={"memberOf": ["cn=users", "cn=admins"]}).groups == ["Admins"]
    assert apply_mappers(mappers=mappers, claims={"memberOf": ["cn=users"]}).groups == []


def test_hardcoded_group_and_attribute_always_apply():
    mappers = [
        MapperSpec("everyone", "oidc-hardcoded-group-idp-mapper", {"group": "Staff"}),
        MapperSpec(
            "source",
            "hardcoded-attribute-idp-mapper",
            {"user_attribute": "source", "attribute_value": "okta"},
        ),
    ]

    result = apply_mappers(mappers=mappers, claims={})

    assert result.groups == ["Staff"]
    assert result.attributes == {"source": "okta"}
    assert [entry["matched"] for entry in result.applied] == [True, True]


def test_username_template_renders_claims_and_alias():
    mappers = [MapperSpec("username", "oidc-username-idp-mapper", {"template": "${CLAIM.email}-${ALIAS}"})]

    result = apply_mappers(mappers=mappers, claims={"email": "ada@example.com"}, alias="okta")

    assert result.username == "ada@example.com-okta"
    assert result.applied[0]["matched"] is True


def test_username_template_renders_a_missing_claim_as_empty():
    partial = [MapperSpec("u", "oidc-username-idp-mapper", {"template": "${CLAIM.email}-ext"})]
    empty = [MapperSpec("u", "oidc-username-idp-mapper", {"template": " ${CLAIM.preferred_username} "})]

    assert apply_mappers(mappers=partial, claims={}).username == "-ext"
    result = apply_mappers(mappers=empty, claims={"email": "ada@example.com"})
    assert result.username is None
    assert result.applied[0]["matched"] is False


def test_username_template_renders_nested_and_numeric_claims():
    mappers = [MapperSpec("u", "oidc-username-idp-mapper", {"template": "${CLAIM.profile.login}.${CLAIM.uid}"})]

    result = apply_mappers(mappers=mappers, claims={"profile": {"login": "ada"}, "uid": 1001})

    assert result.username == "ada.1001"


def test_mappers_apply_in_order_and_groups_are_deduplicated():
    mappers = [
        MapperSpec("staff", "oidc-hardcoded-group-idp-mapper", {"group": "Staff"}),
        MapperSpec(
            "admins", "oidc-advanced-group-idp-mapper", {"claim": "groups", "claim_value": "a", "group": "Admins"}
        ),
        MapperSpec(
            "staff-again", "oidc-advanced-group-idp-mapper", {"claim": "groups", "claim_value": "s", "group": "Staff"}
        ),
        MapperSpec("dept", "hardcoded-attribute-idp-mapper", {"user_attribute": "dept", "attribute_value": "default"}),
        MapperSpec("dept-claim", "oidc-user-attribute-idp-mapper", {"claim": "department", "user_attribute": "dept"}),
        MapperSpec("first", "oidc-username-idp-mapper", {"template": "${CLAIM.sub}"}),
        MapperSpec("second", "oidc-username-idp-mapper", {"template": "${CLAIM.email}"}),
    ]
    claims = {"groups": ["s", "a"], "department": "R&D", "sub": "123", "email": "ada@example.com"}

    result = apply_mappers(mappers=mappers, claims=claims, alias="corp")

    assert result.groups == ["Staff", "Admins"]
    assert result.attributes == {"dept": "R&D"}
    assert result.username == "ada@example.com"
    assert [entry["name"] for entry in result.applied] == [m.name for m in mappers]
    assert all(entry["matched"] for entry in result.applied)


def test_apply_mappers_reports_an_unknown_type_without_raising():
    result = apply_mappers(mappers=[MapperSpec("x", "no-such-mapper", {})], claims={"a": 1})

    assert [(entry["name"], entry["matched"]) for entry in result.applied] == [("x", False)]
    assert (result.attributes, result.groups, result.username) == ({}, [], None)


@pytest.mark.django_db
def test_validate_returns_the_cleaned_config_for_every_type():
    Group.objects.create(name="Admins")
    valid = {
        "oidc-user-attribute-idp-mapper": {"claim": "address.country", "user_attribute": "country"},
        "saml-user-attribute-idp-mapper": {"attribute_name": "mail", "user_attribute": "email"},
        "oidc-advanced-group-idp-mapper": {"claim": "groups", "claim_value": "admins", "group": "Admins"},
        "saml-advanced-group-idp-mapper": {"attribute_name": "memberOf", "attribute_value": "a", "group": "Admins"},
        "oidc-hardcoded-group-idp-mapper": {"group": "Admins"},
        "hardcoded-attribute-idp-mapper": {"user_attribute": "source", "attribute_value": "okta"},
        "oidc-username-idp-mapper": {"template": "${CLAIM.email}-${ALIAS}"},
    }
    # Keycloak's types kept as sent: every key they define, each optional.
    valid.update({key: {f.name: f"{f.name} value" for f in m.fields} for key, m in KEPT_MAPPER_TYPES.items()})

    assert set(valid) == set(MAPPER_TYPES)
    for mapper_type, config in valid.items():
        assert mapper_config_validate(mapper_type=mapper_type, config=dict(config)) == config


def test_validate_rejects_an_unknown_type():
    assert error_dict(mapper_type="oidc-nope", config={}) == {
        "identity_provider_mapper": ['Unknown mapper type "oidc-nope".']
    }


def test_validate_rejects_a_type_that_does_not_apply_to_the_protocol():
    errors = error_dict(
        mapper_type="saml-user-attribute-idp-mapper",
        config={"attribute_name": "mail", "user_attribute": "email"},
        protocol="oidc",
    )

    assert list(errors) == ["identity_provider_mapper"]
    assert mapper_config_validate(
        mapper_type="saml-user-attribute-idp-mapper",
        config={"attribute_name": "mail", "user_attribute": "email"},
        protocol="saml",
    )


@pytest.mark.parametrize("config", [None, [], "claim=email", 3])
def test_validate_rejects_a_config_that_is_not_an_object(config):
    assert error_dict(mapper_type="oidc-user-attribute-idp-mapper", config=config) == {
        "config": ["Expected an object."]
    }


def test_validate_rejects_missing_and_empty_required_fields():
    errors = error_dict(mapper_type="oidc-user-attribute-idp-mapper", config={"claim": "  "})

    assert errors == {
        "config.claim": ["This field is required."],
        "config.user_attribute": ["This field is required."],
    }


def test_validate_rejects_unknown_keys():
    config = {"claim": "email", "user_attribute": "email", "syncMode": "FORCE"}

    assert error_dict(mapper_type="oidc-user-attribute-idp-mapper", config=config) == {
        "config.syncMode": ["Unknown field for oidc-user-attribute-idp-mapper."]
    }


@pytest.mark.parametrize("value", [1, True, ["email"], {"a": "b"}])
def test_validate_rejects_values_that_are_not_strings(value):
    config = {"claim": value, "user_attribute": "email"}

    assert error_dict(mapper_type="oidc-user-attribute-idp-mapper", config=config) == {
        "config.claim": ["Expected a string."]
    }


def test_validate_rejects_too_long_values_and_nul_characters():
    config = {"user_attribute": "x" * 1001, "attribute_value": "a\x00b"}

    errors = error_dict(mapper_type="hardcoded-attribute-idp-mapper", config=config)

    assert set(errors) == {"config.user_attribute", "config.attribute_value"}
    assert mapper_config_validate(
        mapper_type="hardcoded-attribute-idp-mapper", config={"user_attribute": "x" * 1000, "attribute_value": "v"}
    )


@pytest.mark.django_db
def test_validate_rejects_a_group_that_does_not_exist():
    Group.objects.create(name="Admins")

    assert error_dict(mapper_type="oidc-hardcoded-group-idp-mapper", config={"group": "x"}) == {
        "config.group": ['No group named "x".']
    }
    assert error_dict(mapper_type="oidc-hardcoded-group-idp-mapper", config={"group": "admins"}) == {
        "config.group": ['No group named "admins".']
    }


@pytest.mark.parametrize(
    "template",
    [
        "${USER.email}",
        "${CLAIM.}",
        "${claim.email}",
        "${ALIAS}${ATTRIBUTE.x}",
        "${CLAIM.email | lowercase",
        "${CLAIM.email | lowercase}",
        "${}",
    ],
)
def test_validate_rejects_unknown_username_template_placeholders(template):
    errors = error_dict(mapper_type="oidc-username-idp-mapper", config={"template": template})

    assert list(errors) == ["config.template"]


@pytest.mark.parametrize("template", ["${CLAIM.preferred_username}", "${CLAIM.email}-ext", "$${ALIAS}", "plain"])
def test_validate_accepts_known_username_template_placeholders(template):
    assert mapper_config_validate(mapper_type="oidc-username-idp-mapper", config={"template": template}) == {
        "template": template
    }


def test_catalogue_lists_every_type_and_filters_by_protocol():
    everything = mapper_types_catalogue()
    saml = mapper_types_catalogue("saml")
    oidc = mapper_types_catalogue("oidc")

    assert [entry["id"] for entry in everything] == list(MAPPER_TYPES)
    assert {entry["id"] for entry in saml} == {
        "saml-user-attribute-idp-mapper",
        "saml-advanced-group-idp-mapper",
        "oidc-hardcoded-group-idp-mapper",
        "hardcoded-attribute-idp-mapper",
        "oidc-username-idp-mapper",
        # Keycloak's, kept and not applied
        "oidc-hardcoded-role-idp-mapper",
        "hardcoded-user-session-attribute-idp-mapper",
        "saml-role-idp-mapper",
        "saml-advanced-role-idp-mapper",
    }
    assert {entry["id"] for entry in saml if not entry["applied"]} == {
        key for key, m in KEPT_MAPPER_TYPES.items() if "saml" in m.protocols
    }
    assert {entry["id"] for entry in oidc} == {entry["id"] for entry in mapper_types_catalogue("oauth2")}
    assert "saml-user-attribute-idp-mapper" not in {entry["id"] for entry in oidc}
    assert mapper_types_catalogue("ldap") == []


def test_catalogue_entries_are_json_ready():
    entry = next(e for e in mapper_types_catalogue() if e["id"] == "oidc-advanced-group-idp-mapper")

    assert set(entry) == {"id", "label", "help", "protocols", "applied", "config_fields"}
    assert entry["applied"] is True
    assert entry["protocols"] == ["oidc", "oauth2"]
    assert [f["name"] for f in entry["config_fields"]] == ["claim", "claim_value", "group"]
    assert entry["config_fields"][2] == {
        "name": "group",
        "label": "Group",
        "help": "Name of an existing group the user is added to.",
        "required": True,
        "kind": "group",
    }
    assert json.loads(json.dumps(mapper_types_catalogue())) == mapper_types_catalogue()


def test_sync_modes_are_keycloaks():
    assert SYNC_MODES == ("INHERIT", "IMPORT", "LEGACY", "FORCE")


@pytest.mark.parametrize(
    ("value", "message"),
    [("a\x00b", "Null characters are not allowed."), ("x" * 1001, "Ensure this value has at most 1000 characters.")],
    ids=["null-character", "too-long"],
)
def test_a_kept_keycloak_key_is_checked_like_every_value(value, message):
    errors = error_dict(
        mapper_type="oidc-user-attribute-idp-mapper",
        config={"claim": "email", "user_attribute": "email", "attribute.friendly.name": value},
    )

    assert errors == {"config.attribute.friendly.name": [message]}
