"""The sign-in pages: the login page with one button per identity provider, the start and the
callback of a login, the first login's profile review and proof of an existing account, the linked
accounts page and logout. The rules of what a login leads to are in `flow`, the protocol in
`oidc`, the writes in `providers.identity.services.federation`.

Every refusal is a page with a short reason and a reference id, recorded in the audit log of the
identity provider's workspace under the same reference; none leaves a user created or half-linked."""

import hashlib
import logging
import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import is_same_domain, url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.lockout import FEDERATED
from accounts.models import Workspace
from accounts.scoping import activate, every_workspace
from providers import audit
from providers.catalog import SAML
from providers.identity import selectors
from providers.identity.services.federation import (
    Profile,
    federated_identity_link,
    federated_identity_login,
    federated_identity_unlink,
    federated_user_create,
    identity_mapper_specs,
)
from providers.models import AuditEvent, FederatedIdentity, IdentityProvider

from . import csp, flow, oidc, saml, state

logger = logging.getLogger("providers.signin")
BACKEND = "accounts.backends.RegistryModelBackend"
_SESSION_IDENTITY = "signin.identity"


def redirect_uri(request: HttpRequest, *, workspace: str, alias: str) -> str:
    """The callback URL an operator registers at the provider."""
    return request.build_absolute_uri(reverse("signin:callback", args=[workspace, alias]))


@never_cache
@require_http_methods(["GET", "POST"])
def login_page(request: HttpRequest, workspace_name: str = "default") -> HttpResponse:
    """One button per identity provider the public list offers, and the email box of home-realm
    discovery when any has a verified domain. `idp_hint` / `kc_idp_hint` go straight to that
    provider (hidden ones too); an `authenticateByDefault` one is where the page sends the browser
    (`?local` shows the page anyway)."""
    workspace = _workspace(workspace_name)
    next_url = _next(request)
    hint = request.GET.get("kc_idp_hint") or request.GET.get("idp_hint")
    if hint:
        return _to_start(workspace.name, hint[:255], next_url)
    email, message = "", ""
    if request.method == "POST":
        email = request.POST.get("email", "").strip()[:254]
        alias = selectors.alias_for_email(email) if "@" in email else None
        if alias:
            return _to_start(workspace.name, alias, next_url, login_hint=email)
        message = "No identity provider signs in addresses of that domain; choose one below."
    buttons = selectors.login_buttons()
    default = selectors.default_alias()
    if default and request.method == "GET" and "local" not in request.GET:
        return _to_start(workspace.name, default, next_url)
    discovery = selectors.has_verified_domains()
    if discovery:
        csp.allow_form_targets(request, csp.endpoint_urls(selectors.discovery_form_targets()))
    context = {
        "workspace": workspace,
        "buttons": buttons,
        "discovery": discovery,
        "email": email,
        "message": message,
        "next": next_url,
    }
    return render(request, "signin/login.html", context, status=400 if message else 200)


@never_cache
@require_http_methods(["GET"])
def start(request: HttpRequest, workspace_name: str, alias: str) -> HttpResponse:
    return _start(request, workspace_name, alias, linking=False)


@never_cache
@require_http_methods(["POST"])
def link_start(request: HttpRequest, workspace_name: str, alias: str) -> HttpResponse:
    """A signed-in user links another provider to their account (from the linked accounts page)."""
    if not request.user.is_authenticated:
        return _login_redirect(request)
    return _start(request, workspace_name, alias, linking=True)


def _start(request: HttpRequest, workspace_name: str, alias: str, *, linking: bool) -> HttpResponse:
    identity = None
    try:
        identity = _usable_identity(workspace_name, alias)
        if identity.protocol == SAML:
            return _start_saml(request, identity, linking=linking)
        links = oidc.endpoints(identity, callback=False)
        grant = oidc.authorization(
            identity,
            redirect_uri=redirect_uri(request, workspace=workspace_name, alias=alias),
            login_hint=request.GET.get("login_hint", "")[:254],
            links=links,
        )
    except oidc.LoginError as error:
        return _failure(request, error, identity=identity, alias=alias)
    state.remember(
        request.session,
        grant.state,
        workspace=workspace_name,
        alias=alias,
        nonce=grant.nonce,
        verifier=grant.code_verifier,
        next=_next(request),
        link_user=request.user.pk if linking else None,
    )
    return HttpResponseRedirect(grant.url)


