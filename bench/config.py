"""Configuration as code at scale (`python -m bench.config`): export, plan and apply of a workspace
of 1,000 git providers, 1,000 identity providers with 5 mappers each and 1,000 projects, against
the issue's targets, and next to the same objects created through the services in a loop.

    python -m bench.config [--providers 1000] [--idps 1000] [--mappers 5] [--projects N]
                           [--database-url URL] [--profile] [--quick]

The source workspace is built through the services (`provider_create`, `identity_provider_create`
with its mappers, `project_create`), in one transaction per kind as an apply runs in one: that loop,
timed, is the floor the apply is compared with (run twice, before and after the apply, into two
workspaces). The source is exported with `secret_refs="env"`, the variables it names are set, and
the file is applied to an empty workspace (timed, statements counted), planned against it (no
changes) and applied again (no changes: it must write nothing). Memory: the peak of Python's
allocations (tracemalloc) during the plan and the no-change apply, and the growth of the process's
peak resident size during the full apply, at N objects and at N/4, to show what grows with the
file. The database is a scratch one: SQLite in a temporary directory by default, or
`--database-url postgres://root@127.0.0.1:5432/bench_config` (dropped and created anew). Each
database's figures are kept in docs/benchmarks-config.json; docs/benchmarks-config.md shows them
all. `--profile` adds the top functions (cProfile) of a plan and of the full apply.
"""

import argparse
import contextlib
import cProfile
import gc
import io
import json
import os
import pstats
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "benchmarks-config.json"
REPORT = ROOT / "docs" / "benchmarks-config.md"
TARGETS = {"apply_s": 60.0, "plan_s": 5.0, "noop_apply_s": 5.0, "noop_writes": 0}
GIT_TYPES = ("github", "gitlab", "bitbucket", "azure-devops")
# OIDC presets, in turn; every fifth identity provider is SAML with a signing certificate.
PRESETS = {
    "okta": "https://acme{n}.okta.com/oauth2/default",
    "entra_id": "https://login.microsoftonline.com/{n:08d}-0000-4000-8000-000000000000/v2.0",
    "auth0": "https://acme{n}.eu.auth0.com/",
    "google": "",
    "keycloak": "https://sso{n}.example.com/realms/main",
    "custom_oidc": "https://oidc{n}.example.com",
}
REPEATS = 3  # plans and no-change applies, each timed


def provider_key(n: int) -> str:
    return f"git-{n:05d}"


def provider_secret(n: int) -> str:
    return f"bench-token-{n}-not-a-real-secret"


def client_secret(n: int) -> str:
    return f"bench-client-secret-{n}-not-real"


def is_saml(n: int) -> bool:
    return n % 5 == 4


def create_provider(n: int):
    from providers.services import CredentialInput, provider_create

    return provider_create(
        actor=None,
        provider_id=provider_key(n),
        label=f"Git provider {n}",
        type=GIT_TYPES[n % len(GIT_TYPES)],
        credentials=CredentialInput(type="token", content={"accessToken": provider_secret(n)}),
        description=f"Service account {n}.\nRotated yearly." if n % 3 == 0 else "",
    )


