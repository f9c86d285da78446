"""The management commands as an operator runs them (`python manage.py …` in a process of its own,
outside the tests' own unscoped context): commands act on every workspace, and `seed_demo` fills
each workspace with its own rows."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, database: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_migrate_seed_and_report_run_from_the_command_line(tmp_path):
    database = tmp_path / "db.sqlite3"

    steps = [manage("migrate", "--noinput", database=database)]
    steps += [manage("seed_demo", database=database), manage("seed_demo", database=database)]
    steps.append(manage("credentials_expiring", "--days", "30", database=database))
    steps.append(manage("rotate_keys", "--dry-run", database=database))
    steps.append(
        manage(
            "shell", "-c", "from providers.models import Provider; print(Provider.objects.count())", database=database
        )
    )

    for step in steps:
        assert step.returncode == 0, (step.args, step.stdout[-2000:], step.stderr[-2000:])
    assert "acme-operator" in steps[1].stdout and "operator of workspace acme only" in steps[1].stdout
    assert steps[-1].stdout.split()[-1] == "8"  # every workspace's providers: a command is not scoped


def test_refresh_idp_metadata_exits_1_from_the_command_line_when_a_refresh_fails(tmp_path):
    """Under the local settings the outbound policy refuses loopback addresses: the refresh of an
    identity provider whose metadata URL is on 127.0.0.1 fails, which cron sees as exit status 1."""
    database = tmp_path / "db.sqlite3"
    create = (
        "from tests.factories import IdentityProviderFactory; "
        "IdentityProviderFactory(saml=True, alias='corp-saml', metadata_url='http://127.0.0.1:9/metadata')"
    )

    steps = [manage("migrate", "--noinput", database=database), manage("refresh_idp_metadata", database=database)]
    steps += [manage("shell", "-c", create, database=database), manage("refresh_idp_metadata", database=database)]

    for step in steps[:3]:
        assert step.returncode == 0, (step.args, step.stdout[-2000:], step.stderr[-2000:])
    assert steps[1].stdout == "No SAML identity provider has a metadata URL: nothing to refresh.\n"
    failed = steps[3]
    assert failed.returncode == 1, (failed.stdout, failed.stderr)
    assert failed.stdout.startswith("default/corp-saml: failed: ")
    assert "127.0.0.1" in failed.stdout.splitlines()[0]
    assert failed.stdout.splitlines()[1] == "1 identity provider: 0 changed, 0 unchanged, 1 failed."
    assert "1 of 1 metadata refreshes failed" in failed.stderr
