"""A login started on one app server completes on another: what a login keeps between its start
and its callback is in the session (the database) and the shared cache, never in a process's
memory. Two real servers on one database; in CI's Redis step (CACHE_URL=redis://…) they share the
machine's Redis too."""

import os
import subprocess
import sys
from http.cookies import SimpleCookie

import pytest
from django.conf import settings

from tests.servers import serve

REDIRECT = "http://127.0.0.1/signin/default/corp/callback"  # the host both servers are reached by
ARRANGE = """
from accounts.scoping import every_workspace
from tests.factories import IdentityProviderFactory
with every_workspace():
    IdentityProviderFactory(alias="corp", issuer={issuer!r}, authorization_url={authorize!r}, token_url={token!r},
        user_info_url={userinfo!r}, jwks_url={jwks!r}, client_id="rp-basic", client_secret="rp-basic-secret",
        default_scope="openid email profile", update_profile_first_login_mode="off")
"""


def _session_cookie(answer) -> str:
    cookies = SimpleCookie()
    for header in answer.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    return cookies["sessionid"].value


@pytest.mark.django_db
def test_a_login_started_on_one_server_completes_on_another(fresh_oidc_provider, tmp_path):
    idp = fresh_oidc_provider
    idp.set_account("ana", {"email": "ana@acme.test", "preferred_username": "ana"})
    idp.set_redirect_uris([REDIRECT], client_ids=["rp-basic"])
    document = idp.discovery()
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/shared.sqlite3",
        "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.1/32",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
    }
    run_env = {**os.environ, "FERNET_KEYS": ",".join(settings.FERNET_KEYS), "DJANGO_SECRET_KEY": "two-servers", **env}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0", "--noinput"], cwd=settings.BASE_DIR, env=run_env, check=True)
    code = ARRANGE.format(
        issuer=document["issuer"],
        authorize=document["authorization_endpoint"],
        token=document["token_endpoint"],
        userinfo=document["userinfo_endpoint"],
        jwks=document["jwks_uri"],
    )
    subprocess.run([*manage, "shell", "-c", code], cwd=settings.BASE_DIR, env=run_env, check=True)

    shared = {**env, "DJANGO_SECRET_KEY": "two-servers"}
    with serve("config.settings.local", env=shared) as first, serve("config.settings.local", env=shared) as second:
        started = first.request("GET", "/signin/default/corp/")
        assert started.status == 302, started.body[:300]
        back = idp.sign_in(started.headers["Location"], "ana")
        assert back.startswith(REDIRECT + "?")

        finished = second.request(
            "GET", back.removeprefix("http://127.0.0.1"), headers={"Cookie": f"sessionid={_session_cookie(started)}"}
        )
        assert finished.status == 302, finished.body[:800]
        assert finished.headers["Location"] == "/account/linked/"

        page = first.request("GET", "/account/linked/", headers={"Cookie": f"sessionid={_session_cookie(finished)}"})
        assert page.status == 200 and b"Signed in as <strong>" in page.body, page.body.decode()[-1500:]
        assert b"Signed in as <strong>ana</strong>" in page.body, page.body.decode()[:3000]