def create_identity_provider(n: int, mappers: int):
    from providers.api.identity.examples import EXAMPLE_CERTIFICATE
    from providers.identity.services import MapperInput, identity_provider_create

    domains = [f"corp{n}.example.com"] if n % 3 == 0 else []
    if is_saml(n):
        return identity_provider_create(
            actor=None,
            alias=f"idp-{n:05d}",
            display_name=f"SAML provider {n}",
            protocol="saml",
            data={
                "entity_id": f"https://idp{n}.example.com/metadata",
                "single_sign_on_service_url": f"https://idp{n}.example.com/sso",
                "signing_certificate": EXAMPLE_CERTIFICATE,
            },
            domains=domains,
            mappers=[
                MapperInput(
                    name=f"attribute {m}",
                    mapper_type="saml-user-attribute-idp-mapper",
                    config={"attribute_name": f"urn:oid:1.2.{m}", "user_attribute": f"attribute_{m}"},
                )
                for m in range(mappers)
            ],
        )
    preset = list(PRESETS)[n % len(PRESETS)]
    data = {"known_provider": preset, "client_id": f"client-{n}", "hide_on_login": n % 10 == 9}
    if PRESETS[preset]:
        data["issuer"] = PRESETS[preset].format(n=n)
    if preset == "custom_oidc":
        base = data["issuer"]
        data.update(authorization_url=f"{base}/auth", token_url=f"{base}/token", jwks_url=f"{base}/jwks")
    return identity_provider_create(
        actor=None,
        alias=f"idp-{n:05d}",
        display_name=f"Identity provider {n}",
        protocol="oidc",
        data=data,
        client_secret=client_secret(n),
        domains=domains,
        mappers=[
            MapperInput(
                name=f"attribute {m}",
                mapper_type="oidc-user-attribute-idp-mapper",
                config={"claim": f"claim_{m}", "user_attribute": f"attribute_{m}"},
                sync_mode="FORCE" if m == 0 else "INHERIT",
            )
            for m in range(mappers)
        ],
    )


def create_project(n: int, providers: list):
    from providers.services import project_create

    return project_create(
        actor=None,
        project_id=f"project-{n:05d}",
        name=f"Project {n}",
        description="Owned by the platform team." if n % 4 == 0 else "",
        provider=providers[n % len(providers)] if providers and n % 10 != 9 else None,
        repository_path=f"team-{n % 97}/project-{n}",
    )


_BARS: dict[str, tqdm] = {}


def progress(label: str, done: int, total: int) -> None:
    """A tqdm bar per label on standard error, closed once `done` reaches `total`."""
    bar = _BARS.get(label)
    if bar is None:
        bar = _BARS[label] = tqdm(total=total, desc=f"  {label}", unit=" objects", file=sys.stderr, mininterval=0.5)
    bar.update(done - bar.n)
    if done >= total:
        bar.close()
        del _BARS[label]


def build(workspace, *, providers: int, idps: int, mappers: int, projects: int, label: str) -> dict:
    """The objects through the services in a loop, one transaction per kind: seconds per kind."""
    from django.db import transaction

    from accounts import scoping

    seconds: dict[str, float] = {}
    with scoping.within(workspace.pk):
        rows = []
        started = time.perf_counter()
        with transaction.atomic():
            for n in range(providers):
                rows.append(create_provider(n))
                progress(f"{label}: git providers", n + 1, providers)
        seconds["providers"] = time.perf_counter() - started
        started = time.perf_counter()
        with transaction.atomic():
            for n in range(idps):
                create_identity_provider(n, mappers)
                progress(f"{label}: identity providers", n + 1, idps)
        seconds["identityProviders"] = time.perf_counter() - started
        started = time.perf_counter()
        with transaction.atomic():
            for n in range(projects):
                create_project(n, rows)
                progress(f"{label}: projects", n + 1, projects)
        seconds["projects"] = time.perf_counter() - started
    seconds["total"] = sum(seconds.values())
    return {key: round(value, 2) for key, value in seconds.items()}


def set_secret_variables(*, providers: int, idps: int) -> None:
    """The variables an export with `secret_refs="env"` names, holding the secrets the source has."""
    from providers.configuration.export import EnvNames

    names = EnvNames()
    for n in range(providers):
        os.environ[names.ref("provider", provider_key(n), "accessToken")["secretRef"]["env"]] = provider_secret(n)
    for n in range(idps):
        if not is_saml(n):
            os.environ[names.ref("idp", f"idp-{n:05d}", "client_secret")["secretRef"]["env"]] = client_secret(n)


