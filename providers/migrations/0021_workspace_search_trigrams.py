import logging

from django.db import migrations

logger = logging.getLogger(__name__)

# A search within one workspace read the trigram index of migration 0007, which holds every
# workspace's rows: a term's trigrams are looked up across all of them, so the cost grows with the
# table, not the workspace. At 100 workspaces (1M projects) "project-0005000" read 3,161 index
# pages (29 ms) through it, so PostgreSQL scanned the workspace's 10,000 rows instead (3.6 ms),
# where the same workspace alone took 0.4 ms through the trigram index (docs/benchmarks-workspaces.md).
# A GIN index cannot lead with the workspace (btree_gin's (workspace, trigram) index still reads
# each trigram's entries of every workspace), so each key carries its workspace instead:
# `providers_search_trigrams` gives a row's trigrams of the two searched columns as "<workspace>:<trigram>",
# and `providers_search_query` the trigrams a match must hold, tagged with the workspace searched
# (selectors.workspace_search). Only trigrams inside a run of word characters are kept (pg_trgm's
# padded ones at a word's edges are not implied by a substring), on both sides.
# The 0007 indexes stay: they serve searches over every workspace.
INDEXES = [
    ("provider_workspace_search", "providers_provider", ["provider_id", "label"]),
    ("project_workspace_search", "providers_project", ["project_id", "name"]),
]

FUNCTIONS = [
    """
CREATE OR REPLACE FUNCTION providers_search_trigrams(workspace bigint, id_value text, name_value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
    SELECT coalesce(array_agg(workspace::text || ':' || trigram), '{{}}')
    FROM unnest({schema}.show_trgm(upper(id_value)) || {schema}.show_trgm(upper(name_value))) AS trigram
    WHERE strpos(trigram, ' ') = 0
$$""",
    """
CREATE OR REPLACE FUNCTION providers_search_query(workspace bigint, term text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(workspace::text || ':' || trigram), '{{}}')
    FROM unnest({schema}.show_trgm(upper(term))) AS trigram
    WHERE strpos(trigram, ' ') = 0
$$""",
]


def _trigram_schema(schema_editor) -> str | None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")
        row = cursor.fetchone()
    return row[0] if row else None


def _build(schema_editor, name: str, table: str, columns: list[str]) -> None:
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name])
        row = cursor.fetchone()
    if row is not None and not row[0]:  # an interrupted build left it invalid: build it again
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(name)}")
    arguments = ", ".join(["workspace_id", *(quote(column) for column in columns)])
    # fastupdate off, as migration 0009 for the 0007 indexes: no pending list for searches to read.
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote(name)} ON {quote(table)} "
        f"USING gin (providers_search_trigrams({arguments})) WITH (fastupdate = off)"
    )


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema = _trigram_schema(schema_editor)
    if schema is None:  # pg_trgm was refused in 0007: searches scan the workspace's rows
        logger.warning("pg_trgm is not installed: workspace searches work, without their trigram indexes.")
        return
    for function in FUNCTIONS:
        schema_editor.execute(function.format(schema=schema))
    for name, table, columns in INDEXES:
        _build(schema_editor, name, table, columns)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")
    schema_editor.execute("DROP FUNCTION IF EXISTS providers_search_trigrams(bigint, text, text)")
    schema_editor.execute("DROP FUNCTION IF EXISTS providers_search_query(bigint, text)")


class Migration(migrations.Migration):
    atomic = False  # CONCURRENTLY: the indexes build without blocking writes

    dependencies = [("providers", "0020_sp_previous_key")]

    operations = [migrations.RunPython(create, drop)]
