from django.db import migrations

# The byte-order index of migration 0010 (the provider autocomplete's prefix range), led by the
# workspace: the range is now read within one workspace (selectors.providers_with_id_prefix).
OLD = "provider_id_bytes"
NEW = "provider_workspace_id_bytes"


def _build(schema_editor, name: str, columns: str) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name])
        row = cursor.fetchone()
    if row is not None and not row[0]:  # an interrupted build left it invalid: build it again
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
    schema_editor.execute(f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "providers_provider" ({columns})')


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _build(schema_editor, NEW, '"workspace_id", ("provider_id"::text COLLATE "C")')
    schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{OLD}"')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _build(schema_editor, OLD, '("provider_id"::text COLLATE "C")')
    schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{NEW}"')


class Migration(migrations.Migration):
    atomic = False  # CONCURRENTLY: the index builds without blocking writes

    dependencies = [("providers", "0015_workspace_scoped_ids")]

    operations = [migrations.RunPython(create, drop)]
