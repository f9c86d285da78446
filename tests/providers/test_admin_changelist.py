"""The providers changelist as operators see it: its columns, search and filters, the
enable/disable actions, and that no credential is shown in a row."""

import re

from django.contrib.admin.models import CHANGE

from providers.models import Provider
from tests.factories import ProjectFactory, ProviderFactory
from tests.providers.admin_helpers import PROVIDERS_CHANGELIST, html, log_entries, logged_in


def row_for(page: str, provider_id: str) -> str:
    """The changelist table row whose link text is the given id."""
    rows = [row for row in page.split("<tr") if f">{provider_id}</a>" in row]
    assert len(rows) == 1, f"expected one row for {provider_id}"
    return rows[0]


def listed_ids(response) -> set[str]:
    return {obj.provider_id for obj in response.context["cl"].result_list}


def test_operator_changelist_shows_provider_columns(client, operator):
    linked = ProviderFactory(provider_id="gh-main", label="Company GitHub", type="github")
    ProjectFactory(provider=linked)
    ProjectFactory(provider=linked)
    ProviderFactory(
        provider_id="okta-corp",
        label="Corporate Okta",
        type="okta",
        enabled=False,
        base_url="https://acme.okta.com",
        api_base_url="https://acme.okta.com/api/v1",
        credential__type="userPass",
        credential__content={"userName": "svc", "password": "pw-okta"},
    )

    response = logged_in(client, operator).get(PROVIDERS_CHANGELIST)

    assert response.status_code == 200
    page = html(response)
    headers = re.findall(r'<div class="text">(?:<a [^>]*>|<span>)([^<]+)</', page)
    assert headers == [
        "Provider id",
        "Label",
        "Type",
        "Capability",
        "Enabled",
        "Credential type",
        "Linked projects",
        "Last test",
    ]
    cells = {
        "gh-main": ("Company GitHub", "GitHub", "Git provider", "True", "Access token", "2"),
        "okta-corp": ("Corporate Okta", "Okta", "Identity provider", "False", "User name and password", "0"),
    }
    for provider_id, (label, type_, capability, enabled, credential_type, projects) in cells.items():
        row = row_for(page, provider_id)
        assert label in row
        assert f'class="field-type">{type_}<' in row
        assert f'class="field-capability_display">{capability}<' in row
        assert f'alt="{enabled}"' in row
        assert f'class="field-credential_type">{credential_type}<' in row
        assert f'class="field-linked_projects">{projects}<' in row
    assert "pw-okta" not in page


def test_operator_changelist_search_by_id_and_label(client, operator):
    ProviderFactory(provider_id="gh-main", label="Company GitHub")
    ProviderFactory(provider_id="gitlab-acme", label="ACME GitLab", type="gitlab")
    client = logged_in(client, operator)

    by_id = client.get(PROVIDERS_CHANGELIST, {"q": "gh-ma"})
    by_label = client.get(PROVIDERS_CHANGELIST, {"q": "acme gitlab"})
    nothing = client.get(PROVIDERS_CHANGELIST, {"q": "bitbucket"})

    assert by_id.status_code == by_label.status_code == nothing.status_code == 200
    assert listed_ids(by_id) == {"gh-main"}
    assert ">gh-main</a>" in html(by_id) and ">gitlab-acme</a>" not in html(by_id)
    assert listed_ids(by_label) == {"gitlab-acme"}
    assert ">gitlab-acme</a>" in html(by_label) and ">gh-main</a>" not in html(by_label)
    assert listed_ids(nothing) == set()


def test_operator_changelist_filters_by_type_capability_and_enabled(client, operator):
    ProviderFactory(provider_id="gh-main", type="github")
    ProviderFactory(provider_id="gl-off", type="gitlab", enabled=False)
    ProviderFactory(
        provider_id="okta-corp",
        type="okta",
        base_url="https://acme.okta.com",
        api_base_url="",
        credential__type="userPass",
        credential__content={"userName": "svc", "password": "pw"},
    )
    client = logged_in(client, operator)

    page = html(client.get(PROVIDERS_CHANGELIST))
    assert "By type" in page and "By capability" in page and "By enabled" in page

    assert listed_ids(client.get(PROVIDERS_CHANGELIST, {"type__exact": "gitlab"})) == {"gl-off"}
    assert listed_ids(client.get(PROVIDERS_CHANGELIST, {"capability": "git"})) == {"gh-main", "gl-off"}
    identity = client.get(PROVIDERS_CHANGELIST, {"capability": "identity"})
    assert listed_ids(identity) == {"okta-corp"}
    assert ">okta-corp</a>" in html(identity) and ">gh-main</a>" not in html(identity)
    assert listed_ids(client.get(PROVIDERS_CHANGELIST, {"enabled__exact": "0"})) == {"gl-off"}
    assert listed_ids(client.get(PROVIDERS_CHANGELIST, {"enabled__exact": "1"})) == {"gh-main", "okta-corp"}
    both = client.get(PROVIDERS_CHANGELIST, {"capability": "git", "enabled__exact": "1"})
    assert listed_ids(both) == {"gh-main"}
    assert listed_ids(client.get(PROVIDERS_CHANGELIST, {"credential__type__exact": "userPass"})) == {"okta-corp"}


def test_changelist_filter_titles_tell_provider_type_from_credential_type(client, operator):
    ProviderFactory(provider_id="gh-main")

    page = html(logged_in(client, operator).get(PROVIDERS_CHANGELIST))

    titles = re.findall(r"<summary>\s*(.*?)\s*</summary>", page)
    assert "By credential type" in titles
    assert len(titles) == len(set(titles)), titles


def test_enable_and_disable_selected_actions(client, operator):
    first = ProviderFactory(provider_id="gh-a", enabled=True)
    second = ProviderFactory(provider_id="gh-b", enabled=True)
    untouched = ProviderFactory(provider_id="gh-c", enabled=True)
    client = logged_in(client, operator)

    response = client.post(
        PROVIDERS_CHANGELIST,
        {"action": "disable_selected", "confirmed": "yes", "_selected_action": [first.pk, second.pk], "index": 0},
        follow=True,
    )

    assert response.status_code == 200
    assert "2 provider(s) disabled." in html(response)
    assert list(Provider.objects.filter(enabled=False).values_list("provider_id", flat=True)) == ["gh-a", "gh-b"]
    untouched.refresh_from_db()
    assert untouched.enabled is True
    assert log_entries(first, CHANGE).count() == 1

    response = client.post(
        PROVIDERS_CHANGELIST,
        {"action": "enable_selected", "confirmed": "yes", "_selected_action": [first.pk, untouched.pk], "index": 0},
        follow=True,
    )

    assert "1 provider(s) enabled." in html(response)
    assert list(Provider.objects.filter(enabled=False).values_list("provider_id", flat=True)) == ["gh-b"]
