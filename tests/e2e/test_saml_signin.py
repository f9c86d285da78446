"""Signing in through a SAML 2.0 identity provider in the browser: the login page's button, the
test identity provider's own sign-in page (pysaml2 on 127.0.0.1, `tests/idp/saml_provider.py`),
its form posting the Response to the ACS, the ACS's page posting it on to the finish, and back
signed in. The live server is `localhost`, the identity provider `127.0.0.1`: two sites, so the
provider's POST to the ACS is cross-site and carries no session cookie, as in production.

Also: a group mapper that opens the admin, a certificate rollover of the identity provider done
in the admin with no failed login, the admin's SAML box with the SP metadata and the SP key
buttons (the identity provider reads the metadata and requires signed requests), a cancelled
sign-in, and single logout."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.signals import request_started
from django.utils import timezone

from accounts.roles import OPERATORS
from providers.identity.services import sp_keys
from providers.models import AuditEvent, FederatedIdentity, IdentityProvider, IdentityProviderDomain
from tests.e2e.conftest import PASSWORD, sign_in
from tests.factories import IdentityProviderFactory, OperatorFactory, UserFactory
from tests.idp.saml_provider import NAMEID_PERSISTENT

User = get_user_model()
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ANA = {"mail": "ana@acme.test", "givenName": "Ana", "sn": "Lima", "uid": "ana.lima", "groups": ["staff", "dev"]}
BAD_REQUEST = "Failed to load resource: the server responded with a status of 400 (Bad Request)"
CERTIFICATE = re.compile(r"<ds:X509Certificate>([^<]+)</ds:X509Certificate>")


@pytest.fixture
def idp(fresh_saml_provider):
    fresh_saml_provider.set_user("ana-persistent-id", attributes=ANA, name_id_format=NAMEID_PERSISTENT)
    return fresh_saml_provider


@pytest.fixture
def saml_identity(idp, live_server):
    """`saml_identity(alias, name, **fields)`: a SAML identity provider at the test identity
    provider, named `name` on the login page, with the live server's entity ID (the metadata URL)
    and ACS URL registered there."""

    def create(alias: str = "corp", name: str = "ACME SAML", **fields) -> IdentityProvider:
        values = {
            "alias": alias,
            "display_name": name,
            "entity_id": idp.entity_id,
            "single_sign_on_service_url": idp.sso_url,
            "signing_certificate": idp.certificate_pem(0),
            "name_id_policy_format": NAMEID_PERSISTENT,
            "update_profile_first_login_mode": "off",
            **fields,
        }
        made = IdentityProviderFactory(saml=True, **values)
        base = f"{live_server.url}/signin/default/{alias}/saml"
        idp.register_sp(entity_id=f"{base}/metadata", acs_url=f"{base}/acs", sls_url=f"{base}/sls")
        return made

    return create


@pytest.fixture
def arrivals():
    """(path, whether the session cookie came along) of each request the live server receives."""
    seen: list[tuple[str, bool]] = []

    def note(sender, environ, **kwargs):
        seen.append((environ.get("PATH_INFO", ""), "sessionid=" in environ.get("HTTP_COOKIE", "")))

    request_started.connect(note, weak=False)
    yield seen
    request_started.disconnect(note)


def at_identity_provider(page, idp, *, button: str = "Sign in") -> None:
    """The identity provider's sign-in page (reached by redirect or by POST): press the button."""
    page.wait_for_url(re.compile(re.escape(idp.sso_url) + r"(\?.*)?$"))
    assert page.inner_text("h1") == "Sign in"
    assert page.get_by_label("Account").input_value() == "ana-persistent-id"
    page.get_by_role("button", name=button).click()


def back_at(page, live_server, path: str) -> None:
    page.wait_for_url(f"{live_server.url}{path}")


def sign_in_with(page, idp, name: str = "ACME SAML") -> None:
    page.goto("/login/")
    page.get_by_role("link", name=f"Sign in with {name}").click()
    at_identity_provider(page, idp)


def log_out(page) -> None:
    page.goto("/logout/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")


def linked_rows(page) -> list[str]:
    return [row.strip() for row in page.locator("table.linked tbody tr").all_inner_texts()]


def failed_sign_ins() -> list[str]:
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.SIGNIN, ok=False).values_list("detail", flat=True))


