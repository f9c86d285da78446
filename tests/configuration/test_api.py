"""`/api/workspaces/{workspaceName}/config`: export, plan and apply over HTTP, with the same
results as the command, the workspace's permissions, and references limited to what the settings
open."""

import json

import pytest
import yaml

from accounts.models import Membership
from providers.models import AuditEvent, Provider

from ..conftest import client_for
from ..factories import UserFactory
from .helpers import GITHUB_TOKEN, OKTA_SECRET, exported, workspace

pytestmark = pytest.mark.django_db


def member(ws, role: str, name: str):
    user = UserFactory(username=name)
    Membership.objects.create(workspace=ws, user=user, role=role)
    return client_for(user)


def post(client, path: str, text: str, media: str = "application/yaml"):
    return client.generic("POST", path, data=text.encode(), content_type=media)


def test_get_exports_yaml_by_default_and_json_on_request(acme):
    client = member(acme, "operator", "acme-op")
    response = client.get("/api/workspaces/acme/config")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    text = b"".join(response.streaming_content).decode()
    assert text == exported(acme)
    as_json = client.get("/api/workspaces/acme/config?format=json")
    assert as_json["Content-Type"].startswith("application/json")
    assert json.loads(b"".join(as_json.streaming_content)) == yaml.safe_load(text)
    accepted = client.get("/api/workspaces/acme/config", HTTP_ACCEPT="application/json")
    assert accepted["Content-Type"].startswith("application/json")
    for body in (text, b"".join(as_json.streaming_content).decode()):
        assert GITHUB_TOKEN not in body and OKTA_SECRET not in body
    assert AuditEvent.objects.filter(workspace=acme, action="export", object_type="configuration").exists()


def test_plan_and_apply_over_the_api(acme, monkeypatch, settings):
    client = member(acme, "operator", "acme-op")
    text = exported(acme).replace("label: Company GitHub", "label: GitHub")
    planned = post(client, "/api/workspaces/acme/config/plan", text)
    assert planned.status_code == 200, planned.content
    body = planned.json()
    assert body["exit_code"] == 2
    assert body["changes"] == [
        {
            "section": "providers",
            "key": "github-cloud",
            "action": "update",
            "unmanaged": False,
            "fields": [{"path": "label", "old": "Company GitHub", "new": "GitHub"}],
        }
    ]
    stale = post(client, "/api/workspaces/acme/config/apply?if_plan=0000", text)
    assert stale.status_code == 412
    assert Provider.objects.get(workspace=acme, provider_id="github-cloud").label == "Company GitHub"
    applied = post(client, f"/api/workspaces/acme/config/apply?if_plan={body['hash']}", text)
    assert applied.status_code == 200, applied.content
    assert applied.json()["applied"] is True
    assert Provider.objects.get(workspace=acme, provider_id="github-cloud").label == "GitHub"
    again = post(client, "/api/workspaces/acme/config/plan", json.dumps(yaml.safe_load(text)), "application/json")
    assert again.json()["exit_code"] == 0


def test_errors_answer_400_with_line_and_path(acme):
    client = member(acme, "operator", "acme-op")
    text = exported(acme).replace("type: github", "type: githubb")
    response = post(client, "/api/workspaces/acme/config/plan", text)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["path"] == "providers[0].type"
    assert error["line"] == text.splitlines().index("  type: githubb") + 1
    assert error["message"].startswith("Not a valid choice")


def test_viewers_export_but_neither_plan_nor_apply(acme):
    """A plan resolves the file's secret references: it needs the permissions an apply needs."""
    client = member(acme, "viewer", "acme-viewer")
    text = exported(acme)
    assert client.get("/api/workspaces/acme/config").status_code == 200
    assert post(client, "/api/workspaces/acme/config/plan", text).status_code == 403
    assert post(client, "/api/workspaces/acme/config/apply", text).status_code == 403


