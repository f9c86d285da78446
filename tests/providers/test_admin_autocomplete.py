"""The admin autocomplete behind the project form: git providers only and no secrets,
ids starting with the term first, paging without counting, and only the project form's fields."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from providers import selectors
from providers.models import Provider
from tests.factories import ProviderFactory
from tests.providers.admin_helpers import AUTOCOMPLETE, PROVIDERS_CHANGELIST, logged_in


def autocomplete(client, term: str = ""):
    return client.get(
        AUTOCOMPLETE, {"app_label": "providers", "model_name": "project", "field_name": "provider", "term": term}
    )


def test_provider_autocomplete_gives_owner_git_providers_only_without_secrets(client, owner):
    github = ProviderFactory(provider_id="acme-github", label="ACME GitHub", credential__content={"accessToken": "s1"})
    gitlab = ProviderFactory(provider_id="acme-gitlab", label="ACME GitLab", type="gitlab")
    ProviderFactory(provider_id="acme-okta", label="ACME Okta", type="okta", base_url="https://acme.okta.com")
    ProviderFactory(provider_id="other-github", label="Other")

    response = autocomplete(logged_in(client, owner), "acme")

    assert response.status_code == 200
    body = response.json()
    assert {item["id"] for item in body["results"]} == {str(github.pk), str(gitlab.pk)}
    assert {item["text"] for item in body["results"]} == {"ACME GitHub (acme-github)", "ACME GitLab (acme-gitlab)"}
    raw = response.content.decode()
    assert "okta" not in raw.lower()
    assert "s1" not in raw
    assert github.credential.fingerprint not in raw
    assert "secret" not in raw and "accessToken" not in raw


def test_provider_autocomplete_pages_without_counting(client, owner):
    for n in range(25):
        ProviderFactory(provider_id=f"team-{n:02d}", credential=False)
    logged_in(client, owner)

    with CaptureQueriesContext(connection) as ctx:
        first = autocomplete(client, "team").json()
    second = client.get(
        AUTOCOMPLETE,
        {"app_label": "providers", "model_name": "project", "field_name": "provider", "term": "team", "page": 2},
    ).json()

    assert (len(first["results"]), first["pagination"]) == (20, {"more": True})
    assert (len(second["results"]), second["pagination"]) == (5, {"more": False})
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert first["results"][0]["text"].endswith("(team-00)")


def autocomplete_page(client, term: str, page: int | str) -> tuple[list[str], bool]:
    body = client.get(
        AUTOCOMPLETE,
        {"app_label": "providers", "model_name": "project", "field_name": "provider", "term": term, "page": page},
    ).json()
    return [item["text"].rsplit("(", 1)[1].rstrip(")") for item in body["results"]], body["pagination"]["more"]


def test_provider_autocomplete_puts_ids_starting_with_the_term_first(client, owner):
    for provider_id in ("team-acme", "acme-gitlab", "zz-acme", "acme-github", "acme", "a-acme", "acmf-x", "acm-x"):
        ProviderFactory(provider_id=provider_id, label=provider_id.upper(), credential=False)
    ProviderFactory(provider_id="legacy", label="ACME legacy", credential=False)
    # Right at the end of the prefix range ("acme" < "acmf"), found through its label.
    ProviderFactory(provider_id="acmf", label="Old acme mirror", credential=False)
    ProviderFactory(provider_id="acme-okta", type="okta", base_url="https://acme.okta.com", credential=False)
    logged_in(client, owner)

    # Ids that start with the term (byte order), then every other match by id ("a-acme" sorts
    # before "acme" but does not start with the term); a git field offers no identity provider.
    assert autocomplete_page(client, "acme", 1) == (
        ["acme", "acme-github", "acme-gitlab", "a-acme", "acmf", "legacy", "team-acme", "zz-acme"],
        False,
    )
    # The prefix is case-sensitive like ids; the search is not, so nothing is lost.
    assert autocomplete_page(client, "ACME", 1) == (
        ["a-acme", "acme", "acme-github", "acme-gitlab", "acmf", "legacy", "team-acme", "zz-acme"],
        False,
    )
    # Terms no id can start with (a space, other characters) are searched only.
    assert autocomplete_page(client, "acme legacy", 1) == (["legacy"], False)
    assert autocomplete_page(client, "\U0010ffff", 1) == ([], False)
    assert autocomplete_page(client, "acmé", 1) == ([], False)


def test_provider_autocomplete_pages_across_the_end_of_the_prefix_matches(client, owner):
    for n in range(30):
        ProviderFactory(provider_id=f"team-{n:02d}", credential=False)
    for n in range(15):
        ProviderFactory(provider_id=f"a-team-{n:02d}", credential=False)
    logged_in(client, owner)
    prefixed = [f"team-{n:02d}" for n in range(30)]
    others = [f"a-team-{n:02d}" for n in range(15)]

    pages = [autocomplete_page(client, "team", page) for page in (1, 2, 3)]

    assert pages == [(prefixed[:20], True), (prefixed[20:] + others[:10], True), (others[10:], False)]
    assert autocomplete_page(client, "team", "last") == (others[10:], False)
    for beyond in (4, 99999999999999999999):
        response = client.get(
            AUTOCOMPLETE,
            {
                "app_label": "providers",
                "model_name": "project",
                "field_name": "provider",
                "term": "team",
                "page": beyond,
            },
        )
        assert response.status_code == 404, beyond


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the byte-order index is PostgreSQL's")
def test_the_id_prefix_is_one_range_of_an_index(db):
    ProviderFactory(provider_id="acme-github", credential=False)
    queryset = selectors.providers_with_id_prefix(Provider.objects.only("pk"), "acme")[:21]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "provider_workspace_id_bytes" in plan and "Index Cond" in plan, plan


def test_provider_autocomplete_forbidden_for_staff_without_groups(client, plain_user):
    ProviderFactory(provider_id="acme-github")

    response = autocomplete(logged_in(client, plain_user), "acme")

    assert response.status_code == 403
    assert "acme-github" not in response.content.decode()


def test_nul_bytes_in_admin_parameters_are_400(client, operator, owner):
    ProviderFactory(provider_id="gh")

    operator_page = logged_in(client, operator).get(PROVIDERS_CHANGELIST, {"type__exact": "a\x00"})
    assert operator_page.status_code == 400
    owner_client = logged_in(Client(), owner)
    autocomplete = owner_client.get(
        "/admin/autocomplete/",
        {"app_label": "providers", "model_name": "project", "field_name": "provider", "term": "g\x00"},
    )
    assert autocomplete.status_code == 400


def test_autocomplete_serves_only_the_project_form_fields(client, owner):
    ProviderFactory(provider_id="gh")
    owner_client = logged_in(client, owner)

    other_source = owner_client.get(
        "/admin/autocomplete/", {"app_label": "providers", "model_name": "credential", "field_name": "provider"}
    )
    project_source = owner_client.get(
        "/admin/autocomplete/", {"app_label": "providers", "model_name": "project", "field_name": "provider"}
    )

    assert other_source.status_code == 403
    assert project_source.status_code == 200