class Statements:
    """Counts the SQL statements run (`connection.execute_wrapper`), by their first word."""

    def __init__(self) -> None:
        self.verbs: Counter = Counter()

    def __call__(self, execute, sql, params, many, context):
        self.verbs[sql.lstrip().split(None, 1)[0].upper()] += 1
        return execute(sql, params, many, context)

    @property
    def total(self) -> int:
        return sum(self.verbs.values())

    @property
    def writes(self) -> int:
        return sum(self.verbs[verb] for verb in ("INSERT", "UPDATE", "DELETE", "REPLACE"))

    def as_dict(self) -> dict:
        return {"total": self.total, "writes": self.writes, "by_verb": dict(sorted(self.verbs.items()))}


@contextmanager
def counted():
    from django.db import connection

    statements = Statements()
    with connection.execute_wrapper(statements):
        yield statements


def rss_kib() -> tuple[int, int]:
    """(current, peak) resident size of this process, KiB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def reset_rss_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # Linux: the peak restarts at the current size


class Bars:
    """The objects done so far, per kind, as bars on standard error."""

    def __init__(self, label: str, totals: dict[str, int]):
        from providers.configuration.services import Progress

        outer = self

        class _Progress(Progress):
            def advance(self, section: str, count: int) -> None:
                outer.done[section] += count
                progress(f"{label}: {section}", outer.done[section], totals[section])

        self.done: Counter = Counter()
        self.progress = _Progress()


def run_config(action: str, path: Path, workspace, *, totals: dict[str, int] | None = None, label: str = "") -> dict:
    """One plan or apply of the file, timed, its statements counted."""
    from providers.configuration.refs import RefPolicy
    from providers.configuration.services import ConfigRefusedError, config_apply, config_plan

    function = config_apply if action == "apply" else config_plan
    bars = Bars(label or action, totals).progress if totals else None
    reset_rss_peak()
    rss_before, _ = rss_kib()
    with path.open("rb") as stream, counted() as statements:
        started = time.perf_counter()
        try:
            plan = function(
                stream, workspace_id=workspace.pk, policy=RefPolicy.command_line(None), actor=None, progress=bars
            )
        except ConfigRefusedError as exc:
            plan = exc.plan
        seconds = time.perf_counter() - started
    _, rss_peak = rss_kib()
    if plan.errors:
        raise SystemExit(f"{action} failed: " + "; ".join(f"line {e.line}: {e}" for e in plan.errors[:5]))
    return {
        "seconds": round(seconds, 3),
        "statements": statements.as_dict(),
        "counts": plan.counts(),
        "exit_code": plan.exit_code,
        "changes_shown": [line for change in plan.changes[:3] for line in change.lines()][:12],
        "rss_growth_mib": round((rss_peak - rss_before) / 1024, 1),
    }


def repeated(action: str, path: Path, workspace) -> dict:
    runs = [run_config(action, path, workspace) for _ in range(REPEATS)]
    first = runs[0]
    return {
        **first,
        "seconds": round(statistics.median(run["seconds"] for run in runs), 3),
        "seconds_each": [run["seconds"] for run in runs],
        "rss_growth_mib": max(run["rss_growth_mib"] for run in runs),
    }


def traced(action: str, path: Path, workspace, *, collect: bool = False) -> dict:
    """The peak of Python's allocations during one plan or apply, and what is still allocated when
    its last batch is done (MiB, tracemalloc). `collect`: the cycle collector runs after each batch,
    so that the peak is what the run keeps plus one batch, not also the garbage (Django's model
    instances and DRF's serializers are reference cycles) that Python frees when it gets to it."""
    from providers.configuration.refs import RefPolicy
    from providers.configuration.services import Progress, config_apply, config_plan

    retained: list[int] = []

    class Collect(Progress):
        def advance(self, section: str, count: int) -> None:
            if collect:
                gc.collect()
            retained.append(tracemalloc.get_traced_memory()[0])

    function = config_apply if action == "apply" else config_plan
    gc.collect()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    with path.open("rb") as stream:
        function(stream, workspace_id=workspace.pk, policy=RefPolicy.command_line(None), actor=None, progress=Collect())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "peak_mib": round((peak - base) / 2**20, 2),
        "after_last_batch_mib": round((retained[-1] - base) / 2**20, 2),
    }


