"""The canary proof for configuration as code: secrets stored, and secrets a file references,
never show in an export (YAML, JSON, with references), a plan or an apply's answer (command line
and API, errors included), the audit log, the admin history, the logs or the raw database."""

import contextlib
from io import StringIO

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command

from accounts.models import Membership
from providers.models import AuditEvent
from tests.canary.database import dump_leaks
from tests.canary.logs import assert_logs_hold_none_of, capture_all_logs, with_sql_logged
from tests.canary.search import assert_no_leak, new_canary, response_text

from ..conftest import client_for
from ..factories import UserFactory
from .helpers import GITHUB_TOKEN, OKTA_SECRET, exported, populate, workspace

pytestmark = pytest.mark.django_db


def command(*args) -> str:
    out, err = StringIO(), StringIO()
    with contextlib.suppress(SystemExit):  # the exit code is the command tests' business
        call_command("config", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_no_surface_of_configuration_as_code_shows_a_secret(caplog, tmp_path, monkeypatch):
    capture_all_logs(caplog)
    acme = workspace("acme")
    populate(acme)
    user = UserFactory(username="acme-op")
    Membership.objects.create(workspace=acme, user=user, role="operator")
    api = client_for(user)
    new_token, new_okta = new_canary("config-token"), new_canary("config-okta")
    monkeypatch.setenv("REGISTRY_SECRET_ACME_TOKEN", new_token)
    monkeypatch.setenv("REGISTRY_SECRET_ACME_OKTA", new_okta)
    secrets = [GITHUB_TOKEN, OKTA_SECRET, new_token, new_okta]
    changed = (
        exported(acme, secret_refs="env")
        .replace("PROVIDER_GITHUB_CLOUD_ACCESSTOKEN", "REGISTRY_SECRET_ACME_TOKEN")
        .replace("IDP_OKTA_CLIENT_SECRET", "REGISTRY_SECRET_ACME_OKTA")
    )
    broken = changed.replace("type: github", "type: nope")
    path = tmp_path / "acme.yaml"
    path.write_text(changed)
    surfaces: list[tuple[str, str]] = []

    def flows():
        for fmt in ("yaml", "json"):
            for refs in ("", "env"):
                surfaces.append((f"export {fmt} {refs}", exported(acme, fmt=fmt, secret_refs=refs or None)))
                response = api.get(f"/api/workspaces/acme/config?format={fmt}&secret_refs={refs}")
                surfaces.append((f"GET config {fmt} {refs}", response_text(response)))
        surfaces.append(("plan command", command("plan", "--workspace", "acme", str(path))))
        for name, text in (("plan", changed), ("plan broken", broken)):
            response = api.generic("POST", "/api/workspaces/acme/config/plan", text.encode(), "application/yaml")
            surfaces.append((f"POST {name}", response_text(response)))
        response = api.generic("POST", "/api/workspaces/acme/config/apply", broken.encode(), "application/yaml")
        surfaces.append(("POST apply broken", response_text(response)))
        response = api.generic("POST", "/api/workspaces/acme/config/apply", changed.encode(), "application/yaml")
        assert response.status_code == 200, response.content
        surfaces.append(("POST apply", response_text(response)))
        surfaces.append(("apply again (command)", command("apply", "--workspace", "acme", str(path))))
        surfaces.append(("export after", exported(acme)))

    with_sql_logged(flows)
    assert len(surfaces) >= 14
    assert "fingerprint" in next(text for label, text in surfaces if label == "plan command")
    assert_no_leak(surfaces, secrets)
    audit = [(f"audit {e.pk}", f"{e.fields} {e.detail} {e.object_repr}") for e in AuditEvent.objects.all()]
    history = [(f"history {e.pk}", e.change_message) for e in LogEntry.objects.all()]
    assert_no_leak(audit + history + [("placeholder", "-")], secrets)
    assert_logs_hold_none_of(caplog, secrets, "providers_credential")
    assert dump_leaks(secrets) == []
