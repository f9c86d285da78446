"""The benchmark harness (`make bench`): PostgreSQL, gunicorn with the production settings, load
from this process on 127.0.0.1. At each table size it measures the product's endpoints next to
the floor (bare Django views, one `.values()` query) and the naive baseline (`ModelViewSet` +
`ModelSerializer`), in alternating rounds so that all three see the same machine state; then the
admin pages and key rotation. At the largest size it also measures the size-sensitive pages next
to the same pages on a copy of the database taken at the smallest size, served by a second
gunicorn, again in alternating rounds: "1M vs 1k" then compares figures taken side by side rather
than minutes apart. Writes docs/benchmarks.json; `python -m bench.report` renders it.

    python -m bench.run [--sizes 1k,100k,1M] [--seconds 1.5] [--rounds 2] [--quick]
                        [--only writes|identity] [--output PATH]

`--only writes` measures the API's writes alone, `--only identity` the identity-provider reads
(detail and mappers) alone, next to their floor and naive baseline as in a full run: no admin
pages, key rotation or side-by-side comparison. Being partial, such a run writes its figures only
where `--output` says.
"""

import argparse
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.cases import Case, admin_cases, admin_session, api_cases, revalidation_case

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "benchmarks.json"
FERNET_KEYS = "bench-key-1,bench-key-2,bench-key-3"  # the server encrypts with key 1 and reads all three
ROTATED_KEYS = "bench-key-3,bench-key-1,bench-key-2"  # rotation moves every value to key 3

# name → providers, projects, identity providers
SIZES = {
    "1k": (1_000, 1_000, 50),
    "100k": (100_000, 100_000, 500),
    "1M": (100_000, 1_000_000, 500),
}


# The writes, each measured against the floor writing the same rows (and the naive baseline where it
# has the same endpoint).
WRITES = ("create with credentials", "PATCH label", "PATCH with credentials")
# What `--only` measures.
ONLY = {"writes": WRITES, "identity": ("identity-provider detail", "identity-provider mappers")}
# Compared side by side between the smallest and the largest size.
SIZE_SENSITIVE = ("providers list (page of 50)", "provider detail", "projects list (page 1)")


def environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": "bench-" + secrets.token_urlsafe(48),
        "FERNET_KEYS": FERNET_KEYS,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_CONN_MAX_AGE": "60",
        "PYTHONPATH": str(ROOT),
    }


def recreate_database(database_url: str, template: str | None = None) -> None:
    """Drop and create the database, empty or as a copy of `template` (a database URL)."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    maintenance = database_url.rsplit("/", 1)[0] + "/postgres"
    copy = f' TEMPLATE "{template.rsplit("/", 1)[1]}"' if template else ""
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"{copy}')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def measure(port: int, cases: list[Case], *, rounds: int, seconds: float, max_requests: int, concurrency: int):
    from bench import load

    merged: dict[tuple[str, str], load.Result] = {}
    for case in cases:  # warm up: caches, connections, the first COUNT
        load.run("127.0.0.1", case.port or port, case.request, concurrency=1, max_requests=5, max_seconds=5)
    for _ in range(rounds):
        for case in cases:
            result = load.run(
                "127.0.0.1",
                case.port or port,
                case.request,
                concurrency=concurrency,
                max_requests=max_requests,
                max_seconds=seconds,
            )
            key = (case.comparison, case.variant)
            merged[key] = merged[key].merge(result) if key in merged else result
    rows = []
    for (comparison, variant), result in merged.items():
        rows.append(
            {
                "comparison": comparison,
                "variant": variant,
                "requests": result.requests,
                "errors": result.errors,
                "rps": round(result.rps, 1),
                "p50_ms": round(result.p50, 3),
                "p99_ms": round(result.p99, 3),
                "server_p50_ms": round(result.server_p50, 3),
                "queries": round(result.queries_per_request, 2),
            }
        )
        print(
            f"  {comparison:<32} {variant:<14} {result.rps:>8.1f} req/s  p50 {result.p50:>8.2f} ms  "
            f"p99 {result.p99:>8.2f} ms  server p50 {result.server_p50:>8.2f} ms  "
            f"{result.queries_per_request:>5.1f} queries  {result.errors} errors",
            flush=True,
        )
    return rows


def print_ratios(rows: list[dict]) -> None:
    """Each comparison's product against its floor and naive baseline, as the targets judge them."""
    by = {(row["comparison"], row["variant"]): row for row in rows}
    for comparison in dict.fromkeys(row["comparison"] for row in rows):
        product, floor, naive = (by.get((comparison, variant)) for variant in ("product", "floor", "naive"))
        if product is None or floor is None:
            continue
        figures = [f"p50 {product['p50_ms'] / floor['p50_ms']:.2f}× floor"]
        if naive is not None:
            to_naive, floor_to_naive = product["rps"] / naive["rps"], floor["rps"] / naive["rps"]
            figures.append(f"req/s {to_naive:.2f}× naive (floor {floor_to_naive:.2f}×)")
        queries = f"queries product {product['queries']:g}, floor {floor['queries']:g}"
        figures.append(queries + (f", naive {naive['queries']:g}" if naive is not None else ""))
        print(f"  {comparison:<32} " + "; ".join(figures), flush=True)