def export_to(path: Path, workspace) -> dict:
    from providers.configuration.export import export

    with counted() as statements:
        started = time.perf_counter()
        with path.open("w", encoding="utf-8") as handle:
            for piece in export(workspace_id=workspace.pk, workspace_name=workspace.name, secret_refs="env"):
                handle.write(piece)
        seconds = time.perf_counter() - started
    text = path.read_bytes()
    return {
        "seconds": round(seconds, 3),
        "bytes": len(text),
        "lines": text.count(b"\n"),
        "statements": statements.as_dict(),
    }


def profile(action: str, path: Path, workspace, *, limit: int = 25) -> str:
    from providers.configuration.refs import RefPolicy
    from providers.configuration.services import config_apply, config_plan

    function = config_apply if action == "apply" else config_plan
    profiler = cProfile.Profile()
    with path.open("rb") as stream:
        profiler.enable()
        function(stream, workspace_id=workspace.pk, policy=RefPolicy.command_line(None), actor=None)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative")
    stats.print_stats(limit)
    out.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def other_benchmarks() -> list[str]:
    """Other benchmark processes on the machine (they would share its 2 cores with this one)."""
    import subprocess

    found = subprocess.run(["pgrep", "-fa", r"bench\."], capture_output=True, text=True, check=False).stdout
    mine = {os.getpid(), os.getppid()}
    return [line for line in found.splitlines() if line and int(line.split()[0]) not in mine]


def new_workspace(name: str):
    from accounts.models import Workspace

    return Workspace.objects.create(name=name, display_name=name.replace("-", " ").title())


def machine(vendor: str) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        version = cursor.fetchone()[0]
    from bench.run import host

    return {
        **host(),
        "database": f"{'PostgreSQL' if vendor == 'postgresql' else 'SQLite'} {version}",
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }


