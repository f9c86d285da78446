"""REST clients' tokens, project owners' projects and the protection of linked providers, as people
go through them in the admin."""

import json
import urllib.error
import urllib.request

import pytest

from accounts.models import ApiToken
from accounts.services import api_token_create
from providers.models import Project, Provider
from tests.e2e.conftest import document, sign_in
from tests.factories import OperatorFactory, ProjectFactory, ProjectOwnerFactory, ProviderFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def api_get(live_server, path: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(live_server.url + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_an_api_token_is_shown_once_works_and_stops_working_when_revoked(page, live_server):
    OperatorFactory(username="ci-operator")
    ProviderFactory(provider_id="team-github")
    sign_in(page, "ci-operator")

    page.goto("/admin/accounts/apitoken/add/")
    page.fill("#id_name", "deploy pipeline")
    page.click("input[name=_save]")
    token = page.input_value("#api-token-value")
    document(page, "api-token-created")
    assert token and "will not be shown again" in page.inner_text("#content-main")

    status, body = api_get(live_server, "/api/backend/providers", token)
    assert status == 200 and [row["id"] for row in body["results"]] == ["team-github"]

    page.goto("/admin/accounts/apitoken/")
    assert token not in page.content()
    page.check("input[name=_selected_action]")
    page.select_option("select[name=action]", "revoke_selected")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist .success")
    assert "revoked" in page.inner_text("#result_list")
    assert ApiToken.objects.get(name="deploy pipeline").revoked_at is not None

    status, body = api_get(live_server, "/api/backend/providers", token)
    assert status == 401 and "revoked" in body["detail"]


def test_deleting_a_provider_used_by_projects_names_them_and_deletes_nothing(page):
    OperatorFactory(username="ops")
    provider = ProviderFactory(provider_id="team-gitlab", type="gitlab", label="Team GitLab")
    ProjectFactory(project_id="payments-api", name="Payments API", provider=provider)
    ProjectFactory(project_id="web-portal", name="Web portal", provider=provider)
    sign_in(page, "ops")

    page.goto(f"/admin/providers/provider/{provider.pk}/delete/")
    text = page.inner_text("#content")

    assert "Payments API (payments-api)" in text and "Web portal (web-portal)" in text
    assert page.locator("input[type=submit]").count() == 0  # Django offers no confirm button here
    page.goto("/admin/providers/provider/")
    page.check(f"input[name=_selected_action][value='{provider.pk}']")
    page.select_option("select[name=action]", "delete_selected")
    page.click("button[name=index]")
    assert "payments-api" in page.inner_text("#content")
    assert page.locator("input[type=submit][value*='Yes']").count() == 0
    assert Provider.objects.filter(provider_id="team-gitlab").exists()
    assert Project.objects.filter(provider=provider).count() == 2


def test_a_project_owner_links_their_project_through_the_autocomplete(page, live_server):
    owner = ProjectOwnerFactory(username="olivia")
    other = ProjectOwnerFactory(username="oscar")
    ProviderFactory(provider_id="team-github", label="Team GitHub")
    ProviderFactory(provider_id="team-gitlab", label="Team GitLab", type="gitlab")
    mine = ProjectFactory(project_id="olivia-app", name="Olivia's app", owners=[owner])
    theirs = ProjectFactory(project_id="oscar-app", name="Oscar's app", owners=[other])
    sign_in(page, "olivia")

    page.click("tr.model-project th a")
    listed = page.inner_text("#result_list")
    assert "olivia-app" in listed and "oscar-app" not in listed
    page.click("text=olivia-app")
    assert "Repository" in page.inner_text("fieldset:has(.field-provider)")
    page.click(".field-provider .select2-selection")
    page.fill(".select2-search__field", "gitlab")
    option = page.locator(".select2-results__option", has_text="Team GitLab (team-gitlab)")
    option.wait_for()
    document(page, "project-provider-autocomplete")
    option.click()
    assert "team-gitlab" in page.inner_text(".field-provider .select2-selection")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    mine.refresh_from_db()
    assert mine.provider.provider_id == "team-gitlab"
    _, token = api_token_create(user=owner, name="cli")
    status, body = api_get(live_server, "/api/backend/projects/olivia-app", token)
    assert status == 200 and body["repository"]["providerId"] == "team-gitlab"

    page.goto(f"/admin/providers/project/{theirs.pk}/change/")  # another owner's project, by URL
    assert page.url == f"{live_server.url}/admin/"
    assert "doesn’t exist" in page.inner_text(".messagelist")
    assert "Oscar" not in page.content()
