"""Signing in through a real OpenID provider (npm oidc-provider on 127.0.0.1): the code flow, the
accounts it makes or finds, and the mappers it applies."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import OPERATORS
from providers.models import AuditEvent, FederatedIdentity

from .helpers import last_signin_event, oidc_identity, query_of, sign_in, start

User = get_user_model()
pytestmark = pytest.mark.django_db
# Transaction control is not a statement of the login's: inside a test's transaction each atomic
# block adds two savepoint statements, and SQLite's atomic blocks their BEGIN and COMMIT.
TRANSACTION_CONTROL = re.compile(r"^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b")


@pytest.fixture
def idp(fresh_oidc_provider):
    fresh_oidc_provider.set_account(
        "ana",
        {
            "email": "ana@acme.test",
            "email_verified": True,
            "given_name": "Ana",
            "family_name": "Lima",
            "preferred_username": "ana.lima",
            "groups": ["staff"],
        },
    )
    return fresh_oidc_provider


@pytest.mark.parametrize("client_name", ["rp-basic", "rp-post", "rp-public"])
def test_first_login_creates_the_account_and_signs_in(client, idp, client_name):
    oidc_identity(idp, client=client_name, **({"client_secret": None} if client_name == "rp-public" else {}))
    response = sign_in(client, idp, "corp", "ana")

    assert response.status_code == 302, response.content[:800]
    assert response["Location"] == "/account/linked/"
    user = User.objects.get(username="ana.lima")
    assert (user.email, user.first_name, user.last_name) == ("ana@acme.test", "Ana", "Lima")
    assert not user.has_usable_password()
    federated = FederatedIdentity.objects.get(user=user)
    assert (federated.subject, federated.identity.provider.provider_id, federated.email) == (
        "ana",
        "corp",
        "ana@acme.test",
    )
    page = client.get("/account/linked/")
    assert page.status_code == 200 and b"ana.lima" in page.content
    assert last_signin_event().ok


def test_start_sends_state_nonce_pkce_and_scopes(client, idp):
    oidc_identity(idp, client="rp-basic", pkce_enabled=True, prompt="login")
    response = start(client, "corp")
    params = query_of(response["Location"])
    assert response["Location"].startswith(idp.discovery()["authorization_endpoint"] + "?")
    assert params["response_type"] == "code" and params["client_id"] == "rp-basic"
    assert params["scope"] == "openid email profile" and params["prompt"] == "login"
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32 and params["state"] != params["nonce"]
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["redirect_uri"] == "http://testserver/signin/default/corp/callback"


def test_returning_user_signs_in_with_token_and_userinfo_calls_only(client, idp):
    oidc_identity(idp)
    assert sign_in(client, idp, "corp", "ana").status_code == 302
    client.logout()
    started = start(client, "corp")
    back = idp.sign_in(started["Location"], "ana")
    before = idp.request_counts()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(back.removeprefix("http://testserver"))
    statements = [query["sql"] for query in captured.captured_queries if not TRANSACTION_CONTROL.match(query["sql"])]
    assert len(statements) <= 12, "\n".join(statements)
    after = idp.request_counts()
    assert response.status_code == 302
    calls = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    assert {name: count for name, count in calls.items() if count} == {"token": 1, "userinfo": 1}
    assert User.objects.count() == 1 and FederatedIdentity.objects.count() == 1


def test_mapped_operators_group_opens_the_admin(client, idp):
    identity = oidc_identity(idp)
    identity.mappers.create(
        name="staff are operators",
        mapper_type="oidc-advanced-group-idp-mapper",
        config={"claim": "groups", "claim_value": "staff", "group": OPERATORS},
    )
    response = sign_in(client, idp, "corp", "ana")
    assert response["Location"] == "/admin/"
    user = User.objects.get(username="ana.lima")
    assert user.is_staff and user.groups.filter(name=OPERATORS).exists()
    assert client.get("/admin/").status_code == 200


def test_force_mapper_takes_the_group_away_when_claims_stop_matching(client, idp):
    identity = oidc_identity(idp, sync_mode="FORCE")
    identity.mappers.create(
        name="staff are operators",
        mapper_type="oidc-advanced-group-idp-mapper",
        config={"claim": "groups", "claim_value": "staff", "group": OPERATORS},
    )
    sign_in(client, idp, "corp", "ana")
    assert User.objects.get(username="ana.lima").groups.filter(name=OPERATORS).exists()
    client.logout()
    idp.set_account(
        "ana", {"email": "ana@acme.test", "email_verified": True, "preferred_username": "ana.lima", "groups": []}
    )
    assert sign_in(client, idp, "corp", "ana")["Location"] == "/account/linked/"
    user = User.objects.get(username="ana.lima")
    assert not user.groups.filter(name=OPERATORS).exists() and not user.is_staff


def test_import_mapper_acts_at_first_login_only(client, idp):
    identity = oidc_identity(idp, sync_mode="IMPORT")
    identity.mappers.create(
        name="department",
        mapper_type="oidc-user-attribute-idp-mapper",
        config={"claim": "given_name", "user_attribute": "department"},
    )
    sign_in(client, idp, "corp", "ana")
    client.logout()
    idp.set_account("ana", {"email": "ana@acme.test", "given_name": "Changed", "preferred_username": "ana.lima"})
    sign_in(client, idp, "corp", "ana")
    assert User.objects.get(username="ana.lima").attributes == {"department": "Ana"}


def test_cancel_at_the_provider_is_a_page_with_a_reference(client, idp):
    oidc_identity(idp)
    response = sign_in(client, idp, "corp", "ana", cancel=True)
    assert response.status_code == 403
    assert b"You cancelled the sign-in" in response.content
    event = last_signin_event()
    assert not event.ok and event.detail.startswith("[") and "provider_access_denied" in event.detail
    reference = event.detail[1:9]
    assert reference.encode() in response.content
    assert User.objects.count() == 0 and AuditEvent.objects.filter(action="create").count() == 0


def test_state_is_single_use(client, idp):
    oidc_identity(idp)
    started = start(client, "corp")
    back = idp.sign_in(started["Location"], "ana").removeprefix("http://testserver")
    assert client.get(back).status_code == 302
    client.logout()
    again = client.get(back)
    assert again.status_code == 400 and b"already used" in again.content


def test_login_started_in_another_browser_is_refused(client, idp, django_user_model):
    from django.test import Client

    oidc_identity(idp)
    started = start(client, "corp")
    back = idp.sign_in(started["Location"], "ana").removeprefix("http://testserver")
    response = Client().get(back)
    assert response.status_code == 400 and b"not started in this browser" in response.content
    assert django_user_model.objects.count() == 0


def test_a_user_name_the_provider_gives_with_spaces_is_made_valid_and_unique(client, idp):
    User.objects.create(username="Ana.Lima")
    idp.set_account("ana", {"preferred_username": "Ana Lima!", "email": "ana@elsewhere.test"})
    oidc_identity(idp)
    assert sign_in(client, idp, "corp", "ana").status_code == 302
    assert FederatedIdentity.objects.get().user.username == "Ana.Lima2"
