"""The workspace migrations on a database that holds rows: forwards every provider, project and
audit event lands in the `default` workspace (tokens stay unlimited); backwards the column goes and
the rows stay; forwards again."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", "0004_audit_permissions"), ("providers", "0012_prompt_login_hint")]
AFTER = [("accounts", "0005_workspaces"), ("providers", "0013_workspaces")]

# Outside a test transaction: migrations change the schema. The groups the suite relies on are
# restored afterwards.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def migrate(targets):
    """Migrate to `targets` and return the app registry of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {column.name for column in connection.introspection.get_table_description(cursor, table)}


def seed(apps) -> None:
    user = apps.get_model("accounts", "User").objects.create(username="before-workspaces")
    apps.get_model("accounts", "ApiToken").objects.create(user=user, name="ci", key_hash="a" * 64, prefix="prt_a")
    provider = apps.get_model("providers", "Provider").objects.create(
        provider_id="gh", label="GitHub", type="github", base_url="https://github.com"
    )
    apps.get_model("providers", "Project").objects.create(project_id="shop", name="Shop", provider=provider)
    apps.get_model("providers", "AuditEvent").objects.create(action="create", object_type="provider", object_id="gh")


def test_rows_move_into_the_default_workspace_and_back():
    seed(migrate(BEFORE))

    apps = migrate(AFTER)

    workspace = apps.get_model("accounts", "Workspace")
    default = workspace.objects.get()
    assert (default.pk, default.name, default.display_name, default.public_id) == (
        1,
        "default",
        "Default",
        "org_default",
    )
    for label in ("providers.Provider", "providers.Project", "providers.AuditEvent"):
        model = apps.get_model(label)
        assert list(model.objects.values_list("workspace__name", flat=True)) == ["default"], label
    assert list(apps.get_model("accounts", "ApiToken").objects.values_list("workspace", flat=True)) == [None]
    # The id sequence is past the default workspace's id (PostgreSQL's serial would give 1 again).
    assert workspace.objects.create(name="acme", display_name="ACME", public_id="org_acme00000").pk == 2

    apps = migrate(BEFORE)

    for table in ("providers_provider", "providers_project", "providers_auditevent", "accounts_apitoken"):
        assert "workspace_id" not in columns(table), table
    assert "accounts_workspace" not in connection.introspection.table_names()
    assert list(apps.get_model("providers", "Project").objects.values_list("project_id", "provider__provider_id")) == [
        ("shop", "gh")
    ]

    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate(leaves)
    assert "workspace_id" in columns("providers_provider")
