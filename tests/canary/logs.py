"""The canary proofs' search of the logs: every logger at DEBUG, SQL statements logged, and the
captured records (text and attributes) holding none of the secrets."""

import logging

from django.db import connection

from tests.canary.search import assert_no_leak


def capture_all_logs(caplog) -> None:
    """DEBUG for the root logger and for every logger that sets its own level (Django's
    `django` logger is INFO by default, which would hide SQL and template debug records)."""
    caplog.set_level(logging.DEBUG)
    names = {"django", "django.db.backends", "django.request", "django.template", "django.security", "py.warnings"}
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level > logging.DEBUG:
            names.add(name)
    for name in sorted(names):
        caplog.set_level(logging.DEBUG, logger=name)


def with_sql_logged(flows):
    """Run `flows()` with every SQL statement logged (as DEBUG does), and return what it returns."""
    previous = connection.force_debug_cursor
    connection.force_debug_cursor = True
    try:
        return flows()
    finally:
        connection.force_debug_cursor = previous


def assert_logs_hold_none_of(caplog, secrets: list[str], table: str) -> None:
    """The logs captured saw the SQL writing `table` (ciphertext there is fine) and the 4xx answers,
    and none of `secrets` is in their text or in any record's attributes."""
    sql_records = [record for record in caplog.records if record.name == "django.db.backends"]
    assert any(table in record.getMessage() for record in sql_records)
    assert any(record.name == "django.request" for record in caplog.records)
    surfaces = [("caplog.text", caplog.text)]
    # Structured handlers (JSON logs) also ship a record's extra attributes (`sql`, `params`, …).
    surfaces += [(f"log record {record.name} attributes", str(vars(record))) for record in caplog.records]
    # SQLite's SQL log shows binary parameters as X'<hex>': an unencrypted blob would hide there.
    hexed = [variant for secret in secrets for variant in (secret.encode().hex(), secret.encode().hex().upper())]
    assert_no_leak(surfaces, [*secrets, *hexed])
