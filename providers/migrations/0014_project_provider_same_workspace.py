"""The database's own guard that a project's git provider is one of the project's workspace (the
services check it first, in `Project.clean()`): a trigger, since the rule spans two tables. A
violation is an integrity error (PostgreSQL: check_violation, SQLite: a constraint failure)."""

from django.db import migrations

POSTGRESQL = """
CREATE FUNCTION providers_project_same_workspace() RETURNS trigger AS $$
BEGIN
    IF NEW.provider_id IS NOT NULL AND NEW.workspace_id IS DISTINCT FROM
       (SELECT workspace_id FROM providers_provider WHERE id = NEW.provider_id) THEN
        RAISE EXCEPTION 'a project links a provider of another workspace' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER providers_project_same_workspace
    BEFORE INSERT OR UPDATE OF provider_id, workspace_id ON providers_project
    FOR EACH ROW EXECUTE FUNCTION providers_project_same_workspace();
"""
POSTGRESQL_REVERSE = """
DROP TRIGGER providers_project_same_workspace ON providers_project;
DROP FUNCTION providers_project_same_workspace();
"""

SQLITE_CHECK = (
    "WHEN NEW.provider_id IS NOT NULL AND NEW.workspace_id IS NOT "
    "(SELECT workspace_id FROM providers_provider WHERE id = NEW.provider_id) "
    "BEGIN SELECT RAISE(ABORT, 'project links a provider of another workspace'); END"
)
SQLITE = [
    f"CREATE TRIGGER providers_project_same_workspace_insert BEFORE INSERT ON providers_project {SQLITE_CHECK}",
    "CREATE TRIGGER providers_project_same_workspace_update "
    f"BEFORE UPDATE OF provider_id, workspace_id ON providers_project {SQLITE_CHECK}",
]
SQLITE_REVERSE = [
    "DROP TRIGGER providers_project_same_workspace_insert",
    "DROP TRIGGER providers_project_same_workspace_update",
]


def forwards(apps, schema_editor):
    statements = {"postgresql": [POSTGRESQL], "sqlite": SQLITE}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    statements = {"postgresql": [POSTGRESQL_REVERSE], "sqlite": SQLITE_REVERSE}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("providers", "0013_workspaces")]

    operations = [migrations.RunPython(forwards, backwards)]
