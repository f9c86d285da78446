"""Changing and reading identity providers through the API: updates that keep or require the
secret, what cannot change, enabling and the public list, domain verification through DNS, and reads
that copy nothing secret at a flat query count."""

from accounts.models import Workspace
from providers.identity.services import identity_provider_verify_domains
from providers.models import IdentityProvider, IdentityProviderDomain, Provider

from .dialects import CANONICAL as IDPS
from .dialects import oidc_body


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


def test_domains_are_stored_lowercased_without_a_trailing_dot(operator_client):
    created = operator_client.post(
        IDPS, oidc_body(domains=["Corp.TEST.", "corp.test", "EU.Corp.Test.."]), format="json"
    )
    operator_client.post(IDPS, oidc_body(alias="second"), format="json")
    patched = operator_client.patch(f"{IDPS}/second", {"domains": ["Second.Test."]}, format="json")

    assert created.status_code == 201, created.content
    assert patched.status_code == 200, patched.content
    assert sorted(IdentityProviderDomain.objects.values_list("domain", flat=True)) == [
        "corp.test",
        "eu.corp.test",
        "second.test",
    ]


def test_a_domain_verified_by_another_provider_of_the_workspace_is_not_verified_again(operator_client, fake_dns):
    first = operator_client.post(IDPS, oidc_body(alias="first", domains=["corp.test"]), format="json").json()
    second = operator_client.post(IDPS, oidc_body(alias="second", domains=["Corp.Test."]), format="json").json()
    elsewhere = operator_client.post(IDPS, oidc_body(alias="elsewhere", domains=["corp.test"]), format="json").json()
    Provider.objects.filter(provider_id="elsewhere").update(
        workspace=Workspace.objects.create(name="other", display_name="Other")
    )
    fake_dns.records["corp.test"] = [first["txt_record"], second["txt_record"], elsewhere["txt_record"]]

    verified = operator_client.post(f"{IDPS}/first/verify-domains").json()
    refused = operator_client.post(f"{IDPS}/second/verify-domains").json()
    other_workspace = identity_provider_verify_domains(
        provider=Provider.objects.get(provider_id="elsewhere"), actor=None
    )

    assert verified["status"] == "active"
    assert refused["status"] == "pending"
    assert refused["verification"] == [
        {
            "domain": "corp.test",
            "verified": False,
            "detail": "Already verified by identity provider “first” of this workspace.",
        }
    ]
    assert [check.verified for check in other_workspace] == [True]
    assert dict(
        IdentityProviderDomain.objects.filter(verified_at__isnull=False).values_list(
            "identity__provider__provider_id", "domain"
        )
    ) == {"first": "corp.test", "elsewhere": "corp.test"}