@never_cache
@require_http_methods(["GET"])
def callback(request: HttpRequest, workspace_name: str, alias: str) -> HttpResponse:
    identity = None
    try:
        identity = _usable_identity(workspace_name, alias)
        pending, why = state.take(request.session, request.GET.get("state", ""), workspace=workspace_name, alias=alias)
        if pending is None:
            raise oidc.LoginError(_STATE_REASONS.get(why, _STATE_REASONS["unknown"]), code=f"state_{why or 'other'}")
        if "error" in request.GET:
            error = request.GET["error"][:60]
            reason = "You cancelled the sign-in." if error == "access_denied" else "The provider refused the sign-in."
            raise oidc.LoginError(f"{reason} ({_word(error)})", code=f"provider_{_word(error)}", status=403)
        code = request.GET.get("code", "")
        if not code:
            raise oidc.LoginError("The provider sent no authorization code.", code="code_missing")
        links = oidc.endpoints(identity)
        result = oidc.exchange(
            identity,
            code=code,
            redirect_uri=redirect_uri(request, workspace=workspace_name, alias=alias),
            nonce=pending["nonce"],
            code_verifier=pending["verifier"],
            links=links,
        )
        linking_user = _linking_user(request, pending)
        outcome = flow.decide(identity=identity, result=result, linking_user=linking_user)
        return _act(request, identity, result, outcome, pending["next"])
    except (oidc.LoginError, ValidationError) as error:
        return _failure(request, error, identity=identity, alias=alias)


_STATE_REASONS = {
    "missing": "The sign-in response has no state: start the sign-in again.",
    "unknown": "This sign-in was not started in this browser, or was already used: start it again.",
    "expired": "This sign-in took longer than 10 minutes: start it again.",
}


def _act(
    request: HttpRequest, identity: IdentityProvider, result: oidc.LoginResult, outcome: flow.Outcome, next_url: str
) -> HttpResponse:
    specs = identity_mapper_specs(identity=identity)
    if outcome.kind == "login":
        assert outcome.federated is not None
        outcome.federated.identity = identity
        federated_identity_login(federated=outcome.federated, claims=result.claims, specs=specs, tokens=result.tokens)
        return _signed_in(request, outcome.user, identity, result, next_url)
    if outcome.kind == "link":
        federated_identity_link(
            identity=identity,
            user=outcome.user,
            subject=result.subject,
            claims=result.claims,
            specs=specs,
            tokens=result.tokens,
        )
        return _signed_in(request, outcome.user, identity, result, next_url)
    if outcome.kind == "create":
        assert outcome.profile is not None
        user, _ = federated_user_create(
            identity=identity,
            subject=result.subject,
            profile=outcome.profile,
            claims=result.claims,
            specs=specs,
            tokens=result.tokens,
        )
        return _signed_in(request, user, identity, result, next_url)
    assert outcome.profile is not None
    state.hold_first_login(
        request.session,
        kind=outcome.kind,
        identity=identity.pk,
        workspace=identity.provider.workspace_id,
        subject=result.subject,
        claims=result.claims,
        profile=flow.profile_values(outcome.profile),
        user=outcome.user.pk if outcome.user is not None else None,
        next=next_url,
    )
    return HttpResponseRedirect(reverse("signin:review" if outcome.kind == "review" else "signin:prove"))