@pytest.mark.parametrize("post_binding", [True, False], ids=["request-by-post", "request-by-redirect"])
def test_sign_in_with_the_button_at_the_identity_providers_page_and_back_signed_in(
    page, live_server, idp, saml_identity, arrivals, post_binding
):
    saml_identity(post_binding_authn_request=post_binding)

    sign_in_with(page, idp)
    back_at(page, live_server, "/account/linked/")

    assert page.inner_text("h1") == "Linked accounts"
    assert "Signed in as ana.lima." in page.inner_text("main")
    [row] = linked_rows(page)
    assert row.startswith("ACME SAML") and "ana.lima" in row
    user = User.objects.get(username="ana.lima")
    assert (user.email, user.first_name, user.last_name) == ("ana@acme.test", "Ana", "Lima")
    assert not user.is_staff and not user.has_usable_password()
    assert FederatedIdentity.objects.get().subject == "ana-persistent-id"
    [request] = idp.requests
    assert request.force_authn in (None, "false") and request.signature is None
    # The provider's POST to the ACS is cross-site: no session cookie (SameSite=Lax). The ACS's
    # page posts it on from this site, and the finish has the session the login started in.
    acs = [cookie for path, cookie in arrivals if path == "/signin/default/corp/saml/acs"]
    finish = [cookie for path, cookie in arrivals if path == "/signin/default/corp/saml/finish"]
    assert acs == [False] and finish == [True]
    assert failed_sign_ins() == []


def test_a_group_mapper_makes_an_operator_whom_the_admin_lets_in(page, live_server, idp, saml_identity):
    identity = saml_identity()
    identity.mappers.create(
        name="staff are operators",
        mapper_type="saml-advanced-group-idp-mapper",
        config={"attribute_name": "groups", "attribute_value": "staff", "group": OPERATORS},
    )

    sign_in_with(page, idp)
    back_at(page, live_server, "/admin/")

    assert page.locator("#user-tools").count() == 1 and page.locator("#login-form").count() == 0
    assert "welcome, ana." in page.inner_text("#user-tools").lower()
    user = User.objects.get(username="ana.lima")
    assert user.is_staff and user.groups.filter(name=OPERATORS).exists()


def test_a_cancelled_sign_in_is_a_page_with_its_reason_and_reference(page, live_server, console, idp, saml_identity):
    saml_identity()
    console.allow(BAD_REQUEST)

    page.goto("/login/")
    page.get_by_role("link", name="Sign in with ACME SAML").click()
    at_identity_provider(page, idp, button="Cancel")
    back_at(page, live_server, "/signin/default/corp/saml/finish")

    assert page.inner_text("h1") == "Sign-in failed"
    assert "The SAML response was refused" in page.get_by_role("alert").inner_text()
    reference = page.inner_text("#reference")
    [detail] = failed_sign_ins()
    assert detail.startswith(f"[{reference}] ")
    assert User.objects.count() == 0


def set_signing_certificates(page, identity: IdentityProvider, pem: str) -> None:
    """An operator replaces the trusted signing certificate(s) on the identity provider's admin page."""
    page.goto(f"/admin/providers/identityprovider/{identity.pk}/change/")
    page.fill("#id_signing_certificate", pem)
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")


def test_certificate_rollover_in_the_admin_with_no_failed_login(browser, page, live_server, idp, saml_identity):
    identity = saml_identity()
    OperatorFactory(username="idp-admin")
    admin_context = browser.new_context(base_url=live_server.url)
    admin = admin_context.new_page()
    sign_in(admin, "idp-admin")
    old, new = idp.certificate_pem(0), idp.certificate_pem(1)

    for step in ("old key", "both trusted", "provider switched", "old removed"):
        if step == "both trusted":
            set_signing_certificates(admin, identity, old + "\n" + new)  # two PEM blocks
        if step == "provider switched":
            idp.use_key(1, publish_both=True)
        if step == "old removed":
            set_signing_certificates(admin, identity, new)
        sign_in_with(page, idp)
        back_at(page, live_server, "/account/linked/")
        assert "Signed in as ana.lima." in page.inner_text("main"), step
        log_out(page)

    admin_context.close()
    identity.refresh_from_db()
    assert identity.signing_certificate.count("BEGIN CERTIFICATE") == 1
    assert failed_sign_ins() == []
    assert list(FederatedIdentity.objects.values_list("user__username", flat=True)) == ["ana.lima"]


