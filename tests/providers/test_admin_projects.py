"""Projects in the admin: owners see and edit only their own projects (provider, repository,
description), operators see and change every field."""

import json
import re

from django.contrib.admin.models import CHANGE
from django.urls import reverse

from providers.models import Project
from tests.factories import ProjectFactory, ProviderFactory
from tests.providers.admin_helpers import (
    AUTOCOMPLETE,
    PROJECTS_CHANGELIST,
    change_url,
    form_errors,
    html,
    log_entries,
    logged_in,
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
