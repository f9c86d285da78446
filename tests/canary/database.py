"""The canary proofs' search of the raw database: every row of every table, as a dump would show
it, and the prefix every Fernet ciphertext starts with."""

from django.db import connection

FERNET_PREFIX = b"gAAAAA"


def all_table_rows():
    """Every row of every table, as (table, row), like a database dump."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                yield table, row


def dump_leaks(secrets: list[str]) -> list[str]:
    leaks = []
    encoded = [(secret, secret.encode()) for secret in secrets]
    for table, row in all_table_rows():
        as_text = str(row)
        for secret, raw in encoded:
            if secret in as_text:
                leaks.append(f"{table}: {as_text[:200]}")
            for value in row:
                if isinstance(value, (bytes, bytearray, memoryview)) and raw in bytes(value):
                    leaks.append(f"{table} (binary column): {bytes(value)[:80]!r}")
    return leaks
