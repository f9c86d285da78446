"""`manage.py refresh_idp_metadata`, for cron: every SAML identity provider with a metadata URL in every
workspace (or the one `--alias`/`--workspace` name), one line each and a summary, exit status 1 when
any refresh failed while the others are refreshed all the same."""

import io
import socket

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Workspace
from providers.identity.discovery import certificate_info
from providers.models import AuditEvent, IdentityProvider
from tests.factories import IdentityProviderFactory

pytestmark = pytest.mark.django_db


def fingerprint(certificate_pem: str) -> str:
    return certificate_info(certificate_pem).fingerprint_sha256


def saml_identity(idp, *, alias: str = "corp-saml", workspace: Workspace | None = None, **overrides):
    fields = {
        "alias": alias,
        "entity_id": idp.entity_id,
        "metadata_url": idp.metadata_url,
        "single_sign_on_service_url": idp.sso_url,
        "single_logout_service_url": idp.slo_url,
        "signing_certificate": idp.certificate_pem(0),
        **overrides,
    }
    if workspace is not None:
        fields["provider__workspace"] = workspace
    return IdentityProviderFactory(saml=True, **fields)


def run(*args: str, stderr: io.StringIO | None = None) -> tuple[str, int]:
    """The command's output and exit status, as cron sees them."""
    out = io.StringIO()
    try:
        call_command("refresh_idp_metadata", *args, stdout=out, stderr=stderr or io.StringIO())
    except CommandError as exc:
        return out.getvalue() + f"CommandError: {exc}\n", exc.returncode
    return out.getvalue(), 0


def unreachable_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/metadata"


@pytest.fixture
def acme(db) -> Workspace:
    return Workspace.objects.create(name="acme", display_name="ACME")


def test_every_workspace_is_refreshed_one_line_each_and_a_failure_exits_1(fresh_saml_provider, acme):
    idp = fresh_saml_provider
    saml_identity(idp)  # the default workspace
    saml_identity(idp, workspace=acme)
    saml_identity(idp, alias="broken", workspace=acme, metadata_url=unreachable_url())
    saml_identity(idp, alias="typed-by-hand", metadata_url="")  # no metadata URL: not refreshed
    IdentityProviderFactory(alias="oidc")  # OIDC: no metadata
    idp.publish_both_keys()
    added = fingerprint(idp.certificate_pem(1))

    output, status = run()

    assert status == 1
    assert output.splitlines() == [
        "acme/broken: failed: 127.0.0.1 refused the connection.",
        f"acme/corp-saml: 1 certificate added (added {added})",
        f"default/corp-saml: 1 certificate added (added {added})",
        "3 identity providers: 2 changed, 0 unchanged, 1 failed.",
        "CommandError: 1 of 3 metadata refreshes failed (see above).",
    ]
    refreshed = IdentityProvider.objects.filter(provider__provider_id="corp-saml")
    assert [identity.signing_certificate.count("BEGIN CERTIFICATE") for identity in refreshed] == [2, 2]
    broken = IdentityProvider.objects.get(provider__provider_id="broken")
    assert broken.signing_certificate == idp.certificate_pem(0)
    events = AuditEvent.objects.filter(action="update").order_by("workspace__name")
    assert [(event.workspace.name, event.source, event.actor) for event in events] == [
        ("acme", "cli", None),
        ("default", "cli", None),
    ]


def test_a_second_run_finds_nothing_to_change_and_exits_0(fresh_saml_provider):
    idp = fresh_saml_provider
    saml_identity(idp)
    idp.publish_both_keys()
    run()

    output, status = run()

    assert status == 0
    assert output.splitlines() == [
        "default/corp-saml: unchanged",
        "1 identity provider: 0 changed, 1 unchanged, 0 failed.",
    ]


