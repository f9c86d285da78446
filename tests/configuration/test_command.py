"""`manage.py config`: what it prints and its exit codes (0 no changes, 1 error, 2 changes,
3 unmanaged deletions refused)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from providers.models import AuditEvent, Project, Provider

from .helpers import GITHUB_TOKEN, OKTA_SECRET, exported

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("config", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_export_writes_the_file(acme, tmp_path):
    target = tmp_path / "acme.yaml"
    code, _, err = run("export", "--workspace", "acme", "--output", str(target))
    assert code == 0
    assert target.read_text() == exported(acme)
    assert f"Wrote {target}." in err
    code, out, _ = run("export", "--workspace", "acme", "--format", "json")
    assert out == exported(acme, fmt="json")
    assert GITHUB_TOKEN not in out and OKTA_SECRET not in out
    exports = AuditEvent.objects.filter(workspace=acme, action="export", object_type="configuration")
    assert [event.source for event in exports] == ["cli", "cli"]


def test_plan_exit_codes(acme, tmp_path):
    path = tmp_path / "acme.yaml"
    path.write_text(exported(acme))
    code, out, _ = run("plan", "--workspace", "acme", str(path))
    assert code == 0
    assert "Plan: 0 to create, 0 to update, 0 to delete, 5 unchanged." in out
    path.write_text(exported(acme).replace("name: Payments API", "name: Payments"))
    code, out, _ = run("plan", "--workspace", "acme", str(path))
    assert code == 2
    assert out.splitlines()[:2] == ["~ update projects payments-api", '    name: "Payments API" → "Payments"']
    text = exported(acme).replace("type: github", "type: nope")
    path.write_text(text)
    code, _, err = run("plan", "--workspace", "acme", str(path))
    assert code == 1
    line = text.splitlines().index("  type: nope") + 1
    assert f"{path}:{line}: providers[0].type: Not a valid choice" in err
    assert err.strip().endswith("1 error: nothing was written.")
    path.write_text("version: 1\nprojects:\n- id: data-pipeline\n  state: absent\n")
    code, out, err = run("plan", "--workspace", "acme", str(path))
    assert code == 3
    assert "- delete projects data-pipeline (not managed by this file)" in out
    assert "--prune-unmanaged" in err


def test_apply_with_the_reviewed_plan_only(acme, tmp_path):
    path = tmp_path / "acme.yaml"
    path.write_text(exported(acme).replace("name: Payments API", "name: Payments"))
    _, out, _ = run("plan", "--workspace", "acme", str(path))
    plan_hash = out.strip().splitlines()[-1].removeprefix("Plan hash: ")
    code, _, err = run("apply", "--workspace", "acme", str(path), "--if-plan", "0" * 16)
    assert code == 1
    assert "plan again and review it" in err
    assert Project.objects.get(workspace=acme, project_id="payments-api").name == "Payments API"
    code, out, _ = run("apply", "--workspace", "acme", str(path), "--if-plan", plan_hash)
    assert code == 0
    assert out.strip().endswith("Applied: 0 created, 1 updated, 0 deleted, 4 unchanged.")
    assert Project.objects.get(workspace=acme, project_id="payments-api").name == "Payments"
    code, out, _ = run("apply", "--workspace", "acme", str(path))
    assert (code, out.strip()) == (0, "Applied: 0 created, 0 updated, 0 deleted, 5 unchanged.")


def test_apply_refuses_unmanaged_deletions_unless_pruning(acme, tmp_path):
    path = tmp_path / "absent.yaml"
    path.write_text(
        "version: 1\nproviders:\n- id: github-cloud\n  state: absent\nprojects:\n"
        "- id: payments-api\n  name: Payments API\n"
    )
    code, _, _ = run("apply", "--workspace", "acme", str(path))
    assert code == 3
    assert Provider.objects.filter(workspace=acme, provider_id="github-cloud").exists()
    code, _, _ = run("apply", "--workspace", "acme", str(path), "--prune-unmanaged")
    assert code == 0
    assert not Provider.objects.filter(workspace=acme, provider_id="github-cloud").exists()


def test_an_unknown_workspace_or_file(acme, tmp_path):
    with pytest.raises(CommandError, match="No workspace is named “nowhere”"):
        call_command("config", "export", "--workspace", "nowhere")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("config", "plan", str(tmp_path / "missing.yaml"))


def test_a_terminal_gets_a_bar_per_kind():
    from providers.management.commands.config import Bars

    stream = StringIO()
    bars = Bars(stream)
    bars.advance("providers", 500)
    bars.advance("providers", 3)
    bars.advance("projects", 2)
    bars.close()
    text = stream.getvalue()
    assert "git providers: 503 objects" in text
    assert "projects: 2 objects" in text


def test_the_admin_says_which_file_manages_an_object(acme, tmp_path, admin_client):
    path = tmp_path / "acme.yaml"
    path.write_text(exported(acme).replace("workspace: acme\n", "workspace: acme\nmanagedBy: platform-prod\n"))
    assert run("apply", "--workspace", "acme", str(path))[0] == 0
    provider = Provider.objects.get(workspace=acme, provider_id="github-cloud")
    project = Project.objects.get(workspace=acme, project_id="payments-api")
    admin_client.post("/admin/workspace/", {"workspace": str(acme.pk), "next": "/admin/"})
    for url in (f"/admin/providers/provider/{provider.pk}/change/", f"/admin/providers/project/{project.pk}/change/"):
        page = admin_client.get(url)
        assert page.status_code == 200
        assert "“platform-prod”: its next apply undoes changes made here" in page.content.decode()
