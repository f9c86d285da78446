"""Workspaces at scale (`make bench` runs it after bench.run; alone: `python -m bench.workspaces`).

One workspace (`default`) holds 1,000 git providers, 10,000 projects and 10,000 identity
providers; a copy of the database is taken with that workspace alone. Then 99 more workspaces are
added, 1,000 providers and 10,000 projects each (100,000 providers and 1,000,000 projects in
all). Two gunicorn servers, one on each database, serve the same requests in alternating rounds:
each read of the measured workspace, through its `/api/workspaces/default/…` path, and the
admin's searches, on 100 workspaces against one; the identity-provider reads, the public login
list and the admin's identity-provider list (a page, searches) also against their floor (for the
admin: Django's own admin, bench/floor_admin.py). Writes docs/benchmarks-workspaces.json and .md.

    python -m bench.workspaces [--seconds 1.5] [--rounds 2] [--quick]
"""

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime

from bench.cases import Case, admin_session
from bench.run import ROOT, environment, free_port, machine, measure, recreate_database, start_gunicorn

RESULTS = ROOT / "docs" / "benchmarks-workspaces.json"
REPORT = ROOT / "docs" / "benchmarks-workspaces.md"
WORKSPACES = 100
PROVIDERS, PROJECTS, IDENTITY_PROVIDERS = 1_000, 10_000, 10_000
OTHER_IDENTITY_PROVIDERS = 5
PREFIX = "/api/workspaces/default"


def seed_measured_workspace() -> None:
    from accounts.models import DEFAULT_WORKSPACE_ID
    from accounts.scoping import within
    from bench import seed

    operator, owners = seed.users()
    with within(DEFAULT_WORKSPACE_ID):
        seed.grow_providers(PROVIDERS, operator)
        seed.grow_identity_providers(IDENTITY_PROVIDERS, operator)
        seed.grow_projects(PROJECTS, PROVIDERS, owners)


def seed_other_workspaces() -> None:
    from accounts.models import Workspace
    from accounts.scoping import within
    from bench import seed

    operator, owners = seed.users()
    for n in range(1, WORKSPACES):
        workspace, _ = Workspace.objects.get_or_create(name=f"tenant-{n:03d}", defaults={"display_name": f"Tenant {n}"})
        print(f"  workspace {workspace.name} ({n}/{WORKSPACES - 1})", file=sys.stderr, flush=True)
        with within(workspace.pk):
            seed.grow_providers(PROVIDERS, operator)
            seed.grow_identity_providers(OTHER_IDENTITY_PROVIDERS, operator)
            seed.grow_projects(PROJECTS, PROVIDERS, owners)


def analyze() -> None:
    from django.db import connection, connections

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connections.close_all()


def cases(token: str, session: str, ports: dict[str, int]) -> tuple[list[Case], list[Case]]:
    """(API reads and the login list, admin pages): each on both servers, the floors on the large one."""
    from bench.load import Request
    from bench.seed import project_id, provider_id

    auth = {"Authorization": f"Bearer {token}"}
    cookie = {"Cookie": f"sessionid={session}"}
    reads = [
        ("providers list (page of 50)", f"{PREFIX}/backend/providers?page_size=50", auth),
        ("provider detail", f"{PREFIX}/backend/providers/{provider_id(PROVIDERS // 2)}", auth),
        ("projects list (page 1)", f"{PREFIX}/backend/projects", auth),
        ("project detail", f"{PREFIX}/backend/projects/{project_id(PROJECTS // 2)}", auth),
        ("identity providers list", f"{PREFIX}/identity-providers", auth),
        ("identity-provider detail", f"{PREFIX}/identity-providers/idp-5000", auth),
        ("identity-provider mappers", f"{PREFIX}/identity-providers/idp-5000/mappers", auth),
        ("public login list", f"{PREFIX}/idps", {}),
    ]
    admin = [
        ("admin: identity providers (page 1)", "/admin/providers/identityprovider/", cookie),
        ("admin: identity providers, search by alias", "/admin/providers/identityprovider/?q=idp-5000", cookie),
        ("admin: identity providers, search by name", "/admin/providers/identityprovider/?q=provider+5000", cookie),
        ("admin: providers, search", "/admin/providers/provider/?q=git-0000500", cookie),
        ("admin: projects, search", "/admin/providers/project/?q=project-0005000", cookie),
    ]

    def both(rows):
        return [
            Case(name, variant, Request("GET", path, headers), ports[variant])
            for name, path, headers in rows
            for variant in ("100 workspaces", "1 workspace")
        ]

    floors = [
        Case("public login list", "floor", Request("GET", "/floor/idps"), ports["100 workspaces"]),
        Case("identity-provider detail", "floor", Request("GET", "/floor/identity-providers/idp-5000"),
             ports["100 workspaces"]),
        Case("identity-provider mappers", "floor", Request("GET", "/floor/identity-providers/idp-5000/mappers"),
             ports["100 workspaces"]),
    ]  # fmt: skip
    admin_floors = [
        Case(name, "floor", Request("GET", path.replace("/admin/", "/floor/admin/", 1), headers),
             ports["100 workspaces"])
        for name, path, headers in admin
        if "identityprovider" in path
    ]  # fmt: skip
    return both(reads) + floors, both(admin) + admin_floors