def prepare_database(url: str | None, scratch: Path) -> str:
    if url is None:
        return f"sqlite:///{scratch / 'bench_config.sqlite3'}"
    if url.startswith("postgres"):
        from bench.run import recreate_database

        recreate_database(url)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--providers", type=int, help="Git providers (1,000; --quick: 100).")
    parser.add_argument("--idps", type=int, help="Identity providers (1,000; --quick: 100).")
    parser.add_argument("--mappers", type=int, default=5)
    parser.add_argument("--projects", type=int, help="Projects (default: as many as git providers).")
    parser.add_argument("--database-url", help="Default: SQLite in a temporary directory.")
    parser.add_argument("--memory-factor", type=float, default=2.0,
                        help="The memory comparison's second workspace, as a multiple of N (2; 0.25: N/4)")  # fmt: skip
    parser.add_argument("--profile", action="store_true", help="Also profile a plan and the full apply (cProfile).")
    parser.add_argument("--quick", action="store_true", help="A smoke test: 100 of each; prints, writes nothing.")
    args = parser.parse_args()
    default = 100 if args.quick else 1000
    args.providers = default if args.providers is None else args.providers
    args.idps = default if args.idps is None else args.idps
    projects = args.projects if args.projects is not None else args.providers
    started_all = time.monotonic()
    load_at_start = [round(value, 2) for value in os.getloadavg()]
    concurrent = other_benchmarks()
    if concurrent:
        print("Another benchmark is running; its figures and these would disturb each other:", *concurrent, sep="\n  ")
    scratch = Path(tempfile.mkdtemp(prefix="bench-config-"))
    from bench.run import environment

    os.environ.update(environment(prepare_database(args.database_url, scratch)))
    os.environ["DJANGO_SECRET_KEY"] = "bench-" + secrets.token_urlsafe(48)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    assert not settings.DEBUG
    call_command("migrate", verbosity=0)
    vendor = connection.vendor
    sizes = {"providers": args.providers, "identityProviders": args.idps, "projects": projects}
    print(f"{vendor}: {args.providers:,} git providers, {args.idps:,} identity providers × {args.mappers} mappers, "
          f"{projects:,} projects", flush=True)  # fmt: skip

    def seed(name: str, counts: dict[str, int]) -> tuple:
        workspace = new_workspace(name)
        seconds = build(
            workspace,
            providers=counts["providers"],
            idps=counts["identityProviders"],
            mappers=args.mappers,
            projects=counts["projects"],
            label=name,
        )
        return workspace, seconds

    results: dict = {"sizes": sizes, "mappers": args.mappers}
    source, results["floor_first"] = seed("source", sizes)
    set_secret_variables(providers=args.providers, idps=args.idps)
    file = scratch / "source.yaml"
    results["export"] = export_to(file, source)
    print(f"  export: {results['export']['seconds']} s, {results['export']['bytes']:,} bytes", flush=True)

    target = new_workspace("target")
    results["apply"] = run_config("apply", file, target, totals=sizes, label="full apply")
    print(f"  full apply: {results['apply']['seconds']} s", flush=True)
    results["plan"] = repeated("plan", file, target)
    print(f"  plan (no changes): {results['plan']['seconds_each']} s", flush=True)
    results["noop_apply"] = repeated("apply", file, target)
    print(f"  apply (no changes): {results['noop_apply']['seconds_each']} s", flush=True)
    _, results["floor_second"] = seed("floor", sizes)
    results["floor"] = {
        key: round((results["floor_first"][key] + results["floor_second"][key]) / 2, 2)
        for key in results["floor_first"]
    }

    # Memory, at N and at another size: the full apply's peak RSS growth, and tracemalloc peaks of
    # the no-change plan and apply (tracemalloc slows Python down: not in the timed runs above).
    other = {key: max(round(value * args.memory_factor), 1) for key, value in sizes.items()}
    results["other_sizes"] = other
    set_secret_variables(providers=other["providers"], idps=other["identityProviders"])
    other_source, _ = seed("memory-source", other)
    other_file = scratch / "memory.yaml"
    other_export = export_to(other_file, other_source)
    other_target = new_workspace("memory-target")
    other_apply = run_config("apply", other_file, other_target, totals=other, label="full apply, memory")

    def memory(counts, path, workspace, exported, applied) -> dict:
        return {
            "objects": sum(counts.values()),
            "file_bytes": exported["bytes"],
            "apply_seconds": applied["seconds"],
            "apply_rss_growth_mib": applied["rss_growth_mib"],
            "plan": traced("plan", path, workspace),
            "plan_collected": traced("plan", path, workspace, collect=True),
            "noop_apply": traced("apply", path, workspace),
        }

    results["memory"] = {
        "base": memory(sizes, file, target, results["export"], results["apply"]),
        "other": memory(other, other_file, other_target, other_export, other_apply),
    }
    if args.profile:
        profiled = new_workspace("profiled")
        results["profile"] = {
            "plan": profile("plan", file, target),
            "apply": profile("apply", file, profiled),
        }
    results.update(
        command="python -m bench.config " + " ".join(sys.argv[1:]),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine={**machine(vendor), "load_average_start": load_at_start},
        vendor=vendor,
        seconds=round(time.monotonic() - started_all),
        other_benchmarks=sorted(set(concurrent) | set(other_benchmarks())),
    )
    results["targets"] = judge(results)
    print()
    print("\n".join(section(results)))
    if args.profile:
        for name, text in results["profile"].items():
            print(f"\n### cProfile: {name}\n{text}")
    shutil.rmtree(scratch, ignore_errors=True)  # the files (and the SQLite database)
    if args.quick:
        return
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    stored[vendor] = {key: value for key, value in results.items() if key != "profile"}
    RESULTS.write_text(json.dumps(stored, indent=1) + "\n")
    REPORT.write_text(report(stored))
    print(f"\nWrote {RESULTS.relative_to(ROOT)} and {REPORT.relative_to(ROOT)} in {results['seconds']} s", flush=True)


