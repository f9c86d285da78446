"""The GitHub-style OAuth 2.0 server itself (tests/idp/github.py through its fixture): what the sign-in
tests of the non-OIDC path rely on, done with plain HTTP (urllib). No Django here."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode

import pytest

from .github import GithubProvider, GithubProviderError, callback_params
from .oidc_provider import Answer, http_client, http_request

REDIRECT_URI = "http://127.0.0.1:9/signin/default/github/callback"  # never requested: sign_in stops there


def authorization_url(gh: GithubProvider, **extra: str) -> str:
    query = {
        "client_id": gh.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "read:user user:email",
        "state": "state-123",
        **extra,
    }
    return f"{gh.authorization_url}?{urlencode(query)}"


def exchange(
    gh: GithubProvider,
    code: str,
    *,
    secret: str | None = None,
    basic: bool = False,
    accept: str = "application/json",
    **extra: str,
) -> Answer:
    form = {"code": code, "redirect_uri": REDIRECT_URI, **extra}
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}
    credentials = (gh.client_id, gh.client_secret if secret is None else secret)
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
    else:
        form |= {"client_id": credentials[0], "client_secret": credentials[1]}
    return http_request(http_client(), gh.token_url, data=urlencode(form).encode(), headers=headers)


def api(url: str, token: str, scheme: str = "Bearer") -> Answer:
    headers = {"Authorization": f"{scheme} {token}", "Accept": "application/vnd.github+json"}
    return http_request(http_client(), url, headers=headers)


def signed_in_code(gh: GithubProvider, **extra: str) -> str:
    params = callback_params(gh.sign_in(authorization_url(gh, **extra)))
    assert params["state"] == "state-123"
    return params["code"]


@pytest.fixture
def gh(github_provider: GithubProvider) -> GithubProvider:
    github_provider.set_user("octocat", id=583231, name="The Octocat", email=None)
    return github_provider


def test_urls_are_githubs_paths_on_the_loopback(github_provider):
    assert github_provider.base_url.startswith("http://127.0.0.1:")
    assert github_provider.authorization_url == github_provider.base_url + "/login/oauth/authorize"
    assert github_provider.token_url == github_provider.base_url + "/login/oauth/access_token"
    assert github_provider.user_url == github_provider.base_url + "/user"
    assert github_provider.emails_url == github_provider.base_url + "/user/emails"


def test_full_code_exchange_and_the_user_read_with_the_token(gh):
    callback = gh.sign_in(authorization_url(gh))
    code = callback_params(callback)["code"]

    answer = exchange(gh, code)
    tokens = answer.json()
    user = api(gh.user_url, tokens["access_token"])

    assert callback == f"{REDIRECT_URI}?code={code}&state=state-123"
    assert answer.status == 200
    assert tokens["access_token"].startswith("gho_")
    assert len(tokens["access_token"]) == 40
    assert tokens["token_type"] == "bearer"
    assert tokens["scope"] == "read:user,user:email"
    assert user.status == 200
    assert user.headers["X-OAuth-Scopes"] == "read:user, user:email"
    body = user.json()
    assert {name: body[name] for name in ("login", "id", "name", "email", "type")} == {
        "login": "octocat",
        "id": 583231,
        "name": "The Octocat",
        "email": None,
        "type": "User",
    }
    assert body["html_url"] == "https://github.com/octocat"
    assert {"avatar_url", "node_id", "created_at", "two_factor_authentication", "plan"} <= body.keys()
    assert gh.request_counts() == {"authorize": 1, "token": 1, "user": 1, "emails": 0}


def test_basic_client_authentication_and_the_form_encoded_answer(gh):
    basic = exchange(gh, signed_in_code(gh), basic=True)
    form = exchange(gh, signed_in_code(gh), accept="*/*")

    assert basic.json()["token_type"] == "bearer"
    assert form.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    fields = parse_qs(form.body.decode())
    assert fields["access_token"][0].startswith("gho_")
    assert fields["scope"] == ["read:user,user:email"]


def test_a_code_is_single_use_and_a_bad_one_is_a_200_error(gh):
    code = signed_in_code(gh)

    first = exchange(gh, code)
    second = exchange(gh, code)
    unknown = exchange(gh, "not-a-code")

    assert "access_token" in first.json()
    for answer in (second, unknown):
        assert answer.status == 200
        assert answer.json() == {
            "error": "bad_verification_code",
            "error_description": "The code passed is incorrect or expired.",
            "error_uri": "/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/"
            "#bad-verification-code",
        }


@pytest.mark.parametrize("basic", [False, True])
def test_wrong_client_secret_is_refused_and_does_not_use_the_code(gh, basic):
    code = signed_in_code(gh)

    wrong = exchange(gh, code, secret="not-the-secret", basic=basic)
    right = exchange(gh, code, basic=basic)

    assert wrong.status == 200
    assert wrong.json()["error"] == "incorrect_client_credentials"
    assert "access_token" not in wrong.json()
    assert "access_token" in right.json()


def test_redirect_uri_must_match_the_authorization_requests(gh):
    answer = exchange(gh, signed_in_code(gh), redirect_uri="http://127.0.0.1:9/elsewhere")

    assert answer.json()["error"] == "redirect_uri_mismatch"


def test_pkce_s256_verifier_is_checked(gh):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    pkce = {"code_challenge": challenge, "code_challenge_method": "S256"}

    wrong = exchange(gh, signed_in_code(gh, **pkce), code_verifier="not-the-verifier")
    right = exchange(gh, signed_in_code(gh, **pkce), code_verifier=verifier)

    assert wrong.json()["error"] == "bad_verification_code"
    assert "access_token" in right.json()


def test_cancel_answers_githubs_access_denied(gh):
    callback = gh.sign_in(authorization_url(gh), cancel=True)

    assert callback.startswith(REDIRECT_URI + "?")
    assert callback_params(callback) == {
        "error": "access_denied",
        "error_description": "The user has denied your application access.",
        "error_uri": "/apps/building-integrations/setting-up-and-registering-oauth-apps/"
        "troubleshooting-authorization-request-errors/#access-denied",
        "state": "state-123",
    }


def test_unknown_client_and_foreign_urls_are_refused(gh):
    with pytest.raises(GithubProviderError, match="404"):
        gh.sign_in(authorization_url(gh, client_id="someone-else"))
    with pytest.raises(ValueError, match="not this provider"):
        gh.sign_in("https://github.com/login/oauth/authorize?client_id=x")


def test_registered_callback_url_refuses_another_redirect_uri(gh):
    gh.callback_url = "http://127.0.0.1:9/signin/default/github/"

    allowed = callback_params(gh.sign_in(authorization_url(gh)))
    refused = gh.sign_in(authorization_url(gh, redirect_uri="http://evil.example.test/callback"))

    assert "code" in allowed
    assert refused.startswith(gh.callback_url + "?")
    assert callback_params(refused)["error"] == "redirect_uri_mismatch"


@pytest.mark.parametrize("scheme", ["Bearer", "token", "bearer"])
def test_user_accepts_bearer_and_token_schemes(gh, scheme):
    token = exchange(gh, signed_in_code(gh)).json()["access_token"]

    assert api(gh.user_url, token, scheme).json()["login"] == "octocat"


def test_bad_credentials(gh):
    token = exchange(gh, signed_in_code(gh)).json()["access_token"]

    unknown = api(gh.user_url, "gho_" + "x" * 36)
    basic = api(gh.user_url, token, "Basic")
    missing = http_request(http_client(), gh.emails_url)

    for answer in (unknown, basic, missing):
        assert answer.status == 401
        assert answer.json()["message"] == "Bad credentials"


def test_emails_list_the_addresses_and_the_public_one_is_optional(gh):
    emails = [
        {"email": "octocat@github.example", "primary": True, "verified": True, "visibility": "private"},
        {"email": "old@acme.example", "primary": False, "verified": False, "visibility": None},
    ]
    gh.set_user("octocat", id=583231, name="The Octocat", email=None, emails=emails)
    token = exchange(gh, signed_in_code(gh)).json()["access_token"]

    listed = api(gh.emails_url, token)
    user = api(gh.user_url, token)

    assert listed.status == 200
    assert listed.json() == emails
    assert user.json()["email"] is None


def test_default_emails_and_changes_after_sign_in_come_through(github_provider):
    github_provider.set_user("ana", email="ana@acme.example")
    token = exchange(github_provider, signed_in_code(github_provider)).json()["access_token"]
    before = api(github_provider.emails_url, token).json()

    github_provider.set_user("ana", name="Ana Lima", email=None)
    after = api(github_provider.user_url, token).json()

    assert before == [{"email": "ana@acme.example", "primary": True, "verified": True, "visibility": "public"}]
    assert after["name"] == "Ana Lima"
    assert after["email"] is None
    assert after["id"] == api(github_provider.user_url, token).json()["id"]


def test_the_last_set_user_approves(gh):
    gh.set_user("hubot", id=7)
    token = exchange(gh, signed_in_code(gh)).json()["access_token"]

    assert api(gh.user_url, token).json()["login"] == "hubot"


def test_a_fault_replaces_one_answer_and_requests_are_counted(gh):
    code = signed_in_code(gh)
    gh.set_fault("token", status=200, body="{not json")
    gh.set_fault("user", status=502, body={"message": "Server Error"})

    faulty = exchange(gh, code)
    exchanged = exchange(gh, code)
    token = exchanged.json()["access_token"]
    faulty_user = api(gh.user_url, token)
    user = api(gh.user_url, token)

    assert (faulty.status, faulty.body) == (200, b"{not json")
    assert (faulty_user.status, faulty_user.json()) == (502, {"message": "Server Error"})
    assert user.json()["login"] == "octocat"
    assert gh.request_counts() == {"authorize": 1, "token": 2, "user": 2, "emails": 0}


def test_browser_following_the_redirect_is_sent_back_with_a_code(gh):
    answer = http_request(http_client(), authorization_url(gh))

    assert answer.status == 302
    assert "code" in callback_params(answer.headers["Location"])