def test_another_workspace_answers_404(acme):
    workspace("globex")
    client = member(acme, "operator", "acme-op")
    assert client.get("/api/workspaces/globex/config").status_code == 404
    assert post(client, "/api/workspaces/globex/config/apply", "version: 1\n").status_code == 404


def test_anonymous_is_refused(acme):
    assert client_for(None).get("/api/workspaces/acme/config").status_code in (401, 403)


def test_the_api_takes_only_the_workspaces_own_references(acme, monkeypatch, settings, tmp_path):
    globex = workspace("globex")
    client = member(acme, "operator", "acme-op")
    Membership.objects.create(workspace=globex, user=Membership.objects.get(workspace=acme).user, role="operator")
    monkeypatch.setenv("DJANGO_SECRET", "s3cret")
    monkeypatch.setenv("REGISTRY_SECRET_GLOBEX_OKTA", "globex-secret")
    monkeypatch.setenv("REGISTRY_SECRET_ACME_OKTA", "new-okta-secret")
    base = exported(acme)
    okta_secret = "    client_id: 0oa1\n    client_secret:\n      secretRef: {ref}\n"

    def with_ref(ref: str) -> str:
        return base.replace("    client_id: 0oa1\n", okta_secret.format(ref=ref))

    def message(ref: str) -> str:
        response = post(client, "/api/workspaces/acme/config/plan", with_ref(ref))
        assert response.status_code == 400
        return response.json()["errors"][0]["message"]

    assert "start with “REGISTRY_SECRET_ACME_”" in message("{env: DJANGO_SECRET}")
    assert "start with “REGISTRY_SECRET_ACME_”" in message("{env: REGISTRY_SECRET_GLOBEX_OKTA}")
    (tmp_path / "acme").mkdir()
    (tmp_path / "globex").mkdir()
    (tmp_path / "acme" / "okta.txt").write_text("from-a-file\n")
    (tmp_path / "globex" / "okta.txt").write_text("globex-file\n")
    assert "CONFIG_API_SECRET_DIR" in message(f"{{file: {tmp_path / 'acme' / 'okta.txt'}}}")
    settings.CONFIG_API_SECRET_DIR = str(tmp_path)
    assert post(client, "/api/workspaces/acme/config/plan", with_ref("{file: okta.txt}")).status_code == 200
    for outside in ("../globex/okta.txt", str(tmp_path / "globex" / "okta.txt"), "../../etc/passwd"):
        assert "this workspace's directory" in message(f"{{file: {outside}}}")
    planned = post(client, "/api/workspaces/acme/config/plan", with_ref("{env: REGISTRY_SECRET_ACME_OKTA}"))
    assert planned.status_code == 200
    [change] = planned.json()["changes"]
    [field] = change["fields"]
    assert field["path"] == "oidc_config.client_secret" and field["secret"] is True
    assert "new-okta-secret" not in planned.content.decode() and OKTA_SECRET not in planned.content.decode()
    settings.CONFIG_API_SECRET_ENV_PREFIX = ""
    assert "not accepted over the API" in message("{env: REGISTRY_SECRET_ACME_OKTA}")


def test_an_api_export_names_the_variables_the_api_accepts(acme):
    client = member(acme, "operator", "acme-op")
    text = b"".join(client.get("/api/workspaces/acme/config?secret_refs=env").streaming_content).decode()
    assert "env: REGISTRY_SECRET_ACME_PROVIDER_GITHUB_CLOUD_ACCESSTOKEN" in text
    assert "env: REGISTRY_SECRET_ACME_IDP_OKTA_CLIENT_SECRET" in text


def test_a_body_that_is_not_a_file_is_415(acme):
    client = member(acme, "operator", "acme-op")
    response = post(client, "/api/workspaces/acme/config/plan", "a=b", "application/x-www-form-urlencoded")
    assert response.status_code == 415, response.content


def test_an_empty_body_is_a_400(acme):
    client = member(acme, "operator", "acme-op")
    response = post(client, "/api/workspaces/acme/config/plan", "")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "The file is empty."