def judge(results: dict) -> list[dict]:
    apply, plan, noop = results["apply"], results["plan"], results["noop_apply"]
    return [
        {
            "target": f"full apply to an empty workspace ≤ {TARGETS['apply_s']:.0f} s",
            "figure": f"{apply['seconds']:.1f} s",
            "met": apply["seconds"] <= TARGETS["apply_s"] and apply["exit_code"] == 0,
        },
        {
            "target": f"plan of the same file, no changes, ≤ {TARGETS['plan_s']:.0f} s",
            "figure": f"{plan['seconds']:.2f} s (exit code {plan['exit_code']}, "
            f"{plan['counts']['unchanged']:,} unchanged)",
            "met": plan["seconds"] <= TARGETS["plan_s"] and plan["exit_code"] == 0,
        },
        {
            "target": f"no-change apply ≤ {TARGETS['noop_apply_s']:.0f} s",
            "figure": f"{noop['seconds']:.2f} s",
            "met": noop["seconds"] <= TARGETS["noop_apply_s"],
        },
        {
            "target": "no-change apply writes nothing (INSERT/UPDATE/DELETE = 0)",
            "figure": f"{noop['statements']['writes']} writes of {noop['statements']['total']:,} statements",
            "met": noop["statements"]["writes"] == TARGETS["noop_writes"],
        },
    ]