def report(results: dict) -> str:
    lines = [
        "# Workspaces at scale",
        "",
        f"`{results['command']}`, {results['date']}; {results['machine']['cpu']}, {results['machine']['cores']} "
        f"cores, PostgreSQL {results['machine']['postgresql']}; {results['settings']['rounds']} rounds of "
        f"{results['settings']['seconds']} s per case, alternating.",
        "",
        f"The measured workspace holds {PROVIDERS:,} git providers, {PROJECTS:,} projects and "
        f"{IDENTITY_PROVIDERS:,} identity providers. *100 workspaces*: it and 99 more like it "
        f"({PROVIDERS * WORKSPACES:,} providers, {PROJECTS * WORKSPACES:,} projects in all); "
        "*1 workspace*: a copy of the database with it alone, served by a second server in the same "
        "rounds. Every request goes through the workspace's own path (`/api/workspaces/default/…`).",
        "",
        "| request | 100 workspaces p50 | 1 workspace p50 | ratio | floor p50 | × floor | queries |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    by = {(row["comparison"], row["variant"]): row for row in results["api"] + results["admin"]}
    for comparison in dict.fromkeys(row["comparison"] for row in results["api"] + results["admin"]):
        large, small = by.get((comparison, "100 workspaces")), by.get((comparison, "1 workspace"))
        floor = by.get((comparison, "floor"))
        if large is None or small is None:
            continue
        floor_p50 = f"{floor['p50_ms']:.2f} ms" if floor else "—"
        to_floor = f"{large['p50_ms'] / floor['p50_ms']:.2f}×" if floor else "—"
        lines.append(
            f"| {comparison} | {large['p50_ms']:.2f} ms | {small['p50_ms']:.2f} ms | "
            f"{large['p50_ms'] / small['p50_ms']:.2f}× | {floor_p50} | {to_floor} | {large['queries']:g} |"
        )
    lines += ["", f"Seeding took {results['seed_seconds']} s; the run {results['seconds']} s.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_WORKSPACES_DATABASE_URL",
                        "postgres://root@127.0.0.1:5432/bench_workspaces"))  # fmt: skip
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="A smoke test: 3 small workspaces, one short round.")
    args = parser.parse_args()
    if args.quick:
        global WORKSPACES, PROVIDERS, PROJECTS, IDENTITY_PROVIDERS
        args.rounds, args.seconds = 1, 0.3
        WORKSPACES, PROVIDERS, PROJECTS, IDENTITY_PROVIDERS = 3, 100, 1_000, 5_001
    env = environment(args.database_url)
    os.environ.update(env)
    started = time.monotonic()
    recreate_database(args.database_url)

    import django

    django.setup()
    from django.core.management import call_command

    from accounts.services import api_token_create
    from bench import seed

    call_command("migrate", verbosity=0)
    print(f"The measured workspace: {PROVIDERS:,} providers, {PROJECTS:,} projects, "
          f"{IDENTITY_PROVIDERS:,} identity providers", flush=True)  # fmt: skip
    seed_measured_workspace()
    operator, _ = seed.users()
    _, token = api_token_create(user=operator, name="bench")  # made before the copy: valid on both
    session = admin_session()  # the operator's: every workspace, the default one shown
    analyze()
    single_url = args.database_url + "_single"
    recreate_database(single_url, template=args.database_url)
    print(f"{WORKSPACES - 1} more workspaces", flush=True)
    seed_other_workspaces()
    analyze()
    seed_seconds = round(time.monotonic() - started)
    ports = {"100 workspaces": free_port(), "1 workspace": free_port()}
    servers = [
        start_gunicorn(env, ports["100 workspaces"], args.workers),
        start_gunicorn({**env, "DATABASE_URL": single_url}, ports["1 workspace"], args.workers),
    ]
    try:
        api, admin = cases(token, session, ports)
        options = {"rounds": args.rounds, "seconds": args.seconds, "max_requests": args.max_requests}
        results = {
            "command": "make bench  # python -m bench.workspaces " + " ".join(sys.argv[1:]),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "settings": {**options, "concurrency": args.concurrency, "workers": args.workers},
            "api": measure(ports["100 workspaces"], api, concurrency=args.concurrency, **options),
            "admin": measure(ports["100 workspaces"], admin, concurrency=1, **options),
            "seed_seconds": seed_seconds,
        }
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    results["seconds"] = round(time.monotonic() - started)
    if args.quick:
        print(report(results))
        return
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    REPORT.write_text(report(results))
    print(f"\nWrote {RESULTS.relative_to(ROOT)} and {REPORT.relative_to(ROOT)} in {results['seconds']} s", flush=True)


if __name__ == "__main__":
    from django_scopes import scopes_disabled  # as manage.py: seeding spans workspaces

    with scopes_disabled():
        main()