def side_by_side(port: int, small_port: int, token: str, session: str, small: str, large: str, options, concurrency):
    """The size-sensitive API reads and the admin pages at the largest size and on the copy taken at
    the smallest, alternating within each round like product, floor and naive do."""
    print(f"\nSide by side: {large} (main server) and {small} (copy, second server)", flush=True)

    def product_cases(size: str, server: int) -> list[Case]:
        providers, projects, _ = SIZES[size]
        return [
            Case(case.comparison, size, case.request, server)
            for case in api_cases(size, token, providers, projects)
            if case.variant == "product" and case.comparison in SIZE_SENSITIVE
        ]

    api = [case for pair in zip(product_cases(small, small_port), product_cases(large, port), strict=True)
           for case in pair]  # fmt: skip
    admin = [
        case
        for small_case, large_case in zip(admin_cases(session), admin_cases(session), strict=True)
        for case in (Case(small_case.comparison, small, small_case.request, small_port),
                     Case(large_case.comparison, large, large_case.request, port))
    ]  # fmt: skip
    return {
        "small": small,
        "large": large,
        "api": measure(port, api, concurrency=concurrency, **options),
        "admin": measure(port, admin, concurrency=1, **options),
    }


def rotation(env: dict[str, str], label: str) -> dict:
    figures = {}
    for mode in ("bare", "command"):
        output = subprocess.run(
            [sys.executable, "-m", "bench.rotation", mode],
            cwd=ROOT,
            env={**env, "FERNET_KEYS": ROTATED_KEYS},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        figures[mode] = json.loads(output.strip().splitlines()[-1])
    bare, command = figures["bare"], figures["command"]
    result = {
        "size": label,
        "values": command["values"],
        "bare_values_per_s": round(bare["values"] / bare["seconds"], 1) if bare["seconds"] else None,
        "command_values_per_s": round(command["values"] / command["seconds"], 1) if command["seconds"] else None,
        "command_peak_kib_above_start": command["peak_kib_above_start"],
        "command_start_kib": command["start_kib"],
        "command_peak_kib": command["peak_kib"],
        "bare_peak_kib": bare["peak_kib"],
    }
    print(f"  key rotation at {label}: {json.dumps(result)}", flush=True)
    return result


def host() -> dict:
    """The machine a benchmark ran on: CPU model, cores, memory, Python, OS (every bench reports them)."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory,
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def machine() -> dict:
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as connection:
        server = connection.execute("SHOW server_version").fetchone()[0]
    return {**host(), "postgresql": server}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                        "postgres://root@127.0.0.1:5432/bench_registry"))  # fmt: skip
    parser.add_argument("--sizes", default="1k,100k,1M", help="Comma-separated, from: " + ", ".join(SIZES))
    parser.add_argument("--seconds", type=float, default=1.5, help="Seconds per round of each case (1.5).")
    parser.add_argument("--rounds", type=int, default=2, help="Rounds, alternating product/floor/naive (2).")
    parser.add_argument("--max-requests", type=int, default=3000, help="Requests per round of each case at most.")
    parser.add_argument("--concurrency", type=int, default=2, help="Client connections (2).")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2).")
    parser.add_argument("--quick", action="store_true", help="One short round per case: a smoke test.")
    parser.add_argument("--only", choices=list(ONLY), help="Only these cases (a partial run; see --output).")
    parser.add_argument("--output", type=Path, help=f"Where to write the figures (default {RESULTS.relative_to(ROOT)}; "
                        "a partial run writes them only when given).")  # fmt: skip
    args = parser.parse_args()
    output = args.output or (None if args.only else RESULTS)
    if args.quick:
        args.rounds, args.seconds = 1, 0.3
    sizes = [size.strip() for size in args.sizes.split(",")]
    unknown = [size for size in sizes if size not in SIZES]
    if unknown:
        parser.error(f"unknown size(s): {', '.join(unknown)}")

    env = environment(args.database_url)
    os.environ.update(env)
    started = time.monotonic()
    print(f"Database {args.database_url} (recreated)", flush=True)
    recreate_database(args.database_url)

    import django

    django.setup()
    from django.core.management import call_command

    from accounts.services import api_token_create
    from bench import seed

    call_command("migrate", verbosity=0)
    operator, _ = seed.users()
    _, token = api_token_create(user=operator, name="bench")
    session = admin_session()
    port = free_port()
    small_url = None
    if len(sizes) > 1 and not args.only:
        # A copy of the database at the smallest size, for the side-by-side comparison at the largest.
        first = SIZES[sizes[0]]
        print(f"\nSize {sizes[0]} (also copied for the side-by-side comparison)", flush=True)
        seed.grow(providers=first[0], projects=first[1], identity_providers=first[2])
        from django.db import connections

        connections.close_all()
        small_url = args.database_url + "_small"
        recreate_database(small_url, template=args.database_url)
    results: dict = {
        "command": "make bench  # " + " ".join(sys.argv[1:]),
        "only": args.only,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "settings": {
            "rounds": args.rounds,
            "seconds": args.seconds,
            "max_requests": args.max_requests,
            "concurrency": args.concurrency,
            "workers": args.workers,
        },
        "sizes": {},
        "rotation": [],
    }
    server = start_gunicorn(env, port, args.workers)
    small_port = free_port() if small_url else None
    small_server = start_gunicorn({**env, "DATABASE_URL": small_url}, small_port, args.workers) if small_url else None
    try:
        for size in sizes:
            providers, projects, identity_providers = SIZES[size]
            print(f"\nSize {size}: {providers:,} providers, {projects:,} projects, "
                  f"{identity_providers} identity providers", flush=True)  # fmt: skip
            seed.grow(providers=providers, projects=projects, identity_providers=identity_providers)
            cases = [*api_cases(size, token, providers, projects), revalidation_case(port)]
            if args.only:
                cases = [case for case in cases if case.comparison in ONLY[args.only]]
            options = {"rounds": args.rounds, "seconds": args.seconds, "max_requests": args.max_requests}
            api = measure(port, cases, concurrency=args.concurrency, **options)
            print_ratios(api)
            admin = [] if args.only else measure(port, admin_cases(session), concurrency=1, **options)
            results["sizes"][size] = {
                "providers": providers,
                "projects": projects,
                "identity_providers": identity_providers,
                "api": api,
                "admin": admin,
            }
            if small_port is not None and size == sizes[-1]:
                results["side_by_side"] = side_by_side(
                    port, small_port, token, session, sizes[0], size, options, args.concurrency
                )
            if not args.only and (size == sizes[0] or size == sizes[-1]):
                results["rotation"].append(rotation(env, size))
    finally:
        for process in (server, small_server):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    results["seconds"] = round(time.monotonic() - started)
    if output is None:
        print(f"\nPartial run ({args.only}) in {results['seconds']} s; figures not written (see --output)", flush=True)
        return
    output.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nWrote {output} in {results['seconds']} s", flush=True)


if __name__ == "__main__":
    from django_scopes import scopes_disabled  # as manage.py: seeding and reading span workspaces

    with scopes_disabled():
        main()