def certificates_in(metadata: str) -> list[str]:
    return [value.replace("\n", "").strip() for value in CERTIFICATE.findall(metadata)]


def bare(pem: str) -> str:
    return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))


def test_the_admin_shows_what_to_give_the_provider_and_makes_the_sp_key(browser, page, live_server, idp, saml_identity):
    identity = saml_identity()
    OperatorFactory(username="idp-admin")
    metadata_url = f"{live_server.url}/signin/default/corp/saml/metadata"
    sign_in(page, "idp-admin")

    page.goto(f"/admin/providers/identityprovider/{identity.pk}/change/")
    box = page.locator("#saml-sp")
    assert box.locator("h2").inner_text() == "Sign-in: what to give the provider"
    shown = {
        row.locator("label").inner_text(): row.locator(".readonly").inner_text()
        for row in box.locator(".form-row").all()
    }
    assert shown["Metadata URL:"] == f"{metadata_url} (download)"
    assert shown["Entity ID:"] == metadata_url  # no sp_entity_id set: the metadata URL
    assert shown["ACS URL (HTTP-POST):"] == f"{live_server.url}/signin/default/corp/saml/acs"
    assert shown["SP certificate:"].startswith("none yet")
    download = page.request.get(box.get_by_role("link", name="download").get_attribute("href"))
    assert download.ok and "attachment" in download.headers["content-disposition"]
    assert certificates_in(download.text()) == []
    before = download.headers["etag"]

    page.get_by_role("button", name="Generate the SP key").click()
    page.wait_for_selector(".messagelist li")
    assert "The SP key is generated and in the metadata." in page.inner_text(".messagelist")
    assert re.search(r"SP certificate:\s+expires \d{4}-\d{2}-\d{2}, SHA-256", page.locator("#saml-sp").inner_text())
    identity.refresh_from_db()
    answer = page.request.get(metadata_url, headers={"If-None-Match": before})
    assert answer.status == 200 and answer.headers["etag"] != before  # a new document, a new ETag
    metadata = answer.text()
    assert bare(identity.sp_certificate) in certificates_in(metadata)
    assert page.request.get(metadata_url, headers={"If-None-Match": answer.headers["etag"]}).status == 304

    # The identity provider reads that metadata and from now on wants signed requests.
    identity.want_authn_requests_signed = True
    identity.save(update_fields=["want_authn_requests_signed"])
    idp.register_sp(metadata)
    idp.require_signed_requests()
    user_context = browser.new_context(base_url=live_server.url)
    user = user_context.new_page()
    sign_in_with(user, idp)
    back_at(user, live_server, "/account/linked/")
    assert idp.requests[-1].signature is not None

    # Rolling the SP key: the next one is published, the identity provider reads the metadata
    # again, then the next one signs.
    page.get_by_role("button", name="Publish the next SP key").click()
    page.wait_for_selector(".messagelist li")
    assert "next key published" in page.locator("#saml-sp").inner_text()
    identity.refresh_from_db()
    metadata = page.request.get(metadata_url).text()
    assert {bare(identity.sp_certificate), bare(identity.sp_next_certificate)} <= set(certificates_in(metadata))
    idp.register_sp(metadata)
    page.get_by_role("button", name="Sign with the next SP key").click()
    page.wait_for_selector(".messagelist li:has-text('The next SP key signs from now on')")
    log_out(user)
    sign_in_with(user, idp)
    back_at(user, live_server, "/account/linked/")
    user_context.close()
    assert failed_sign_ins() == []


def test_log_out_ends_the_session_at_the_identity_provider_too(page, live_server, idp, saml_identity):
    saml_identity(logout_at_provider=True, single_logout_service_url=idp.slo_url)

    sign_in_with(page, idp)
    back_at(page, live_server, "/account/linked/")
    page.get_by_role("button", name="Log out").click()
    back_at(page, live_server, "/login/default/?local")

    [logout] = idp.logout_requests
    assert logout.name_id.text == "ana-persistent-id"
    page.goto("/account/linked/")
    page.wait_for_url("**/login/?next=/account/linked/")