def section(results: dict) -> list[str]:
    """One database's figures, as Markdown."""
    sizes, machine_facts = results["sizes"], results["machine"]
    apply, plan, noop, exported = results["apply"], results["plan"], results["noop_apply"], results["export"]
    floor = results["floor"]
    objects = sum(sizes.values())
    mappers = sizes["identityProviders"] * results["mappers"]
    memory = results["memory"]
    base, other = memory["base"], memory["other"]
    factor = other["objects"] / base["objects"]

    def per_object(seconds: float) -> str:
        return f"{seconds / objects * 1000:.1f} ms"

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}×" if b else "—"

    lines = [
        f"## {machine_facts['database']}",
        "",
        f"`{results['command']}`, {results['date']}; {machine_facts['cpu']}, {machine_facts['cores']} cores, "
        f"{machine_facts['memory_gib']} GiB, Python {machine_facts['python']}, {machine_facts['os']}; load average "
        f"(1, 5, 15 min) at the start {', '.join(str(v) for v in machine_facts.get('load_average_start', []))}, "
        f"at the end {', '.join(str(v) for v in machine_facts['load_average'])}; the run took {results['seconds']} s; "
        + (
            "other benchmarks ran meanwhile: " + "; ".join(results["other_benchmarks"])
            if results.get("other_benchmarks")
            else "no other benchmark ran at its start or end."
        ),
        "",
        f"The workspace: {sizes['providers']:,} git providers (token credentials), {sizes['identityProviders']:,} "
        f"identity providers with {results['mappers']} mappers each ({mappers:,} mappers; OIDC with the okta, "
        "entra_id, auth0, google, keycloak and custom presets, every fifth SAML with a signing certificate, a "
        f"domain on every third), {sizes['projects']:,} projects (nine in ten linking a git provider): "
        f"{objects:,} objects.",
        "",
        "| target | figure | verdict |",
        "|---|---|---|",
        *(f"| {t['target']} | {t['figure']} | **{'met' if t['met'] else 'not met'}** |" for t in results["targets"]),
        "",
        "| step | seconds | per object | statements (writes) | result |",
        "|---|---:|---:|---:|---|",
        f'| export (`secret_refs="env"`), to a file | {exported["seconds"]:.2f} | {per_object(exported["seconds"])} '
        f"| {exported['statements']['total']:,} (0) | {exported['bytes'] / 1024 / 1024:.2f} MiB, "
        f"{exported['lines']:,} lines |",
        f"| full apply to an empty workspace | {apply['seconds']:.2f} | {per_object(apply['seconds'])} | "
        f"{apply['statements']['total']:,} ({apply['statements']['writes']:,}) | {apply['counts']['create']:,} "
        "created |",
        f"| plan, no changes (median of {REPEATS}: {', '.join(f'{s:.2f}' for s in plan['seconds_each'])}) | "
        f"{plan['seconds']:.2f} | {per_object(plan['seconds'])} | {plan['statements']['total']:,} "
        f"({plan['statements']['writes']}) | exit code {plan['exit_code']}, {plan['counts']['unchanged']:,} "
        "unchanged |",
        f"| apply, no changes (median of {REPEATS}: {', '.join(f'{s:.2f}' for s in noop['seconds_each'])}) | "
        f"{noop['seconds']:.2f} | {per_object(noop['seconds'])} | {noop['statements']['total']:,} "
        f"({noop['statements']['writes']}) | {noop['counts']['unchanged']:,} unchanged |",
        f"| floor: the services in a loop (mean of 2: {results['floor_first']['total']:.2f}, "
        f"{results['floor_second']['total']:.2f}) | {floor['total']:.2f} | {per_object(floor['total'])} | — | "
        "same objects |",
        "",
        f"Full apply ÷ floor: **{ratio(apply['seconds'], floor['total'])}** (floor per kind: git providers "
        f"{floor['providers']:.2f} s, identity providers {floor['identityProviders']:.2f} s, projects "
        f"{floor['projects']:.2f} s). The no-change apply's statements by kind: "
        + ", ".join(f"{verb} {count:,}" for verb, count in noop["statements"]["by_verb"].items())
        + "; the full apply's: "
        + ", ".join(f"{verb} {count:,}" for verb, count in apply["statements"]["by_verb"].items())
        + ".",
        "",
        f"| memory | N | {factor:g} N | {factor:g} N ÷ N |",
        "|---|---:|---:|---:|",
        f"| objects (file size) | {base['objects']:,} ({base['file_bytes'] / 2**20:.2f} MiB) | "
        f"{other['objects']:,} ({other['file_bytes'] / 2**20:.2f} MiB) | {ratio(other['objects'], base['objects'])} |",
        *(
            f"| {label} | {base[key][part]:.1f} MiB | {other[key][part]:.1f} MiB | "
            f"{ratio(other[key][part], base[key][part])} |"
            for label, key, part in (
                ("plan, no changes: tracemalloc peak", "plan", "peak_mib"),
                ("plan, no changes: peak, cycles collected after each batch", "plan_collected", "peak_mib"),
                ("plan, no changes: held after the last batch (collected)", "plan_collected", "after_last_batch_mib"),
                ("apply, no changes: tracemalloc peak", "noop_apply", "peak_mib"),
            )
        ),
        f"| full apply: growth of the peak RSS | {base['apply_rss_growth_mib']:.1f} MiB | "
        f"{other['apply_rss_growth_mib']:.1f} MiB | "
        f"{ratio(other['apply_rss_growth_mib'], base['apply_rss_growth_mib'])} |",
        "",
    ]
    return lines


def report(stored: dict) -> str:
    lines = [
        "# Configuration as code at scale",
        "",
        "Written by `python -m bench.config` (SQLite in a temporary directory) and "
        "`python -m bench.config --database-url postgres://root@127.0.0.1:5432/bench_config`; each run "
        "replaces its database's section. What the figures mean: [benchmarks.md](benchmarks.md#configuration-as-code).",
        "",
    ]
    for vendor in ("sqlite", "postgresql"):
        if vendor in stored:
            lines += section(stored[vendor])
    return "\n".join(lines)


if __name__ == "__main__":
    from django_scopes import scopes_disabled  # as manage.py: the bench spans workspaces

    with scopes_disabled():
        main()
