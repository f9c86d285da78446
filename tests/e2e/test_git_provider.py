"""An operator creates a git provider with a token in the admin and edits it; the token is never
shown again and keeps working when the secret input is left blank."""

import pytest

from providers.models import Provider
from providers.services import credential_content
from tests.e2e.conftest import document, sign_in
from tests.factories import OperatorFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
TOKEN = "ghp_e2e_canary_token_0123456789abcdef"


def test_operator_creates_a_git_provider_and_never_sees_the_token_again(page):
    OperatorFactory(username="alice")
    sign_in(page, "alice")

    page.goto("/admin/providers/provider/add/")
    page.fill("#id_provider_id", "team-github")
    page.fill("#id_label", "Team GitHub")
    page.select_option("#id_type", "github")
    page.select_option("#id_credential_type", "token")
    page.fill("#id_access_token", TOKEN)
    page.click("input[name=_save]")

    page.wait_for_selector(".messagelist .success")
    assert "Team GitHub" in page.inner_text("#result_list")
    page.click("text=team-github")
    status = page.inner_text(".field-credential_status")
    assert "set · updated at" in status
    assert TOKEN not in page.content()
    assert page.input_value("#id_access_token") == ""
    page.locator(".field-credential_status").scroll_into_view_if_needed()
    document(page, "provider-credentials-set")

    page.fill("#id_label", "Team GitHub (renamed)")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    provider = Provider.objects.get(provider_id="team-github")
    assert provider.label == "Team GitHub (renamed)"
    assert credential_content(provider=provider) == {"accessToken": TOKEN}
    page.goto("/admin/")
    assert "team-github" in page.inner_text("#dashboard-events")
    document(page, "admin-dashboard")
    for path in (
        "/admin/",
        f"/admin/providers/provider/{provider.pk}/change/",
        f"/admin/providers/provider/{provider.pk}/history/",
        "/admin/providers/provider/",
        "/api/backend/providers/team-github",
    ):
        page.goto(path)
        assert TOKEN not in page.content(), path
