from django.db import migrations

# The provider autocomplete reads the providers whose id starts with the typed term as one range
# of this index (selectors.providers_with_id_prefix): comparing ids byte by byte ("C") makes the
# ids with a prefix contiguous whatever the database's collation, which the unique index on the
# id (in the database's collation) does not guarantee. SQLite compares bytes already.
NAME = "provider_id_bytes"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [NAME])
        row = cursor.fetchone()
    if row is not None and not row[0]:  # an interrupted build left it invalid: build it again
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{NAME}"')
    schema_editor.execute(
        f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{NAME}" ON "providers_provider" (("provider_id"::text COLLATE "C"))'
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    atomic = False  # CONCURRENTLY: the index builds without blocking writes

    dependencies = [("providers", "0009_search_indexes_without_pending_list")]

    operations = [migrations.RunPython(create, drop)]
