from django.db import migrations

# A GIN index normally queues new entries in a pending list and merges them later (at VACUUM, or
# when the list reaches gin_pending_list_limit, 4 MB). Every search reads the whole pending list
# first: after 7k inserts into 100k providers it held 467 pages and the provider autocomplete went
# from 10.7 to 24.6 ms (docs/benchmarks.md). Providers and projects are written far less often
# than they are searched, so new rows go straight into the index, and what is queued is merged now.
INDEXES = ["provider_search_trgm", "project_search_trgm"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is None:
                continue  # pg_trgm was refused in 0007: no trigram index
        # Each statement commits on its own (atomic = False): the ALTER's exclusive lock on the
        # index lasts only for the ALTER, and it gives up rather than queue reads behind it.
        schema_editor.execute("SET lock_timeout = '10s'")
        schema_editor.execute(f"ALTER INDEX {schema_editor.quote_name(name)} SET (fastupdate = off)")
        schema_editor.execute("RESET lock_timeout")
        schema_editor.execute("SELECT gin_clean_pending_list(%s::regclass)", [name])


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"ALTER INDEX IF EXISTS {schema_editor.quote_name(name)} RESET (fastupdate)")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("providers", "0008_help_texts")]

    operations = [migrations.RunPython(forwards, backwards)]
