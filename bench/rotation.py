"""Key-rotation figures, run in child processes of the harness so that each one's memory is its own:

    python -m bench.rotation bare      # a bare Fernet decrypt+encrypt loop over the stored values
    python -m bench.rotation command   # `manage.py rotate_keys` over the same values

Each prints one JSON line: values handled, seconds, resident memory once Django is loaded and
the peak (KiB): a peak that stays put from 1k to 100k values is memory bounded by the batch."""

import io
import json
import re
import resource
import sys
import time
from pathlib import Path

import django


def peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def current_kib() -> int:
    """Resident memory now (ru_maxrss is the peak so far, which Django's start-up already set)."""
    resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    return resident_pages * resource.getpagesize() // 1024


def main(mode: str) -> None:
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from providers import keys

    start = current_kib()
    keyring = keys.Keyring.from_settings()
    tables = [(model._meta.db_table, field.column) for model, field in keys.encrypted_fields()]

    def old_tokens():
        with connection.cursor() as cursor:
            for table, column in tables:
                cursor.execute(f'SELECT "{column}" FROM "{table}"')
                for (token,) in cursor.fetchall():
                    if keyring.status(bytes(token)) == "old":
                        yield bytes(token)

    if mode == "bare":
        old = list(old_tokens())
        baseline = peak_kib()
        started = time.perf_counter()
        for token in old:
            keyring.primary.encrypt(keyring.multi.decrypt(token))
        seconds = time.perf_counter() - started
        values = len(old)
    else:
        summary = io.StringIO()
        baseline = peak_kib()
        started = time.perf_counter()
        call_command("rotate_keys", batch_size=500, stdout=summary, stderr=io.StringIO())
        seconds = time.perf_counter() - started
        values = sum(int(count) for count in re.findall(r"(\d+) rotated", summary.getvalue()))
    result = {
        "mode": mode,
        "values": values,
        "seconds": seconds,
        "peak_kib_above_start": peak_kib() - baseline,
        "start_kib": start,
        "peak_kib": peak_kib(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    from django_scopes import scopes_disabled  # as manage.py: a command acts on every workspace

    with scopes_disabled():
        main(sys.argv[1])
