import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from providers.identity import services as identity_services
from providers.models import IdentityProvider, IdentityProviderMapper, Provider
from tests.factories import IdentityProviderFactory

ADD = reverse("admin:providers_identityprovider_add")
CHANGELIST = reverse("admin:providers_identityprovider_changelist")


def change_url(identity: IdentityProvider) -> str:
    return reverse("admin:providers_identityprovider_change", args=[identity.pk])


def form_data(**overrides) -> dict:
    data = {
        "alias": "corp-oidc",
        "display_name": "Corporate",
        "protocol": "oidc",
        "known_provider": "",
        "enabled": "on",
        "client_id": "registry",
        "client_secret": "admin-typed-secret",
        "issuer": "https://sso.corp.test/realms/main",
        "default_scope": "openid email profile",
        "client_auth_method": "client_secret_basic",
        "validate_signature": "on",
        "use_jwks_url": "on",
        "pkce_method": "S256",
        "sync_mode": "INHERIT",
        "name_id_policy_format": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        "post_binding_authn_request": "on",
        "post_binding_response": "on",
        "principal_type": "SUBJECT",
        "allow_create": "on",
        "first_broker_login_flow_alias": "first broker login",
        "update_profile_first_login_mode": "on",
        "domain_names": "",
        "metadata": "{}",
        "mappers-TOTAL_FORMS": "0",
        "mappers-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def existing() -> IdentityProvider:
    """What `form_data()` adds, already stored (the endpoints left to discovery from the issuer)."""
    return IdentityProviderFactory(
        alias="corp-oidc", display_name="Corporate", client_secret="stored-secret", authorization_url="", token_url=""
    )


def test_operator_adds_an_oidc_identity_provider(client, operator):
    client.force_login(operator)

    response = client.post(ADD, form_data())

    assert response.status_code == 302, response.content.decode()[:3000]
    identity = IdentityProvider.objects.get(provider__provider_id="corp-oidc")
    assert identity.client_secret == "admin-typed-secret"
    assert identity.provider.label == "Corporate"


def test_admin_enforces_the_services_rules(client, operator, certificate_pem):
    client.force_login(operator)

    no_endpoints = client.post(ADD, form_data(issuer=""))
    bad_saml = client.post(ADD, form_data(protocol="saml", single_sign_on_service_url="", signing_certificate="x"))

    assert no_endpoints.status_code == 200
    assert "Give the issuer" in no_endpoints.content.decode()
    assert bad_saml.status_code == 200
    assert "Not a valid PEM X.509 certificate." in bad_saml.content.decode()
    assert not Provider.objects.exists()


def test_change_page_never_shows_the_secret_and_blank_keeps_it(client, operator):
    identity = existing()
    client.force_login(operator)

    page = client.get(change_url(identity)).content.decode()
    assert "stored-secret" not in page
    assert "set · updated at" in page
    assert 'class="fieldset-heading">SAML 2.0<' not in page  # only the protocol's section
    assert 'class="fieldset-heading">OpenID Connect / OAuth 2.0<' in page

    data = form_data(display_name="Renamed", client_secret="")
    data.pop("alias")
    data.pop("protocol")
    response = client.post(change_url(identity), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    identity.refresh_from_db()
    assert identity.client_secret == "stored-secret"
    assert identity.provider.label == "Renamed"


def test_mappers_inline_is_validated_by_the_catalogue(client, operator):
    identity = existing()
    Group.objects.create(name="admins")
    client.force_login(operator)
    base = form_data(client_secret="")
    base.pop("alias")
    base.pop("protocol")
    good = {
        **base,
        "mappers-TOTAL_FORMS": "1",
        "mappers-0-name": "admins",
        "mappers-0-mapper_type": "oidc-advanced-group-idp-mapper",
        "mappers-0-sync_mode": "INHERIT",
        "mappers-0-config": '{"claim": "groups", "claim_value": "idp-admins", "group": "admins"}',
    }
    bad = {**good, "mappers-0-config": '{"claim": "groups", "claim_value": "x", "group": "nobody"}'}

    refused = client.post(change_url(identity), bad)
    assert refused.status_code == 200
    assert "No group named" in refused.content.decode()
    assert not IdentityProviderMapper.objects.exists()

    accepted = client.post(change_url(identity), good)
    assert accepted.status_code == 302
    assert IdentityProviderMapper.objects.get().config["group"] == "admins"


@pytest.mark.parametrize("operation,enabled", [("disable", False), ("enable", True)])
def test_lifecycle_buttons(client, operator, operation, enabled):
    identity = existing()
    client.force_login(operator)
    url = reverse("admin:providers_identityprovider_lifecycle", args=[identity.pk, operation])

    assert client.get(url).status_code == 403
    response = client.post(url)

    assert response.status_code == 302
    identity.refresh_from_db()
    assert identity.provider.enabled is enabled
    assert (identity.disabled_at is None) is enabled


def test_verify_button_checks_dns(client, operator, fake_dns):
    identity = existing()
    identity_services.identity_provider_update(
        provider=identity.provider, actor=operator, data={}, domains=["corp.test"]
    )
    identity.refresh_from_db()
    fake_dns.records["corp.test"] = [identity.txt_record]
    client.force_login(operator)

    response = client.post(
        reverse("admin:providers_identityprovider_lifecycle", args=[identity.pk, "verify"]), follow=True
    )

    assert "TXT record found" in response.content.decode()
    identity.refresh_from_db()
    assert identity.status == "active"


def test_changelist_and_viewer_role(client, operator):
    from tests.factories import UserFactory

    existing()
    viewer = UserFactory(groups=["identity_provider_viewer"])
    client.force_login(viewer)

    listing = client.get(CHANGELIST)
    assert listing.status_code == 200
    assert "corp-oidc" in listing.content.decode()
    page = client.get(change_url(IdentityProvider.objects.get()))
    assert page.status_code == 200
    assert "stored-secret" not in page.content.decode()
    assert "set · updated at" in page.content.decode()
    assert client.post(ADD, form_data(alias="other")).status_code == 403


@pytest.mark.parametrize("depth", [33, 100_000])
def test_json_nested_too_deeply_is_a_form_error_not_a_crash(client, operator, depth):
    identity = existing()
    client.force_login(operator)
    base = form_data(client_secret="")
    base.pop("alias")
    base.pop("protocol")
    deep = '{"a": ' * depth + "1" + "}" * depth
    mapper = {
        "mappers-TOTAL_FORMS": "1",
        "mappers-0-name": "deep",
        "mappers-0-mapper_type": "oidc-user-attribute-idp-mapper",
        "mappers-0-sync_mode": "INHERIT",
        "mappers-0-config": deep,
    }

    for data in ({**base, "metadata": deep}, {**base, **mapper}):
        response = client.post(change_url(identity), data)
        assert response.status_code == 200
        assert "Nested at most 32 levels deep." in response.content.decode()
    identity.refresh_from_db()
    assert identity.metadata == {}
    assert not IdentityProviderMapper.objects.exists()


def test_changelist_rows_load_the_listed_columns_alone(client, operator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(3):
        IdentityProviderFactory(alias=f"idp-{n}", display_name=f"Identity {n}", issuer=f"https://sso{n}.test")
    client.force_login(operator)

    with CaptureQueriesContext(connection) as captured:
        listing = client.get(CHANGELIST)

    assert listing.status_code == 200
    rows = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "providers_identityprovider"')]
    assert len(rows) == 1  # no column read again row by row
    assert '"issuer"' not in rows[0] and '"client_id"' not in rows[0]
    page = listing.content.decode()
    for n in range(3):
        assert f">idp-{n}</a>" in page and f"Identity {n}" in page
    assert [identity.provider.label for identity in listing.context["cl"].result_list] == [
        "Identity 0",
        "Identity 1",
        "Identity 2",
    ]
