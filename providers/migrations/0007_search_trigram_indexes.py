import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)

# Admin search and autocomplete match `icontains`, which Django writes as
# UPPER(column::text) LIKE UPPER('%term%'): a trigram index on that expression serves it on
# PostgreSQL, where a B-tree cannot (a sequential scan took 110 ms at 100k providers).
INDEXES = [
    ("provider_search_trgm", "providers_provider", ["provider_id", "label"]),
    ("project_search_trgm", "providers_project", ["project_id", "name"]),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError:
        logger.warning(
            "pg_trgm is not available (CREATE EXTENSION refused): admin search works, without trigram indexes."
        )
        return
    quote = schema_editor.quote_name
    for name, table, columns in INDEXES:
        expressions = ", ".join(f"UPPER({quote(column)}::text) gin_trgm_ops" for column in columns)
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote(name)} ON {quote(table)} USING gin ({expressions})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    atomic = False  # CONCURRENTLY: an upgrade does not lock the tables against writes while it builds

    dependencies = [("providers", "0006_deletion_history_messages")]

    operations = [migrations.RunPython(create, drop)]
