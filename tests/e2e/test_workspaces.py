"""Workspaces in the admin, as people go through them: a member of one workspace sees only its rows;
a user in two switches in the header and sees the other's; an operator of every workspace picks
“All workspaces” and gets a workspace column and filter."""

import pytest

from accounts.models import Membership, Workspace
from tests.e2e.conftest import document, sign_in
from tests.factories import OperatorFactory, ProviderFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def tenants():
    found = {}
    for name, display in (("acme", "ACME Corporation"), ("globex", "Globex Corporation")):
        workspace = Workspace.objects.create(name=name, display_name=display)
        ProviderFactory(provider_id="github-cloud", label=f"{display} GitHub", workspace=workspace)
        found[name] = workspace
    return found


def test_a_member_of_two_workspaces_switches_in_the_header(page, tenants):
    user = UserFactory(username="carol")
    for workspace in tenants.values():
        Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.OPERATOR)
    sign_in(page, "carol")

    page.goto("/admin/providers/provider/")
    first = page.inner_text("#result_list")
    page.select_option("#workspace-choice", label="Globex Corporation")
    page.click("#workspace-switcher button")
    page.wait_for_url("**/admin/providers/provider/")
    then = page.inner_text("#result_list")
    document(page, "workspace-switcher")
    page.goto("/admin/")
    remembered = page.locator("#workspace-choice option:checked").inner_text()

    assert "ACME Corporation GitHub" in first and "Globex" not in first
    assert "Globex Corporation GitHub" in then and "ACME Corporation GitHub" not in then
    assert remembered == "Globex Corporation"  # kept in the session


def test_a_member_of_one_workspace_sees_no_switcher_and_nothing_else(page, tenants):
    user = UserFactory(username="ada")
    Membership.objects.create(workspace=tenants["acme"], user=user, role=Membership.Role.OPERATOR)
    sign_in(page, "ada")

    page.goto("/admin/providers/provider/")

    assert page.locator("#workspace-switcher").count() == 0
    assert "ACME Corporation GitHub" in page.inner_text("#result_list")
    assert "Globex" not in page.content()


def test_all_workspaces_shows_a_workspace_column_and_filter(page, tenants):
    OperatorFactory(username="olga")
    sign_in(page, "olga")

    page.goto("/admin/providers/provider/")
    page.select_option("#workspace-choice", label="All workspaces")
    page.click("#workspace-switcher button")
    page.wait_for_selector("th.column-workspace_column")
    content = page.content()

    assert "ACME Corporation GitHub" in content and "Globex Corporation GitHub" in content
    page.click("#changelist-filter >> text=Globex Corporation")
    page.wait_for_url("**workspace__id__exact=*")
    assert "ACME Corporation GitHub" not in page.inner_text("#result_list")