@pytest.mark.parametrize("post_binding", [True, False], ids=["request-by-post", "request-by-redirect"])
def test_a_signed_in_user_links_the_saml_provider(page, live_server, idp, saml_identity, post_binding):
    """The "Link …" form posts here; by redirect, the browser then goes on to the identity
    provider, which the page's form-action must allow."""
    UserFactory(username="ana", email="ana@acme.test")  # staff: the admin login page lets it in
    saml_identity(post_binding_authn_request=post_binding)
    page.goto("/admin/login/?next=/account/linked/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    back_at(page, live_server, "/account/linked/")
    assert linked_rows(page) == []

    page.get_by_role("button", name="Link ACME SAML").click()
    at_identity_provider(page, idp)
    back_at(page, live_server, "/admin/")  # a staff user's sign-in lands in the admin

    page.goto("/account/linked/")
    [row] = linked_rows(page)
    assert row.startswith("ACME SAML") and "ana.lima" in row
    assert FederatedIdentity.objects.get().user.username == "ana"
    assert User.objects.count() == 1


def test_home_realm_discovery_sends_a_work_email_to_the_saml_provider(page, live_server, idp, saml_identity):
    identity = saml_identity(post_binding_authn_request=False)
    IdentityProviderDomain.objects.create(identity=identity, domain="acme.test", verified_at=timezone.now())

    page.goto("/login/")
    page.get_by_label("Work email").fill("ana@acme.test")
    page.get_by_role("button", name="Continue").click()
    at_identity_provider(page, idp)
    back_at(page, live_server, "/account/linked/")
    assert linked_rows(page)[0].startswith("ACME SAML")


def test_the_admin_login_pages_button_returns_where_the_operator_was_going(page, live_server, idp, saml_identity):
    saml_identity().mappers.create(
        name="staff are operators",
        mapper_type="saml-advanced-group-idp-mapper",
        config={"attribute_name": "groups", "attribute_value": "staff", "group": OPERATORS},
    )

    page.goto("/admin/providers/identityprovider/")
    page.wait_for_url(re.compile(r"/admin/login/\?next="))
    page.locator("#signin-providers").get_by_role("link", name="Sign in with ACME SAML").click()
    at_identity_provider(page, idp)
    back_at(page, live_server, "/admin/providers/identityprovider/")
    assert "corp" in page.inner_text("#result_list")


def test_an_idp_initiated_sign_in_lands_on_the_configured_page(page, live_server, idp, saml_identity):
    """A sign-in the identity provider starts: its form posts an unsolicited Response to the ACS
    from a page of its own (here a page with no origin of this site)."""
    saml_identity(allow_idp_initiated=True, idp_initiated_page="/account/linked/")
    acs = f"{live_server.url}/signin/default/corp/saml/acs"
    fields = idp.unsolicited_response(acs)
    inputs = "".join(f'<input type="hidden" name="{name}" value="{value}">' for name, value in fields.items())
    page.set_content(f'<form method="post" action="{acs}">{inputs}<button type="submit">Go</button></form>')

    page.get_by_role("button", name="Go").click()
    back_at(page, live_server, "/account/linked/")
    [row] = linked_rows(page)
    assert row.startswith("ACME SAML")
    assert idp.requests == []  # no AuthnRequest: the provider started it


def test_signed_requests_by_redirect_and_a_signed_logout(page, live_server, idp, saml_identity):
    """With the SP key, the AuthnRequest by redirect and the LogoutRequest carry a signature
    (SigAlg, Signature), which the identity provider checks with the certificate it read from the
    SP metadata."""
    identity = saml_identity(
        post_binding_authn_request=False,
        want_authn_requests_signed=True,
        logout_at_provider=True,
        single_logout_service_url=idp.slo_url,
    )
    sp_keys.sp_key_generate(identity=identity, actor=None)
    metadata = page.request.get(f"{live_server.url}/signin/default/corp/saml/metadata")
    assert "/saml/sls" in metadata.text()
    idp.register_sp(metadata.text())
    idp.require_signed_requests()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    sign_in_with(page, idp)
    back_at(page, live_server, "/account/linked/")
    [authn] = [url for url in requested if url.startswith(idp.sso_url + "?")]
    assert "&Signature=" in authn and "SigAlg=" in authn

    page.get_by_role("button", name="Log out").click()
    back_at(page, live_server, "/login/default/?local")
    [logout] = [url for url in requested if url.startswith(idp.slo_url + "?")]
    assert "&Signature=" in logout
    assert [request.name_id.text for request in idp.logout_requests] == ["ana-persistent-id"]
    assert failed_sign_ins() == []
