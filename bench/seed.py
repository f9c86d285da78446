"""Grows the benchmark database to a given size with bulk inserts (batches, progress bar):
git providers with encrypted credentials, identity providers with mappers, projects with owners."""

import json
import sys
import time

from django.contrib.auth.models import Group
from django.db import connection, transaction

from accounts.models import User
from accounts.roles import OPERATORS
from providers import services
from providers.catalog import PROVIDER_TYPES
from providers.identity import services as identity_services
from providers.models import Credential, IdentityProvider, Project, Provider

BATCH = 5000
GIT_TYPES = ["github", "gitlab", "bitbucket", "azure-devops"]
OWNERS = 200
MAPPERS_PER_IDENTITY_PROVIDER = 5
OPERATOR = "bench-operator"  # the API token's user; the floor attributes its writes to it


def progress(label: str, done: int, total: int, started: float) -> None:
    width = 30
    filled = width * done // max(total, 1)
    rate = done / max(time.perf_counter() - started, 1e-9)
    sys.stderr.write(f"\r  {label:<22} [{'#' * filled}{'.' * (width - filled)}] {done:>9,}/{total:,} {rate:>9,.0f}/s")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def provider_id(number: int) -> str:
    return f"git-{number:07d}"


def project_id(number: int) -> str:
    return f"project-{number:07d}"


def users() -> tuple[User, list[User]]:
    operator, created = User.objects.get_or_create(username=OPERATOR, defaults={"is_staff": True})
    if created:
        operator.set_password("bench-operator-pass")
        operator.save()
        operator.groups.add(Group.objects.get(name=OPERATORS))
    missing = [User(username=f"owner-{n:04d}") for n in range(OWNERS)]
    User.objects.bulk_create(missing, ignore_conflicts=True)
    return operator, list(User.objects.filter(username__startswith="owner-").order_by("username"))


def grow_providers(target: int, operator: User) -> None:
    existing = Provider.objects.filter(provider_id__startswith="git-").count()
    started = time.perf_counter()
    secret = json.dumps({"accessToken": "bench-token-not-a-real-secret"})
    fingerprint = services.credential_fingerprint({"accessToken": "bench-token-not-a-real-secret"})
    for start in range(existing, target, BATCH):
        numbers = range(start, min(start + BATCH, target))
        with transaction.atomic():
            providers = Provider.objects.bulk_create(
                Provider(
                    provider_id=provider_id(n),
                    label=f"Git provider {n}",
                    type=GIT_TYPES[n % len(GIT_TYPES)],
                    base_url=PROVIDER_TYPES[GIT_TYPES[n % len(GIT_TYPES)]].base_url,
                    api_base_url=PROVIDER_TYPES[GIT_TYPES[n % len(GIT_TYPES)]].api_base_url,
                    created_by=operator,
                    updated_by=operator,
                )
                for n in numbers
            )
            Credential.objects.bulk_create(
                Credential(provider=p, type="token", secret=secret, fingerprint=fingerprint, updated_by=operator)
                for p in providers
            )
        progress("providers", numbers[-1] + 1 - existing, target - existing, started)


def grow_identity_providers(target: int, operator: User) -> None:
    existing = IdentityProvider.objects.count()
    started = time.perf_counter()
    for n in range(existing, target):
        identity_services.identity_provider_create(
            actor=operator,
            alias=f"idp-{n:04d}",
            display_name=f"Identity provider {n}",
            protocol="oidc",
            client_secret=f"bench-client-secret-{n}",
            data={
                "client_id": f"client-{n}",
                "issuer": f"https://sso{n}.example.com/realms/main",
                "authorization_url": f"https://sso{n}.example.com/realms/main/auth",
                "token_url": f"https://sso{n}.example.com/realms/main/token",
                "hide_on_login": n % 10 == 9,
            },
            mappers=[
                identity_services.MapperInput(
                    name=f"attribute {m}",
                    mapper_type="oidc-user-attribute-idp-mapper",
                    config={"claim": f"claim_{m}", "user_attribute": f"attribute_{m}"},
                )
                for m in range(MAPPERS_PER_IDENTITY_PROVIDER)
            ],
        )
        progress("identity providers", n + 1 - existing, target - existing, started)


def grow_projects(target: int, providers: int, owners: list[User]) -> None:
    existing = Project.objects.count()
    started = time.perf_counter()
    provider_pks = list(
        Provider.objects.filter(provider_id__startswith="git-").order_by("pk").values_list("pk", flat=True)
    )
    through = Project.owners.through
    for start in range(existing, target, BATCH):
        numbers = range(start, min(start + BATCH, target))
        with transaction.atomic():
            projects = Project.objects.bulk_create(
                Project(
                    project_id=project_id(n),
                    name=f"Project {n}",
                    provider_id=provider_pks[n % len(provider_pks)],
                    repository_path=f"team-{n % 97}/project-{n}",
                )
                for n in numbers
            )
            through.objects.bulk_create(
                through(project_id=project.pk, user_id=owners[n % len(owners)].pk)
                for n, project in zip(numbers, projects, strict=True)
            )
        progress("projects", numbers[-1] + 1 - existing, target - existing, started)


def grow(*, providers: int, projects: int, identity_providers: int) -> None:
    operator, owners = users()
    grow_providers(providers, operator)
    grow_identity_providers(identity_providers, operator)
    grow_projects(projects, providers, owners)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