def test_certificates_no_longer_listed_are_kept_unless_remove_missing(fresh_saml_provider):
    idp = fresh_saml_provider
    identity = saml_identity(idp, signing_certificate=idp.certificate_pem(0) + idp.certificate_pem(1))
    idp.use_key(1)
    old = fingerprint(idp.certificate_pem(0))

    kept, status = run()
    assert status == 0
    assert kept.splitlines()[0] == (
        f"default/corp-saml: 1 certificate no longer in the metadata, kept (kept {old}; --remove-missing removes them)"
    )
    identity.refresh_from_db()
    assert identity.signing_certificate.count("BEGIN CERTIFICATE") == 2

    removed, status = run("--remove-missing")
    assert status == 0
    assert removed.splitlines() == [
        f"default/corp-saml: 1 certificate no longer in the metadata, removed (removed {old})",
        "1 identity provider: 1 changed, 0 unchanged, 0 failed.",
    ]
    identity.refresh_from_db()
    assert identity.signing_certificate.strip() == idp.certificate_pem(1).strip()


def test_alias_and_workspace_choose_one(fresh_saml_provider, acme):
    idp = fresh_saml_provider
    saml_identity(idp)
    saml_identity(idp, workspace=acme)
    idp.publish_both_keys()

    output, status = run("--alias", "corp-saml", "--workspace", "acme")

    assert status == 0
    assert output.splitlines()[0].startswith("acme/corp-saml: 1 certificate added")
    assert output.splitlines()[1] == "1 identity provider: 1 changed, 0 unchanged, 0 failed."
    default = IdentityProvider.objects.get(provider__provider_id="corp-saml", provider__workspace__name="default")
    assert default.signing_certificate.count("BEGIN CERTIFICATE") == 1


def test_an_alias_in_several_workspaces_needs_the_workspace(fresh_saml_provider, acme):
    saml_identity(fresh_saml_provider)
    saml_identity(fresh_saml_provider, workspace=acme)

    output, status = run("--alias", "corp-saml")

    assert status == 1
    assert output == (
        "CommandError: The alias “corp-saml” is in several workspaces (acme, default): name one with --workspace.\n"
    )


@pytest.mark.parametrize(
    "args,message",
    [
        (["--alias", "nobody"], "No SAML identity provider has the alias “nobody”."),
        (["--alias", "oidc"], "No SAML identity provider has the alias “oidc”."),
        (["--alias", "corp-saml", "--workspace", "acme"], "No SAML identity provider has the alias “corp-saml” in "),
        (["--workspace", "nowhere"], "No workspace is named “nowhere”."),
    ],
)
def test_unknown_names_are_refused(fresh_saml_provider, acme, args, message):
    saml_identity(fresh_saml_provider)
    IdentityProviderFactory(alias="oidc")

    output, status = run(*args)

    assert status == 1
    assert output.startswith(f"CommandError: {message}")


def test_an_alias_without_a_metadata_url_says_why(fresh_saml_provider):
    saml_identity(fresh_saml_provider, metadata_url="")

    output, status = run("--alias", "corp-saml")

    assert status == 1
    assert output.splitlines()[0] == (
        "default/corp-saml: failed: No metadata URL is set: set the URL the provider publishes its metadata at."
    )


def test_nothing_to_refresh(db):
    output, status = run()

    assert (output, status) == ("No SAML identity provider has a metadata URL: nothing to refresh.\n", 0)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_many_identity_providers_show_a_progress_bar_on_a_terminal(fresh_saml_provider):
    for number in range(10):
        saml_identity(fresh_saml_provider, alias=f"saml-{number}")
    err = Terminal()

    output, status = run(stderr=err)

    assert status == 0
    assert len(output.splitlines()) == 11
    progress = err.getvalue()
    assert "\r[....................] 0/10 identity providers" in progress
    assert "\r[##########..........] 5/10 identity providers" in progress
    assert "\r[####################] 10/10 identity providers" in progress
    assert "\x1b[" not in progress  # not styled as an error


def test_a_few_or_off_a_terminal_show_no_progress_bar(fresh_saml_provider):
    for number in range(10):
        saml_identity(fresh_saml_provider, alias=f"saml-{number}")
    err = io.StringIO()

    run(stderr=err)

    assert err.getvalue() == ""
