"""The Django admin as operators and project owners use it: what each sees, what each may change,
and that secrets (credentials, API tokens) are never shown back."""

import hashlib
import json
import re

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create
from providers import selectors
from providers.models import Credential, Project, Provider
from providers.services import credential_content
from tests.factories import IdentityProviderFactory, ProjectFactory, ProviderFactory

PROVIDERS_CHANGELIST = reverse("admin:providers_provider_changelist")
PROVIDERS_ADD = reverse("admin:providers_provider_add")
PROJECTS_CHANGELIST = reverse("admin:providers_project_changelist")
TOKENS_CHANGELIST = reverse("admin:accounts_apitoken_changelist")
TOKENS_ADD = reverse("admin:accounts_apitoken_add")
AUTOCOMPLETE = reverse("admin:autocomplete")

SECRET_TOKEN = "ghp_super_secret_value_0123456789"


def logged_in(client, user):
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


def row_for(page: str, provider_id: str) -> str:
    """The changelist table row whose link text is the given id."""
    rows = [row for row in page.split("<tr") if f">{provider_id}</a>" in row]
    assert len(rows) == 1, f"expected one row for {provider_id}"
    return rows[0]


def listed_ids(response) -> set[str]:
    return {obj.provider_id for obj in response.context["cl"].result_list}


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def delete_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_delete", args=[obj.pk])


def provider_form(provider: Provider | None = None, **overrides) -> dict:
    """The admin provider form as a browser posts it: current values, credential inputs blank."""
    data = {
        "provider_id": "new-github",
        "label": "New GitHub",
        "description": "",
        "type": "github",
        "enabled": "on",
        "base_url": "https://github.example.com",
        "api_base_url": "https://github.example.com/api/v3",
        "credential_type": "",
        "access_token": "",
        "user_name": "",
        "password": "",
        "_save": "Save",
    }
    if provider is not None:
        del data["provider_id"]
        data.update(
            label=provider.label,
            description=provider.description,
            type=provider.type,
            base_url=provider.base_url,
            api_base_url=provider.api_base_url,
        )
        if not provider.enabled:
            del data["enabled"]
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def form_errors(response) -> dict:
    return response.context["adminform"].form.errors


def log_entries(obj, action_flag: int):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=str(obj.pk), action_flag=action_flag
    )


def project_form(project: Project, **overrides) -> dict:
    data = {
        "name": project.name,
        "description": project.description,
        "owners": [user.pk for user in project.owners.all()],
        "provider": project.provider.pk if project.provider else "",
        "repository_path": project.repository_path,
        "_save": "Save",
    }
    data.update(overrides)
    return data


def raw_token_from(response) -> str:
    match = re.search(r'id="api-token-value"[^>]*value="([^"]+)"', html(response))
    assert match, "the created page shows the token in #api-token-value"
    return match.group(1)


