import copy
import json

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from providers.api.identity import examples
from providers.identity import services as identity_services
from providers.identity.services import SECRET_MASK
from providers.models import IdentityProvider, IdentityProviderMapper, Provider

from .dialects import CANONICAL as IDPS
from .dialects import oidc_body


# The reference document's example (identity-providers-oidc-saml-mappers.txt) with its
# "<string>" placeholders filled with real values; every key it names is sent: the portal's example
# with the document's SAML section and the mapper's id (ignored on input).
def reference_body(certificate_pem: str) -> dict:
    body = copy.deepcopy(examples.REFERENCE_EXAMPLE)
    body["saml_config"] = {
        "single_sign_on_service_url": "https://acme.okta.com/app/sso/saml",
        "single_logout_service_url": "https://acme.okta.com/app/slo/saml",
        "name_id_policy_format": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        "signing_certificate": certificate_pem,
        "want_authn_requests_signed": True,
        "post_binding_authn_request": True,
        "post_binding_response": True,
        "sync_mode": "INHERIT",
    }
    body["mappers"][0]["id"] = "ignored-on-input"
    return body


def test_reference_create_example(operator_client, certificate_pem):
    response = operator_client.post(IDPS, reference_body(certificate_pem), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert {key: body[key] for key in ("alias", "display_name", "provider_id", "enabled", "known_provider")} == {
        "alias": "okta-corp",
        "display_name": "Okta (corporate)",
        "provider_id": "oidc",
        "enabled": True,
        "known_provider": "okta",
    }
    assert body["mapper_count"] == 1
    assert body["internal_id"]
    assert body["config"]["client_secret"] == SECRET_MASK
    assert body["config"]["token_url"] == "https://acme.okta.com/oauth2/default/v1/token"
    assert "client-secret-value" not in response.content.decode()
    identity = IdentityProvider.objects.get(provider__provider_id="okta-corp")
    assert identity.client_secret == "client-secret-value"
    assert identity.provider.type == "okta"
    assert identity.mappers.get().config == {"claim": "email", "user_attribute": "email"}


def saml_body(certificate_pem: str, **overrides) -> dict:
    body = {
        "alias": "corp-saml",
        "display_name": "Corporate SAML",
        "provider_id": "saml",
        "known_provider": "custom_saml",
        "saml_config": {
            "single_sign_on_service_url": "https://idp.corp.test/sso",
            "signing_certificate": certificate_pem,
            "name_id_policy_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        },
    }
    body.update(overrides)
    return body


def test_reference_response_shape_lists_document_fields(operator_client, certificate_pem):
    body = operator_client.post(IDPS, reference_body(certificate_pem), format="json").json()

    for key in (
        "alias",
        "display_name",
        "provider_id",
        "enabled",
        "internal_id",
        "known_provider",
        "config",
        "mapper_count",
    ):
        assert key in body
    for key in (
        "trust_email",
        "store_token",
        "add_read_token_role_on_create",
        "authenticate_by_default",
        "link_only",
        "hide_on_login",
        "first_broker_login_flow_alias",
        "update_profile_first_login_mode",
        "status",
        "domains",
        "txt_record",
        "disabled_at",
        "reference",
        "reference_origin",
        "metadata",
    ):
        assert key in body


def test_saml_provider_shows_certificate_expiry(operator_client, certificate_pem):
    response = operator_client.post(IDPS, saml_body(certificate_pem), format="json")

    assert response.status_code == 201, response.content
    config = response.json()["saml_config"]
    assert config["single_sign_on_service_url"] == "https://idp.corp.test/sso"
    assert config["certificate_expires_at"].startswith(str(IdentityProvider.objects.get().certificate_expires_at.year))
    assert response.json()["oidc_config"] is None
    assert Provider.objects.get(provider_id="corp-saml").type == "saml"


@pytest.mark.parametrize(
    "saml_changes,field",
    [
        ({"signing_certificate": ""}, "saml_config.signing_certificate"),
        ({"signing_certificate": "CERT"}, "saml_config.signing_certificate"),
        (
            {"signing_certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"},
            "saml_config.signing_certificate",
        ),
        ({"single_sign_on_service_url": ""}, "saml_config.single_sign_on_service_url"),
        ({"single_sign_on_service_url": "not a url"}, "saml_config.single_sign_on_service_url"),
    ],
)
def test_saml_rules(operator_client, certificate_pem, saml_changes, field):
    body = saml_body(certificate_pem)
    body["saml_config"].update(saml_changes)

    response = operator_client.post(IDPS, body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Provider.objects.exists()


def test_oidc_needs_endpoints_or_an_issuer(operator_client):
    body = oidc_body(oidc_config={"client_id": "x"})

    response = operator_client.post(IDPS, body, format="json")

    assert response.status_code == 400
    assert "oidc_config.issuer" in response.json()


def test_oidc_with_issuer_only_is_accepted(operator_client):
    body = oidc_body(oidc_config={"issuer": "https://sso.corp.test/realms/main", "client_id": "registry"})

    assert operator_client.post(IDPS, body, format="json").status_code == 201


@pytest.mark.parametrize(
    "change,field",
    [
        ({"provider_id": "ldap"}, "provider_id"),
        ({"known_provider": "myspace"}, "known_provider"),
        ({"known_provider": "custom_saml"}, "known_provider"),
        ({"oidc_config": {"issuer": "https://x.test", "pkce_method": "S512"}}, "oidc_config.pkce_method"),
        ({"oidc_config": {"issuer": "https://x.test", "sync_mode": "SOMETIMES"}}, "oidc_config.sync_mode"),
        ({"oidc_config": {"issuer": "https://x.test", "client_auth_method": "none"}}, "oidc_config.client_auth_method"),
        ({"oidc_config": {"issuer": "https://x.test", "token_url": "ftp://x.test"}}, "oidc_config.token_url"),
        ({"oidc_config": {"issuer": "javascript:alert(1)"}}, "oidc_config.issuer"),
        ({"oidc_config": {"issuer": "https://x.test", "validate_signature": "yes"}}, "oidc_config.validate_signature"),
        ({"oidc_config": {"issuer": "https://x.test", "client_secret": "s"}}, "oidc_config.client_id"),
        ({"update_profile_first_login_mode": "always"}, "update_profile_first_login_mode"),
        ({"alias": "has space"}, "alias"),
        ({"alias": "a" * 65}, "alias"),
        ({"display_name": ""}, "display_name"),
        ({"metadata": ["not", "an", "object"]}, "metadata"),
        ({"metadata": {"blob": "x" * 20_000}}, "metadata"),
        ({"domains": ["not a domain"]}, "domains"),
        ({"domains": "corp.test"}, "domains"),
        ({"trust_email": 1}, "trust_email"),
        (
            {"mappers": [{"name": "m", "identity_provider_mapper": "no-such-mapper"}]},
            "mappers.0.identity_provider_mapper",
        ),
        (
            {"mappers": [{"name": "m", "identity_provider_mapper": "oidc-user-attribute-idp-mapper", "config": {}}]},
            "mappers.0.config.claim",
        ),
        ({"unknown_option": True}, "unknown_option"),
    ],
)
def test_bad_identity_provider_input_names_the_field(operator_client, change, field):
    body = oidc_body()
    body.update(change)

    response = operator_client.post(IDPS, body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not IdentityProvider.objects.exists()
    assert not Provider.objects.exists()


@pytest.mark.parametrize(
    "known,issuer,expected",
    [
        ("google", "", {"token_url": "https://oauth2.googleapis.com/token", "issuer": "https://accounts.google.com"}),
        (
            "keycloak",
            "https://sso.test/realms/acme",
            {
                "authorization_url": "https://sso.test/realms/acme/protocol/openid-connect/auth",
                "jwks_url": "https://sso.test/realms/acme/protocol/openid-connect/certs",
            },
        ),
        (
            "entra_id",
            "https://login.microsoftonline.com/tenant-1/v2.0",
            {"token_url": "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token"},
        ),
        ("auth0", "https://acme.eu.auth0.com/", {"token_url": "https://acme.eu.auth0.com/oauth/token"}),
        (
            "okta",
            "https://acme.okta.com/oauth2/default",
            {"authorization_url": "https://acme.okta.com/oauth2/default/v1/authorize"},
        ),
    ],
)
def test_known_provider_presets_fill_endpoints_and_scope(operator_client, known, issuer, expected):
    config = {"client_id": "c"}
    if issuer:
        config["issuer"] = issuer
    body = {
        "alias": known.replace("_", "-"),
        "display_name": known,
        "provider_id": "oidc",
        "known_provider": known,
        "oidc_config": config,
    }

    response = operator_client.post(IDPS, body, format="json")

    assert response.status_code == 201, response.content
    oidc = response.json()["oidc_config"]
    assert oidc["default_scope"] == "openid email profile"
    for name, value in expected.items():
        assert oidc[name] == value


def test_github_preset_is_oauth2_with_its_scopes(operator_client):
    body = {
        "alias": "gh-login",
        "display_name": "GitHub",
        "provider_id": "oauth2",
        "known_provider": "github",
        "oidc_config": {"client_id": "Iv1.abc", "client_secret": "s"},
    }

    response = operator_client.post(IDPS, body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["oidc_config"]["default_scope"] == "read:user user:email"
    assert response.json()["oidc_config"]["token_url"] == "https://github.com/login/oauth/access_token"


def test_put_with_the_read_body_keeps_the_secret(operator_client):
    operator_client.post(IDPS, oidc_body(), format="json")
    read = operator_client.get(f"{IDPS}/corp-oidc").json()
    body = {
        "alias": read["alias"],
        "display_name": read["display_name"],
        "provider_id": read["provider_id"],
        "oidc_config": {key: value for key, value in read["oidc_config"].items() if value is not None},
    }

    response = operator_client.put(f"{IDPS}/corp-oidc", body, format="json")

    assert response.status_code == 200, response.content
    assert IdentityProvider.objects.get().client_secret == "corp-oidc-secret"


def test_moving_the_token_endpoint_needs_the_secret_again(operator_client):
    operator_client.post(IDPS, oidc_body(), format="json")
    moved = {"oidc_config": {"token_url": "https://elsewhere.test/token"}}

    refused = operator_client.patch(f"{IDPS}/corp-oidc", moved, format="json")

    assert refused.status_code == 400
    assert "oidc_config.client_secret" in refused.json()
    assert IdentityProvider.objects.get().token_url == "https://sso.corp.test/realms/main/token"
    moved["oidc_config"]["client_secret"] = "again"
    assert operator_client.patch(f"{IDPS}/corp-oidc", moved, format="json").status_code == 200


def test_alias_and_protocol_cannot_change(operator_client):
    operator_client.post(IDPS, oidc_body(), format="json")

    assert "alias" in operator_client.patch(f"{IDPS}/corp-oidc", {"alias": "other"}, format="json").json()
    assert "provider_id" in operator_client.patch(f"{IDPS}/corp-oidc", {"provider_id": "saml"}, format="json").json()


def test_enable_disable_and_the_public_list(operator_client, client):
    operator_client.post(IDPS, oidc_body(), format="json")

    def public_names() -> list[str]:
        response = client.get("/api/idps")
        assert response.status_code == 200
        return [item["name"] for item in response.json()["providers"]]

    assert public_names() == ["corp-oidc"]
    disabled = operator_client.post(f"{IDPS}/corp-oidc/disable").json()
    assert disabled["enabled"] is False and disabled["disabled_at"]
    assert public_names() == []
    enabled = operator_client.post(f"{IDPS}/corp-oidc/enable").json()
    assert enabled["enabled"] is True and enabled["disabled_at"] is None
    assert public_names() == ["corp-oidc"]


def test_public_list_leaves_out_hidden_link_only_and_pending(operator_client, client):
    operator_client.post(IDPS, oidc_body(alias="shown"), format="json")
    operator_client.post(IDPS, oidc_body(alias="hidden", hide_on_login=True), format="json")
    operator_client.post(IDPS, oidc_body(alias="linkonly", link_only=True), format="json")
    operator_client.post(IDPS, oidc_body(alias="pending", domains=["corp.test"]), format="json")

    body = client.get("/api/idps").json()

    assert [item["name"] for item in body["providers"]] == ["shown"]
    assert set(body["providers"][0]) == {"id", "name", "type", "display_name", "enabled", "created_at"}
    assert "corp-oidc-secret" not in str(body) and "registry" not in str(body)


def test_public_list_works_with_a_stale_token(client, db):
    response = client.get("/api/idps", HTTP_AUTHORIZATION="Bearer prt_revoked_or_unknown")

    assert response.status_code == 200


def test_domains_verification_through_dns(operator_client, fake_dns):
    body = operator_client.post(
        IDPS, oidc_body(domains=["corp.test", "Corp.test", "eu.corp.test"]), format="json"
    ).json()
    assert body["status"] == "pending"
    assert [row["domain"] for row in body["domains"]] == ["corp.test", "eu.corp.test"]
    txt = body["txt_record"]
    assert txt.startswith("registry-verification=")

    fake_dns.records["corp.test"] = ["v=spf1 -all", txt]
    first = operator_client.post(f"{IDPS}/corp-oidc/verify-domains").json()
    assert first["status"] == "pending"
    assert {row["domain"]: row["verified"] for row in first["verification"]} == {
        "corp.test": True,
        "eu.corp.test": False,
    }

    fake_dns.records["eu.corp.test"] = [txt]
    second = operator_client.post(f"{IDPS}/corp-oidc/verify-domains").json()
    assert second["status"] == "active"
    assert all(row["verified"] for row in second["domains"])


def test_domain_verification_reports_dns_failures(operator_client, fake_dns):
    operator_client.post(IDPS, oidc_body(domains=["slow.test"]), format="json")
    fake_dns.timeouts.add("slow.test")

    body = operator_client.post(f"{IDPS}/corp-oidc/verify-domains").json()

    assert body["status"] == "pending"
    assert body["verification"][0]["verified"] is False
    assert "slow.test" in body["verification"][0]["detail"]


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


def test_identity_provider_list_query_count_is_flat(operator_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    created = 0
    for size in (1, 20, 60):
        for n in range(created, size):
            operator_client.post(IDPS, oidc_body(alias=f"idp-{n:03d}", domains=[f"d{n}.test"]), format="json")
        created = size
        with CaptureQueriesContext(connection) as ctx:
            response = operator_client.get(f"{IDPS}?page_size=100")
        assert len(response.json()["results"]) == size
        counts[size] = len(ctx.captured_queries)
        assert not any('."client_secret"' in q["sql"] for q in ctx.captured_queries)

    assert counts[1] == counts[20] == counts[60], counts


def test_reads_copy_nothing_secret(operator_client):
    operator_client.post(IDPS, oidc_body(), format="json")

    for path in (IDPS, f"{IDPS}/corp-oidc", "/api/identity_providers", "/api/backend/providers"):
        response = operator_client.get(path)
        assert response.status_code == 200, path
        assert "corp-oidc-secret" not in response.content.decode(), path


def test_generic_providers_api_cannot_change_an_identity_providers_type(operator_client):
    operator_client.post(IDPS, oidc_body(), format="json")

    response = operator_client.patch("/api/backend/providers/corp-oidc", {"type": "okta"}, format="json")

    assert response.status_code == 400
    assert "type" in response.json()
    assert Provider.objects.get(provider_id="corp-oidc").type == "oidc"


def test_a_read_body_can_be_sent_back_verbatim(operator_client, certificate_pem):
    operator_client.post(IDPS, saml_body(certificate_pem), format="json")
    operator_client.post(IDPS, oidc_body(), format="json")

    for alias in ("corp-saml", "corp-oidc"):
        read = operator_client.get(f"{IDPS}/{alias}").json()
        body = {key: read[key] for key in ("alias", "display_name", "provider_id", "oidc_config", "saml_config")}
        body = {key: value for key, value in body.items() if value is not None}

        response = operator_client.put(f"{IDPS}/{alias}", body, format="json")

        assert response.status_code == 200, response.content
    assert IdentityProvider.objects.get(provider__provider_id="corp-oidc").client_secret == "corp-oidc-secret"


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_metadata_nested_past_the_limit_is_a_400_not_a_crash(operator_client):
    body = json.dumps({**oidc_body(), "metadata": nested(890)})

    response = operator_client.generic("POST", IDPS, body, content_type="application/json")

    assert response.status_code == 400
    assert "nested more than 32 levels" in response.json()["detail"]
    assert not IdentityProvider.objects.exists()


def test_metadata_depth_is_checked_by_the_service_too(operator):
    with pytest.raises(ValidationError) as excinfo:
        identity_services.identity_provider_create(
            actor=operator,
            alias="deep",
            display_name="Deep",
            protocol="oidc",
            data={"issuer": "https://deep.test", "metadata": nested(33)},
        )

    assert "metadata" in excinfo.value.message_dict
    identity_services.identity_provider_create(
        actor=operator,
        alias="ok",
        display_name="OK",
        protocol="oidc",
        data={"metadata": nested(32), "issuer": "https://ok.test"},
    )


# identity-provider-broker-options.txt, "Sample Request Body", verbatim (Keycloak's representation):
# the portal's example without its issuer.
BROKER_OPTIONS_EXAMPLE = {**examples.BROKER_OPTIONS_EXAMPLE, "config": {}}


def test_broker_options_example_verbatim_is_understood_and_asks_for_the_issuer(operator_client):
    response = operator_client.post(IDPS, BROKER_OPTIONS_EXAMPLE, format="json")

    # Every field is accepted; an OIDC provider with an empty config cannot be used for a login.
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"config.issuer"}  # as Keycloak names it: the example is its representation
    assert not Provider.objects.exists()


def test_broker_options_with_a_keycloak_config_create_the_provider(operator_client):
    config = {
        "issuer": "https://sso.example.test/realms/main",
        "clientId": "registry",
        "clientSecret": "keycloak-style-secret",
        "pkceEnabled": "true",
        "syncMode": "FORCE",
    }
    response = operator_client.post(IDPS, {**BROKER_OPTIONS_EXAMPLE, "trustEmail": True, "config": config})

    assert response.status_code == 201, response.content
    read = response.json()
    assert (read["alias"], read["display_name"], read["provider_id"]) == ("keycloak-oidc-2",) * 2 + ("oidc",)
    assert read["known_provider"] == "keycloak"
    assert read["trust_email"] is True
    assert read["update_profile_first_login_mode"] == "on"
    assert read["first_broker_login_flow_alias"] == "first broker login"
    assert read["oidc_config"]["pkce_enabled"] is True
    assert read["oidc_config"]["sync_mode"] == "FORCE"
    assert read["oidc_config"]["client_secret"] == SECRET_MASK
    assert IdentityProvider.objects.get().client_secret == "keycloak-style-secret"


@pytest.mark.parametrize(
    "change,field",
    [
        ({"providerId": "myspace"}, "providerId"),
        ({"trustEmail": "yes"}, "trustEmail"),
        ({"config": {"clientSecretz": "x"}}, "config.clientSecretz"),
        ({"config": {"issuer": "ftp://x.test"}}, "config.issuer"),
        ({"config": []}, "config"),
        ({"trustEmail": True, "trust_email": False}, "trustEmail"),
    ],
)
def test_bad_broker_options_name_the_field_as_sent(operator_client, change, field):
    response = operator_client.post(IDPS, {**BROKER_OPTIONS_EXAMPLE, **change}, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_display_name_defaults_to_the_alias_on_create_only(operator_client):
    body = oidc_body()
    body.pop("display_name")
    assert operator_client.post(IDPS, body, format="json").json()["display_name"] == body["alias"]
    operator_client.patch(f"{IDPS}/{body['alias']}", {"display_name": "Corporate"}, format="json")

    patched = operator_client.patch(f"{IDPS}/{body['alias']}", {"enabled": False}, format="json")

    assert patched.json()["display_name"] == "Corporate"
