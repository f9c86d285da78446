"""Signing in through an OAuth 2.0 provider without ID tokens (GitHub): userinfo is the user, and
GitHub's `/user/emails` gives the primary verified address. The provider is a local GitHub-style
server (tests/idp/github.py)."""

import pytest
from django.contrib.auth import get_user_model

from providers.catalog import OAUTH2
from providers.models import FederatedIdentity
from tests.factories import IdentityProviderFactory

from .helpers import HOST, last_signin_event, query_of, start

User = get_user_model()
pytestmark = pytest.mark.django_db


@pytest.fixture
def gh(github_provider):
    github_provider.set_user(
        "octocat",
        id=583231,
        name="The Octocat",
        email=None,
        emails=[
            {"email": "old@acme.test", "primary": False, "verified": True, "visibility": None},
            {"email": "octo@acme.test", "primary": True, "verified": True, "visibility": "private"},
        ],
    )
    IdentityProviderFactory(
        alias="github",
        protocol=OAUTH2,
        known_provider="github",
        issuer="",
        client_id=github_provider.client_id,
        client_secret=github_provider.client_secret,
        client_auth_method="client_secret_post",
        authorization_url=github_provider.authorization_url,
        token_url=github_provider.token_url,
        user_info_url=github_provider.user_url,
        default_scope="read:user user:email",
        update_profile_first_login_mode="off",
    )
    return github_provider


def test_github_sign_in_creates_the_account_with_the_primary_verified_email(client, gh):
    started = start(client, "github")
    params = query_of(started["Location"])
    assert "nonce" not in params and params["scope"] == "read:user user:email"
    back = gh.sign_in(started["Location"])
    response = client.get(back.removeprefix(HOST))

    assert response.status_code == 302, response.content[:500]
    user = User.objects.get()
    assert (user.username, user.email) == ("octocat", "octo@acme.test")
    federated = FederatedIdentity.objects.get()
    assert federated.subject == "583231"
    assert gh.request_counts() == {"authorize": 1, "token": 1, "user": 1, "emails": 1}


def test_github_refusing_the_code_is_a_page(client, gh):
    started = start(client, "github")
    back = gh.sign_in(started["Location"])
    client.get(back.removeprefix(HOST))  # uses the code
    client.logout()
    User.objects.all().delete()
    again = start(client, "github")
    params = query_of(gh.sign_in(again["Location"]))
    response = client.get("/signin/default/github/callback", {"code": "not-a-code", "state": params["state"]})
    assert response.status_code == 502
    assert "bad_verification_code" in response.content.decode()
    assert not last_signin_event().ok and User.objects.count() == 0