def api_status(raw: str) -> int:
    return APIClient().get("/api/backend/providers", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code


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


def test_operator_adds_provider_with_token(client, operator):
    response = logged_in(client, operator).post(
        PROVIDERS_ADD, provider_form(credential_type="token", access_token=SECRET_TOKEN)
    )

    assert response.status_code == 302, form_errors(response)
    assert response["Location"] == PROVIDERS_CHANGELIST
    provider = Provider.objects.get(provider_id="new-github")
    assert provider.label == "New GitHub"
    assert provider.type == "github"
    assert provider.enabled is True
    assert provider.base_url == "https://github.example.com"
    assert provider.api_base_url == "https://github.example.com/api/v3"
    assert provider.created_by == operator
    credential = Credential.objects.get(provider=provider)
    assert credential.type == "token"
    assert SECRET_TOKEN not in credential.fingerprint
    assert credential_content(provider=provider) == {"accessToken": SECRET_TOKEN}
    entry = log_entries(provider, ADDITION).get()
    assert entry.user == operator
    assert SECRET_TOKEN not in entry.change_message
    listing = html(client.get(PROVIDERS_CHANGELIST))
    assert ">new-github</a>" in listing
    assert SECRET_TOKEN not in listing


def test_add_provider_without_credentials_is_refused(client, operator):
    response = logged_in(client, operator).post(PROVIDERS_ADD, provider_form())

    assert response.status_code == 200
    assert "Credentials are required to create a provider." in form_errors(response)["credential_type"]
    assert "Credentials are required to create a provider." in html(response)
    assert not Provider.objects.exists()
    assert not Credential.objects.exists()
    assert not LogEntry.objects.exists()


def test_add_provider_userpass_without_password_names_password(client, operator):
    response = logged_in(client, operator).post(
        PROVIDERS_ADD, provider_form(credential_type="userPass", user_name="svc-account")
    )

    assert response.status_code == 200
    errors = form_errors(response)
    assert "password" in errors
    assert errors["password"] == ["This field is required."]
    assert not Provider.objects.exists()
    assert not Credential.objects.exists()


def test_add_provider_form_error_does_not_echo_the_typed_token(client, operator):
    response = logged_in(client, operator).post(
        PROVIDERS_ADD, provider_form(base_url="not a url", credential_type="token", access_token=SECRET_TOKEN)
    )

    assert response.status_code == 200
    assert "base_url" in form_errors(response)
    assert SECRET_TOKEN not in html(response)
    assert not Provider.objects.exists()


def test_change_form_shows_credential_status_never_the_token(client, operator):
    provider = ProviderFactory(provider_id="gh-main", credential__content={"accessToken": SECRET_TOKEN})
    fingerprint = provider.credential.fingerprint

    response = logged_in(client, operator).get(change_url(provider))

    assert response.status_code == 200
    page = html(response)
    assert "Access token · set · updated at" in page
    assert f"<code>{fingerprint}</code>" in page
    assert SECRET_TOKEN not in page
    assert 'name="access_token"' in page
    assert 'name="password"' in page
    assert re.search(r'<input[^>]*name="access_token"[^>]*value=', page) is None


def test_edit_label_with_blank_credentials_keeps_them_and_logs_the_change(client, operator):
    provider = ProviderFactory(provider_id="gh-main", label="Old label", credential__content={"accessToken": "t-1"})
    fingerprint = provider.credential.fingerprint

    response = logged_in(client, operator).post(change_url(provider), provider_form(provider, label="New label"))

    assert response.status_code == 302, form_errors(response)
    provider.refresh_from_db()
    assert provider.label == "New label"
    assert provider.updated_by == operator
    credential = Credential.objects.get(provider=provider)
    assert credential.fingerprint == fingerprint
    assert credential_content(provider=provider) == {"accessToken": "t-1"}
    entry = log_entries(provider, CHANGE).get()
    assert entry.user == operator
    assert json.loads(entry.change_message) == [{"changed": {"fields": ["label"]}}]
    history = html(client.get(reverse("admin:providers_provider_history", args=[provider.pk])))
    assert "Changed label." in history
    assert "t-1" not in entry.change_message


def test_change_base_url_without_credentials_is_refused(client, operator):
    provider = ProviderFactory(provider_id="gh-main", credential__content={"accessToken": "t-1"})
    fingerprint = provider.credential.fingerprint

    response = logged_in(client, operator).post(
        change_url(provider), provider_form(provider, base_url="https://evil.example.com", label="Renamed")
    )

    assert response.status_code == 200
    message = "Changing the provider's type or URLs requires sending its credentials again."
    assert form_errors(response)["credential_type"] == [message]
    assert "Changing the provider&#x27;s type or URLs requires sending its credentials again." in html(response)
    provider.refresh_from_db()
    assert provider.base_url == "https://github.com"
    assert provider.label != "Renamed"
    assert Credential.objects.get(provider=provider).fingerprint == fingerprint
    assert not log_entries(provider, CHANGE).exists()


def test_change_base_url_with_new_token(client, operator):
    provider = ProviderFactory(provider_id="gh-main", credential__content={"accessToken": "t-1"})
    old_fingerprint = provider.credential.fingerprint

    response = logged_in(client, operator).post(
        change_url(provider),
        provider_form(
            provider,
            base_url="https://github.acme.test",
            api_base_url="https://github.acme.test/api/v3",
            credential_type="token",
            access_token="t-2",
        ),
    )

    assert response.status_code == 302, form_errors(response)
    provider.refresh_from_db()
    assert provider.base_url == "https://github.acme.test"
    assert provider.api_base_url == "https://github.acme.test/api/v3"
    assert credential_content(provider=provider) == {"accessToken": "t-2"}
    assert Credential.objects.get(provider=provider).fingerprint != old_fingerprint
    fields = json.loads(log_entries(provider, CHANGE).get().change_message)[0]["changed"]["fields"]
    assert set(fields) == {"base URL", "API base URL", "credentials"}
    assert "t-2" not in html(client.get(change_url(provider)))


def test_provider_id_is_read_only_on_change(client, operator):
    provider = ProviderFactory(provider_id="gh-main")
    client = logged_in(client, operator)

    page = html(client.get(change_url(provider)))
    assert 'name="provider_id"' not in page
    assert 'class="readonly">gh-main<' in page

    response = client.post(change_url(provider), provider_form(provider, provider_id="renamed", label="Still here"))

    assert response.status_code == 302, form_errors(response)
    provider.refresh_from_db()
    assert provider.provider_id == "gh-main"
    assert provider.label == "Still here"
    assert not Provider.objects.filter(provider_id="renamed").exists()


def test_delete_linked_provider_lists_projects_and_is_refused(client, operator):
    provider = ProviderFactory(provider_id="gh-main", credential__content={"accessToken": SECRET_TOKEN})
    ProjectFactory(project_id="payments-api", name="Payments API", provider=provider)
    client = logged_in(client, operator)

    confirmation = client.get(delete_url(provider))

    assert confirmation.status_code == 200
    page = html(confirmation)
    assert "protected related objects" in page
    assert "Payments API (payments-api)" in page
    assert SECRET_TOKEN not in page

    response = client.post(delete_url(provider), {"post": "yes"})

    assert response.status_code == 200
    assert Provider.objects.filter(pk=provider.pk).exists()
    assert Credential.objects.filter(provider=provider).exists()
    assert Project.objects.get(project_id="payments-api").provider == provider
    assert not log_entries(provider, DELETION).exists()


def test_delete_unlinked_provider_removes_it_and_its_credential(client, operator):
    provider = ProviderFactory(provider_id="gh-unused", credential__content={"accessToken": SECRET_TOKEN})
    pk = provider.pk
    client = logged_in(client, operator)

    confirmation = client.get(delete_url(provider))
    assert confirmation.status_code == 200
    assert "Are you sure" in html(confirmation)
    assert SECRET_TOKEN not in html(confirmation)

    response = client.post(delete_url(provider), {"post": "yes"})

    assert response.status_code == 302
    assert response["Location"] == PROVIDERS_CHANGELIST
    assert not Provider.objects.filter(pk=pk).exists()
    assert not Credential.objects.filter(provider_id=pk).exists()
    assert log_entries(provider, DELETION).filter(user=operator).exists()


def test_delete_confirmation_names_the_credential_by_provider_id(client, operator):
    provider = ProviderFactory(provider_id="gh-unused")

    page = html(logged_in(client, operator).get(delete_url(provider)))

    assert "Credential: Access token for gh-unused" in page


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


def test_admin_index_has_a_projects_section(client, operator):
    response = logged_in(client, operator).get(reverse("admin:index"))

    assert response.status_code == 200
    sections = {app["name"]: [model["object_name"] for model in app["models"]] for app in response.context["app_list"]}
    assert sections["Projects"] == ["Project"]
    assert sections["Providers"] == ["AuditEvent", "IdentityProvider", "Provider"]
    assert re.search(r'<caption>\s*<a [^>]*class="section"[^>]*>Projects</a>', html(response))
    assert re.search(r'<caption>\s*<a [^>]*class="section"[^>]*>Providers</a>', html(response))


def test_owner_index_shows_projects_but_not_providers(client, owner):
    response = logged_in(client, owner).get(reverse("admin:index"))

    assert response.status_code == 200
    assert f'href="{PROJECTS_CHANGELIST}"' in html(response)
    assert f'href="{PROVIDERS_CHANGELIST}"' not in html(response)
    assert client.get(PROVIDERS_CHANGELIST).status_code == 403


def test_owner_sees_only_own_projects(client, owner, other_owner):
    ProjectFactory(project_id="mine", name="My Project", owners=[owner])
    ProjectFactory(project_id="theirs", name="Their Project", owners=[other_owner])
    ProjectFactory(project_id="nobodys", name="Orphan Project")

    response = logged_in(client, owner).get(PROJECTS_CHANGELIST)

    assert response.status_code == 200
    assert [p.project_id for p in response.context["cl"].result_list] == ["mine"]
    page = html(response)
    assert ">mine</a>" in page
    assert 'class="field-name">My Project<' in page
    assert "Their Project" not in page and ">theirs</a>" not in page
    assert "Orphan Project" not in page and ">nobodys</a>" not in page


def test_owner_cannot_open_another_owners_project(client, owner, other_owner):
    theirs = ProjectFactory(project_id="theirs", name="Their Secret Project", owners=[other_owner])

    response = logged_in(client, owner).get(change_url(theirs), follow=True)

    assert response.status_code in (200, 404)
    assert "adminform" not in (response.context or {})
    page = html(response)
    assert "Their Secret Project" not in page
    if response.status_code == 200:
        assert response.redirect_chain[-1][0] == reverse("admin:index")
        assert "doesn’t exist" in page


def test_owner_sets_provider_and_repository_on_own_project(client, owner):
    provider = ProviderFactory(provider_id="gh-main")
    project = ProjectFactory(project_id="mine", name="My Project", owners=[owner], repository_path="")
    client = logged_in(client, owner)

    page = html(client.get(change_url(project)))
    assert "Repository" in page
    for readonly in ("project_id", "name", "owners"):
        assert f'name="{readonly}"' not in page
    assert 'class="readonly">mine<' in page
    assert 'class="readonly">My Project<' in page
    for editable in ("provider", "repository_path", "description"):
        assert f'name="{editable}"' in page

    response = client.post(
        change_url(project),
        {
            "provider": provider.pk,
            "repository_path": "acme/my-project",
            "description": "Our service",
            "name": "Renamed by owner",
            "_save": "Save",
        },
    )

    assert response.status_code == 302, form_errors(response)
    project.refresh_from_db()
    assert project.provider == provider
    assert project.repository_path == "acme/my-project"
    assert project.description == "Our service"
    assert project.name == "My Project"
    assert list(project.owners.all()) == [owner]
    fields = json.loads(log_entries(project, CHANGE).get().change_message)[0]["changed"]["fields"]
    assert set(fields) == {"provider", "repository path", "description"}


def test_owner_cannot_link_an_identity_provider(client, owner):
    okta = ProviderFactory(provider_id="okta-corp", type="okta", base_url="https://acme.okta.com")
    project = ProjectFactory(project_id="mine", owners=[owner])

    response = logged_in(client, owner).post(
        change_url(project), {"provider": okta.pk, "repository_path": "x/y", "description": "", "_save": "Save"}
    )

    assert response.status_code == 200
    assert "provider" in form_errors(response)
    project.refresh_from_db()
    assert project.provider is None


def test_project_provider_field_is_an_autocomplete_widget(client, owner):
    current = ProviderFactory(provider_id="gh-current", label="Current GitHub")
    ProviderFactory(provider_id="gh-other", label="Other GitHub")
    ProviderFactory(provider_id="gl-other", label="Other GitLab", type="gitlab")
    project = ProjectFactory(project_id="mine", owners=[owner], provider=current)

    page = html(logged_in(client, owner).get(change_url(project)))

    select = re.search(r'<select[^>]*name="provider"[^>]*>.*?</select>', page, re.S)
    assert select, "the provider field is a select"
    widget = select.group(0)
    assert "admin-autocomplete" in widget
    assert f'data-ajax--url="{AUTOCOMPLETE}"' in widget
    assert 'data-field-name="provider"' in widget
    assert "Current GitHub (gh-current)" in widget
    assert "gh-other" not in page and "Other GitLab" not in page


def test_operator_sees_all_projects_and_changes_every_field(client, operator, owner, other_owner):
    provider = ProviderFactory(provider_id="gh-main")
    mine = ProjectFactory(project_id="mine", owners=[owner])
    ProjectFactory(project_id="theirs", owners=[other_owner])
    ProjectFactory(project_id="nobodys")
    client = logged_in(client, operator)

    listing = client.get(PROJECTS_CHANGELIST)
    assert {p.project_id for p in listing.context["cl"].result_list} == {"mine", "theirs", "nobodys"}

    page = html(client.get(change_url(mine)))
    for editable in ("name", "description", "owners", "provider", "repository_path"):
        assert f'name="{editable}"' in page

    response = client.post(
        change_url(mine),
        project_form(
            mine,
            name="Renamed",
            description="Described",
            owners=[other_owner.pk],
            provider=provider.pk,
            repository_path="acme/renamed",
        ),
    )

    assert response.status_code == 302, form_errors(response)
    mine.refresh_from_db()
    assert mine.name == "Renamed"
    assert mine.description == "Described"
    assert list(mine.owners.all()) == [other_owner]
    assert mine.provider == provider
    assert mine.repository_path == "acme/renamed"


def test_operator_can_search_users_for_project_owners(client, operator, owner):
    project = ProjectFactory(project_id="mine")
    client = logged_in(client, operator)
    page = html(client.get(change_url(project)))
    assert re.search(r'<select[^>]*name="owners"[^>]*data-ajax--url="/admin/autocomplete/"', page)

    response = client.get(
        AUTOCOMPLETE, {"app_label": "providers", "model_name": "project", "field_name": "owners", "term": "own"}
    )

    assert response.status_code == 200
    assert {item["id"] for item in response.json()["results"]} == {str(owner.pk)}


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
    assert "provider_id_bytes" in plan and "Index Cond" in plan, plan


def test_provider_autocomplete_forbidden_for_staff_without_groups(client, plain_user):
    ProviderFactory(provider_id="acme-github")

    response = autocomplete(logged_in(client, plain_user), "acme")

    assert response.status_code == 403
    assert "acme-github" not in response.content.decode()


def test_operator_adds_api_token_shown_once_and_stored_hashed(client, operator):
    client = logged_in(client, operator)

    response = client.post(TOKENS_ADD, {"name": "CI pipeline", "expires_at_0": "", "expires_at_1": "", "_save": "Save"})

    assert response.status_code == 200
    assert "API token created" in html(response)
    assert "it will not be shown again" in html(response)
    assert "no-store" in response["Cache-Control"]
    raw = raw_token_from(response)
    token = ApiToken.objects.get(name="CI pipeline")
    assert token.user == operator
    assert token.expires_at is None
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", token.key_hash)
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert all(raw not in str(value) for value in stored.values())
    assert all(raw not in entry.object_repr + entry.change_message for entry in log_entries(token, ADDITION))
    assert api_status(raw) == 200

    listing = client.get(TOKENS_CHANGELIST)
    assert listing.status_code == 200
    assert "CI pipeline" in html(listing)
    assert token.prefix in html(listing)
    assert raw not in html(listing)
    change = client.get(change_url(token))
    assert change.status_code == 200
    assert raw not in html(change)
    assert 'id="api-token-value"' not in html(change)


def test_revoke_selected_makes_the_token_unusable(client, operator):
    client = logged_in(client, operator)
    raw = raw_token_from(client.post(TOKENS_ADD, {"name": "to revoke", "expires_at_0": "", "expires_at_1": ""}))
    token = ApiToken.objects.get(name="to revoke")
    assert api_status(raw) == 200

    response = client.post(
        TOKENS_CHANGELIST, {"action": "revoke_selected", "_selected_action": [token.pk], "index": 0}, follow=True
    )

    assert response.status_code == 200
    assert "1 token(s) revoked." in html(response)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_status(raw) == 401
    assert "revoked" in html(client.get(TOKENS_CHANGELIST))


def test_non_superuser_creates_tokens_only_for_themselves_and_sees_only_their_own(client, owner, other_owner):
    others, _ = api_token_create(user=other_owner, name="their token")
    client = logged_in(client, owner)

    add_page = html(client.get(TOKENS_ADD))
    assert 'name="name"' in add_page
    assert 'name="user"' not in add_page

    response = client.post(
        TOKENS_ADD, {"name": "my token", "user": other_owner.pk, "expires_at_0": "", "expires_at_1": ""}
    )

    assert response.status_code == 200
    raw = raw_token_from(response)
    mine = ApiToken.objects.get(name="my token")
    assert mine.user == owner
    assert not ApiToken.objects.filter(user=other_owner, name="my token").exists()
    assert APIClient().get("/api/backend/projects", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200

    listing = client.get(TOKENS_CHANGELIST)
    assert [token.name for token in listing.context["cl"].result_list] == ["my token"]
    assert "their token" not in html(listing)
    other_page = client.get(change_url(others), follow=True)
    assert "adminform" not in (other_page.context or {})
    assert "their token" not in html(other_page)

    client.post(TOKENS_CHANGELIST, {"action": "revoke_selected", "_selected_action": [others.pk], "index": 0})
    others.refresh_from_db()
    assert others.revoked_at is None


def test_superuser_sees_every_token_and_may_pick_the_user(client, superuser, owner):
    api_token_create(user=owner, name="owner token")
    client = logged_in(client, superuser)

    listing = client.get(TOKENS_CHANGELIST)
    assert "owner token" in html(listing)
    assert 'name="user"' in html(client.get(TOKENS_ADD))

    response = client.post(TOKENS_ADD, {"name": "for owner", "user": owner.pk, "expires_at_0": "", "expires_at_1": ""})

    assert response.status_code == 200
    raw_token_from(response)
    assert ApiToken.objects.get(name="for owner").user == owner


def test_project_deletion_and_token_revocation_leave_history(client, operator):
    from accounts.services import api_token_create

    project = ProjectFactory(project_id="gone")
    token, _ = api_token_create(user=operator, name="ci")
    client = logged_in(client, operator)

    client.post(reverse("admin:providers_project_delete", args=[project.pk]), {"post": "yes"})
    client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )

    deletion = LogEntry.objects.get(object_id=str(project.pk), content_type__model="project")
    assert deletion.is_deletion() and deletion.user == operator
    revocation = LogEntry.objects.get(object_id=str(token.pk), content_type__model="apitoken")
    assert revocation.user == operator
    assert revocation.get_change_message() == "Changed revoked at."


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


def test_delete_confirmation_does_not_decrypt_credentials(client, operator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    provider = ProviderFactory(provider_id="gh")
    client = logged_in(client, operator)

    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse("admin:providers_provider_delete", args=[provider.pk]))

    assert page.status_code == 200
    assert not any('."secret"' in query["sql"] for query in ctx.captured_queries)


def test_clearing_a_url_back_to_its_default_needs_no_credentials(client, operator):
    provider = ProviderFactory(provider_id="gh", type="github", base_url="https://github.com")
    client = logged_in(client, operator)
    form = {
        "provider_id": "gh",
        "label": provider.label,
        "description": "",
        "type": "github",
        "enabled": "on",
        "base_url": "",
        "api_base_url": provider.api_base_url,
    }

    response = client.post(change_url(provider), form)

    assert response.status_code == 302, html(response)[:2000]
    provider.refresh_from_db()
    assert provider.base_url == "https://github.com"


def test_admin_home_dashboard_for_operators(client, operator, owner, certificate_pem):
    from datetime import timedelta

    from django.utils import timezone

    soon = ProviderFactory(provider_id="expiring-gh", credential__content={"accessToken": "dash-canary-token"})
    Credential.metadata.filter(provider=soon).update(expires_at=timezone.now() + timedelta(days=3))
    ProviderFactory(provider_id="off-gl", type="gitlab", enabled=False)
    Provider.objects.filter(provider_id="off-gl").update(last_test_ok=False, last_test_message="401 from GitLab")
    IdentityProviderFactory(alias="pending-idp", domains=["pending.test"])
    IdentityProviderFactory(alias="saml-soon", saml=True, signing_certificate=certificate_pem)

    page = logged_in(client, operator).get(reverse("admin:index")).content.decode()

    assert 'id="dashboard"' in page
    assert "expiring-gh" in page and "in 2" in page  # "in 2 days, 23 hours"
    assert "401 from GitLab" in page
    assert "pending-idp" in page and "registry-verification=" in page
    assert "Recent audit events" in page
    certificates = page.split('id="dashboard-certificates"')[1].split("</table>")[0]
    assert "saml-soon" in certificates and "in 4" in certificates  # valid 30 days: "in 4 weeks, 2 days"
    assert "dash-canary-token" not in page
    owner_page = logged_in(client, owner).get(reverse("admin:index")).content.decode()
    assert 'id="dashboard"' not in owner_page