@never_cache
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest) -> HttpResponse:
    """The first login's profile, as the mappers made it, for the user to correct before the
    account is created (`updateProfileFirstLoginMode`)."""
    held, identity = _held(request, "review")
    if held is None or identity is None:
        return _nothing_held(request)
    profile = dict(held["profile"])
    errors: list[str] = []
    if request.method == "POST":
        profile = {
            name: request.POST.get(name, "").strip() for name in ("username", "email", "first_name", "last_name")
        }
        if not profile["username"]:
            errors.append("Choose a user name.")
        if not errors:
            try:
                user, _ = federated_user_create(
                    identity=identity,
                    subject=held["subject"],
                    profile=Profile(**profile),
                    claims=held["claims"],
                    specs=identity_mapper_specs(identity=identity),
                    tokens={},
                )
            except ValidationError as error:
                errors.extend(error.messages)
            else:
                state.drop_first_login(request.session)
                result = oidc.LoginResult(subject=held["subject"], claims=held["claims"], tokens={})
                return _signed_in(request, user, identity, result, held["next"])
    context = {"profile": profile, "errors": errors, "identity": identity}
    return render(request, "signin/review.html", context, status=400 if errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def prove(request: HttpRequest) -> HttpResponse:
    """An account with the provider's email exists, and the provider does not vouch for the
    address in one of its verified domains: the user signs in to that account (its password) to
    link it. Nothing is linked until they do."""
    held, identity = _held(request, "prove")
    if held is None or identity is None:
        return _nothing_held(request)
    with every_workspace():
        account = flow.User.objects.filter(pk=held["user"]).first()
    if account is None:
        return _nothing_held(request)
    error = ""
    if request.method == "POST":
        user = authenticate(request, username=account.get_username(), password=request.POST.get("password", ""))
        if user is not None and user.pk == account.pk:
            try:
                federated_identity_link(
                    identity=identity,
                    user=user,
                    subject=held["subject"],
                    claims=held["claims"],
                    specs=identity_mapper_specs(identity=identity),
                    tokens={},
                )
            except ValidationError as exc:
                return _failure(request, exc, identity)
            state.drop_first_login(request.session)
            result = oidc.LoginResult(subject=held["subject"], claims=held["claims"], tokens={})
            return _signed_in(request, user, identity, result, held["next"])
        error = "That password is not the account's."
        audit.record(
            action=AuditEvent.Action.SIGNIN,
            actor=None,
            obj=identity.provider,
            object_type="federated_identity",
            object_id=held["subject"],
            ok=False,
            detail="proof of the existing account failed",
        )
    context = {
        "identity": identity,
        "username": account.get_username(),
        "has_password": account.has_usable_password(),
        "error": error,
    }
    return render(request, "signin/prove.html", context, status=400 if error else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def linked_accounts(request: HttpRequest) -> HttpResponse:
    """The signed-in user's federated identities, across workspaces: link another provider,
    unlink one (not the last way to sign in)."""
    if not request.user.is_authenticated:
        return _login_redirect(request)
    error = ""
    with every_workspace():
        if request.method == "POST":
            federated = FederatedIdentity.objects.filter(user=request.user, pk=request.POST.get("unlink") or 0)
            target = federated.select_related("identity__provider").first()
            if target is None:
                error = "That linked account no longer exists."
            else:
                try:
                    federated_identity_unlink(federated=target, actor=request.user)
                except ValidationError as exc:
                    error = " ".join(exc.messages)
                else:
                    return HttpResponseRedirect(reverse("signin:linked"))
        identities = list(selectors.linked_identities(user=request.user))
        linkable = selectors.linkable_providers(user=request.user)
        if linkable:
            csp.allow_form_targets(request, csp.endpoint_urls(selectors.linkable_form_targets(user=request.user)))
    _allow_provider_logout(request)
    context = {"identities": identities, "linkable": linkable, "error": error}
    return render(request, "signin/linked.html", context, status=400 if error else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    """Ends the local session (POST; GET asks), and the provider's where it has a logout URL and
    the operator turned `logout_at_provider` on."""
    if request.method == "GET":
        _allow_provider_logout(request)
        return render(request, "signin/logout.html", {})
    signed = request.session.get(_SESSION_IDENTITY) or {}
    logout(request)
    destination = request.build_absolute_uri(reverse("signin:login"))
    if signed.get("identity"):
        with every_workspace():
            identity = IdentityProvider.objects.select_related("provider").filter(pk=signed["identity"]).first()
        provider_logout = ""
        if identity is not None and identity.protocol == SAML:
            provider_logout = saml.logout_url(identity, request, session=signed.get("saml", {}), return_to=destination)
        elif identity is not None:
            provider_logout = oidc.end_session_url(
                identity, id_token_hint=signed.get("id_token", ""), post_logout_redirect_uri=destination
            )
        if provider_logout:
            return HttpResponseRedirect(provider_logout)
    return HttpResponseRedirect(destination)


def _allow_provider_logout(request: HttpRequest) -> None:
    """The page's "Log out" form may be redirected to the logout URL of the identity provider the
    user signed in through, when it has `logout_at_provider` on."""
    signed = request.session.get(_SESSION_IDENTITY) or {}
    if not signed.get("identity"):
        return
    with every_workspace():
        found = IdentityProvider.objects.filter(pk=signed["identity"], logout_at_provider=True).values_list(
            "protocol", "logout_url", "issuer", "single_logout_service_url"
        )
        rows = [(slo, "") if protocol == SAML else (url, issuer) for protocol, url, issuer, slo in found]
        csp.allow_form_targets(request, csp.endpoint_urls(rows, endpoint="end_session_endpoint"))


def _signed_in(
    request: HttpRequest, user, identity: IdentityProvider, result: oidc.LoginResult, next_url: str
) -> HttpResponse:
    setattr(request, FEDERATED, True)
    login(request, user, backend=BACKEND)
    signed: dict[str, Any] = {"identity": identity.pk}
    if identity.logout_at_provider and isinstance(result.tokens.get("id_token"), str):
        signed["id_token"] = result.tokens["id_token"]  # the hint RP-initiated logout sends back
    if identity.logout_at_provider and identity.protocol == SAML:
        signed["saml"] = result.tokens  # the NameID and session index single logout names
    request.session[_SESSION_IDENTITY] = signed
    audit.record(
        action=AuditEvent.Action.SIGNIN,
        actor=user,
        obj=identity.provider,
        object_type="federated_identity",
        object_id=result.subject,
        object_repr=f"{user.get_username()} at {identity.provider.provider_id}",
    )
    if next_url:
        return HttpResponseRedirect(next_url)
    return HttpResponseRedirect(reverse("admin:index") if user.is_staff else reverse("signin:linked"))


def _failure(
    request: HttpRequest,
    error: oidc.LoginError | ValidationError,
    identity: IdentityProvider | None = None,
    alias: str = "",
) -> HttpResponse:
    """The refusal's page, log line and audit entry, under one reference. A `ValidationError` is
    a service refusing the account (a link taken, a name in use): a 409."""
    if isinstance(error, ValidationError):
        error = oidc.LoginError(" ".join(error.messages)[:200], code="account", status=409)
    reference = secrets.token_hex(4).upper()
    alias = identity.provider.provider_id if identity is not None else alias
    logger.warning("sign-in refused [%s] %s: %s", reference, error.code, error.reason)
    try:
        audit.record(
            action=AuditEvent.Action.SIGNIN,
            actor=request.user if request.user.is_authenticated else None,
            obj=identity.provider if identity is not None else None,
            object_type="federated_identity",
            object_id=alias[:64],
            object_repr=alias,
            ok=False,
            detail=f"[{reference}] {error.code}: {error.reason}",
        )
    except DatabaseError:
        logger.exception("sign-in refusal [%s] not recorded", reference)
    context = {"reason": error.reason, "reference": reference, "alias": alias}
    return render(request, "signin/failure.html", context, status=error.status)


def _workspace(name: str) -> Workspace:
    workspace = Workspace.objects.filter(name=name).only("pk", "name", "display_name").first()
    if workspace is None:
        raise Http404("No such workspace.")
    activate(workspace.pk)
    return workspace


def _usable_identity(workspace_name: str, alias: str) -> IdentityProvider:
    """The login's identity provider, the request then acting in its workspace; refused when it
    cannot sign anyone in."""
    identity = selectors.identity_for_login(workspace_name=workspace_name, alias=alias)
    if identity is None:
        _workspace(workspace_name)  # an unknown workspace is a 404 page
        raise oidc.LoginError("There is no identity provider of that name here.", code="unknown_provider", status=404)
    activate(identity.provider.workspace_id)
    if not identity.provider.enabled:
        raise oidc.LoginError("This identity provider is disabled.", code="disabled", status=403)
    if identity.status != IdentityProvider.Status.ACTIVE:
        raise oidc.LoginError(
            "This identity provider waits for its domains to be verified.", code="pending", status=403
        )
    return identity


def _linking_user(request: HttpRequest, pending: dict):
    if not pending.get("link_user"):
        return None
    if not request.user.is_authenticated or request.user.pk != pending["link_user"]:
        raise oidc.LoginError("Sign in again to link this account.", code="link_session", status=403)
    return request.user


def _held(request: HttpRequest, kind: str):
    held = state.first_login(request.session)
    if held is None or held["kind"] != kind:
        return None, None
    activate(held["workspace"])
    identity = IdentityProvider.objects.select_related("provider").filter(pk=held["identity"]).first()
    return held, identity


def _nothing_held(request: HttpRequest) -> HttpResponse:
    error = oidc.LoginError("There is no sign-in waiting here: start it again.", code="first_login_missing")
    return _failure(request, error)


def _next(request: HttpRequest) -> str:
    return _safe_next(request, request.GET.get("next") or request.POST.get("next") or "")


def _to_start(workspace: str, alias: str, next_url: str, login_hint: str = "") -> HttpResponse:
    query = {key: value for key, value in (("next", next_url), ("login_hint", login_hint)) if value}
    url = reverse("signin:start", args=[workspace, alias])
    return HttpResponseRedirect(url + ("?" + urlencode(query) if query else ""))


def _login_redirect(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(reverse("signin:login") + "?" + f"next={request.path}")


def _word(value: str) -> str:
    return "".join(char for char in value if char.isalnum() or char in "_-.")[:40]


def _start_saml(request: HttpRequest, identity: IdentityProvider, *, linking: bool) -> HttpResponse:
    """The AuthnRequest, by redirect or by a form the browser posts to the provider; its
    RelayState names the pending login (as `state` does for OIDC), which holds the request's ID."""
    relay_state = secrets.token_urlsafe(32)
    message = saml.authn_request(identity, request, relay_state=relay_state)
    state.remember(
        request.session,
        relay_state,
        workspace=identity.provider.workspace.name,
        alias=identity.provider.provider_id,
        request_id=message["request_id"],
        next=_next(request),
        link_user=request.user.pk if linking else None,
    )
    if message["binding"] == "redirect":
        return HttpResponseRedirect(message["url"])
    context = {
        "title": "Signing in",
        "action": message["url"],
        "fields": message["fields"],
        "explanation": f"On to {identity.provider.label or identity.provider.provider_id}…",
    }
    response = render(request, "signin/autopost.html", context)
    csp.allow_form_targets(request, [message["url"]])
    return response


@csrf_exempt
@never_cache
@require_http_methods(["POST"])
def saml_acs(request: HttpRequest, workspace_name: str, alias: str) -> HttpResponse:
    """The Assertion Consumer Service. The provider's form arrives from another site, so the
    browser sends no session cookie (SameSite=Lax): this page posts the Response on, from this
    site, to `saml_finish`, where the session (and with it the pending login) is known. Nothing is
    checked or kept here, and the page carries no CSRF token: the browser sent no CSRF cookie
    either, so rendering one would set a new cookie, and every form already open in the user's
    other tabs would then fail its CSRF check (why the finish needs none: its docstring)."""
    fields = {name: request.POST.get(name, "")[:200_000] for name in ("SAMLResponse", "RelayState")}
    if not fields["SAMLResponse"]:
        # Refused here, so recorded here: in the audit log of the identity provider's workspace.
        identity = selectors.identity_for_login(workspace_name=workspace_name, alias=alias)
        if identity is not None:
            activate(identity.provider.workspace_id)
        error = oidc.LoginError("The request carries no SAML response.", code="malformed")
        return _failure(request, error, identity=identity, alias=alias)
    context = {
        "title": "Signing in",
        "action": reverse("signin:saml_finish", args=[workspace_name, alias]),
        "fields": fields,
        "explanation": "Finishing the sign-in…",
    }
    return render(request, "signin/autopost.html", context)


@csrf_exempt
@never_cache
@require_http_methods(["POST"])
def saml_finish(request: HttpRequest, workspace_name: str, alias: str) -> HttpResponse:
    """The Response checked (`saml.process_response`), with the pending login its RelayState
    names; without one, an IdP-initiated sign-in, when the identity provider allows it.

    No CSRF token, and no weaker for it. What a forged cross-site POST here could do is sign the
    victim's browser in as someone else (login CSRF), and a sign-in the registry started is bound
    to this browser already, more tightly than a CSRF token binds a form: its RelayState is 256
    random bits that name a pending login in this session, for this identity provider, taken out on
    first use whatever follows (`state.take`), and the Response must answer that login's own
    AuthnRequest (InResponseTo). A forger knows no RelayState of the victim's session, and a Response
    of theirs answers a request of their own session: refused (`state_unknown`, `in_response_to`).
    The same binding is all OIDC's callback has (its `state`, on a GET that no CSRF check covers).
    A CSRF token added nothing besides: the ACS, which must take a cross-site POST, handed a valid
    one to whoever posted to it, and rendering it rotated the CSRF cookie, breaking the forms of
    the user's other tabs.

    An IdP-initiated Response (no pending login; only with `allow_idp_initiated`) has no such
    binding, and no token could give it one (whoever reaches the ACS gets the page that posts here);
    login CSRF through the ACS is inherent in unsolicited responses, which is why they are off by
    default. What the CSRF check did for them, refuse a POST from another site straight to this
    URL, is kept without a token or cookie: the request must come from this site's own page
    (`_from_this_site`)."""
    identity = None
    try:
        identity = _usable_identity(workspace_name, alias)
        if identity.protocol != SAML:
            raise oidc.LoginError("This identity provider does not sign in with SAML.", code="protocol", status=404)
        relay_state = request.POST.get("RelayState", "")
        pending, why = state.take(request.session, relay_state, workspace=workspace_name, alias=alias)
        if pending is None and not identity.allow_idp_initiated:
            raise oidc.LoginError(_STATE_REASONS.get(why, _STATE_REASONS["unknown"]), code=f"state_{why or 'other'}")
        if pending is None and not _from_this_site(request):
            raise oidc.LoginError(
                "An unsolicited SAML response must come through this site's sign-in page.",
                code="cross_site",
                status=403,
            )
        result = saml.process_response(
            identity,
            request,
            saml_response=request.POST.get("SAMLResponse", ""),
            request_id=pending["request_id"] if pending else None,
        )
        if pending is None:
            pending = {"next": identity.idp_initiated_page or "", "link_user": None}
        outcome = flow.decide(identity=identity, result=result, linking_user=_linking_user(request, pending))
        return _act(request, identity, result, outcome, _safe_next(request, pending["next"]))
    except (oidc.LoginError, ValidationError) as error:
        return _failure(request, error, identity=identity, alias=alias)


def _from_this_site(request: HttpRequest) -> bool:
    """Whether a POST comes from a page of this site, by the headers browsers set and pages cannot:
    `Origin` (every current browser sends it with a POST; this site's pages keep it with
    `Referrer-Policy: same-origin`), the request's own origin or one of `CSRF_TRUSTED_ORIGINS` as
    Django's CSRF check accepts them; else `Sec-Fetch-Site`. Neither sent: refused (fails closed)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return request.headers.get("Sec-Fetch-Site") == "same-origin"
    if origin == f"{request.scheme}://{request.get_host()}" or origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    return any(
        trusted.startswith(f"{parts.scheme}://*") and is_same_domain(parts.netloc, trusted.split("://*", 1)[1])
        for trusted in settings.CSRF_TRUSTED_ORIGINS
    )


@require_http_methods(["GET", "HEAD"])
def saml_metadata(request: HttpRequest, workspace_name: str, alias: str) -> HttpResponse:
    """The service provider's metadata for this identity provider (`saml.metadata`), with an ETag:
    it changes only when the identity provider does (or the host it is asked for). `no-cache`: a
    copy may be kept, and is asked after with If-None-Match (not `never_cache`'s no-store, which
    forbids keeping one, so there would be nothing to revalidate)."""
    identity = selectors.identity_for_login(workspace_name=workspace_name, alias=alias)
    if identity is None or identity.protocol != SAML:
        raise Http404("No SAML identity provider of that name.")
    activate(identity.provider.workspace_id)
    tag = hashlib.sha256(
        f"{identity.pk}:{identity.provider.updated_at.isoformat()}:{request.get_host()}".encode()
    ).hexdigest()[:32]
    etag = f'"{tag}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(saml.metadata(identity, request), content_type="application/samlmetadata+xml")
        if "download" in request.GET:
            response["Content-Disposition"] = f'attachment; filename="{alias}-sp-metadata.xml"'
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response


def _safe_next(request: HttpRequest, value: str) -> str:
    """`value` when it is a URL of this site (no open redirect), else ""."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


@never_cache
@require_http_methods(["GET"])
def saml_sls(request: HttpRequest, workspace_name: str, alias: str) -> HttpResponse:
    """Where the provider's LogoutResponse lands after single logout: the local session ended
    before; an invalid response is recorded, and either way the browser goes to the login page."""
    identity = selectors.identity_for_login(workspace_name=workspace_name, alias=alias)
    if identity is None or identity.protocol != SAML:
        raise Http404("No SAML identity provider of that name.")
    activate(identity.provider.workspace_id)
    if not saml.logout_finished(identity, request):
        logger.warning("SAML logout response from %s refused", alias)
    return HttpResponseRedirect(reverse("signin:workspace_login", args=[workspace_name]) + "?local")
