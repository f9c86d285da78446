"""Signing in through the test OpenID provider with Django's test client, as a browser does: the
start redirects to the provider, the provider's page is completed (`OidcProvider.sign_in`), and
the browser follows the provider back to the callback."""

from urllib.parse import parse_qs, urlsplit

from providers.models import AuditEvent
from tests.factories import IdentityProviderFactory

HOST = "http://testserver"


def callback_url(alias: str, workspace: str = "default") -> str:
    return f"{HOST}/signin/{workspace}/{alias}/callback"


def oidc_identity(idp, *, alias: str = "corp", client: str = "rp-basic", workspace: str = "default", **fields):
    """An OIDC identity provider for the test provider `idp`, its endpoints as discovery gives them,
    with `client` (rp-basic, rp-post or rp-public) and the callback registered at the provider."""
    document = idp.discovery()
    registered = idp.client(client)
    idp.set_redirect_uris([callback_url(alias, workspace)], client_ids=[client])
    values = {
        "alias": alias,
        "issuer": document["issuer"],
        "authorization_url": document["authorization_endpoint"],
        "token_url": document["token_endpoint"],
        "user_info_url": document["userinfo_endpoint"],
        "jwks_url": document["jwks_uri"],
        "logout_url": document.get("end_session_endpoint", ""),
        "client_id": registered.client_id,
        "client_secret": registered.client_secret,
        "client_auth_method": registered.auth_method if registered.auth_method != "none" else "client_secret_basic",
        "default_scope": "openid email profile",
        "update_profile_first_login_mode": "off",
        **fields,
    }
    if workspace != "default":
        from accounts.models import Workspace
        from tests.factories import ProviderFactory  # noqa: F401

        values["provider__workspace"] = Workspace.objects.get(name=workspace)
    return IdentityProviderFactory(**values)


def start(client, alias: str, *, workspace: str = "default", query: str = ""):
    return client.get(f"/signin/{workspace}/{alias}/" + (f"?{query}" if query else ""))


def sign_in(client, idp, alias: str, sub: str, *, workspace: str = "default", query: str = "", cancel: bool = False):
    """The whole login: start, the provider's page as `sub`, back to the callback. Returns the
    callback's response."""
    started = start(client, alias, workspace=workspace, query=query)
    assert started.status_code == 302, started.content[:500]
    back = idp.sign_in(started["Location"], sub, cancel=cancel)
    assert back.startswith(HOST), back
    return client.get(back.removeprefix(HOST))


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def last_signin_event() -> AuditEvent:
    return AuditEvent.objects.filter(action=AuditEvent.Action.SIGNIN).order_by("-id").first()
