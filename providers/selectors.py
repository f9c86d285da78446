"""Reads shared by the API and the admin. Querysets come from the models' workspace-scoped
managers (`accounts.scoping`); the templates built once per process are built without a scope,
from `_base_manager`, and scoped on each call with `scoped()`."""

import re
from collections import defaultdict
from datetime import timedelta
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.db.models import (
    BooleanField,
    Count,
    F,
    Func,
    IntegerField,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Collate
from django.utils import timezone

from accounts.scoping import current_single_workspace, scoped

from .models import (
    Credential,
    CredentialVersion,
    Project,
    Provider,
)

User = get_user_model()


def count_of(model, field: str, outer: str = "pk") -> Coalesce:
    """A per-row count of `model` rows whose `field` points at the outer row, through that
    field's index: cheaper than a JOIN + GROUP BY on big tables, and 0 rather than NULL. Not
    scoped itself: the outer row is, and what points at it is of its workspace."""
    counts = (
        model._base_manager.filter(**{field: OuterRef(outer)})
        .order_by()
        .values(field)
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def linked_projects_count() -> Coalesce:
    return count_of(Project, "provider")


def provider_list() -> QuerySet[Provider]:
    """Providers with their credential metadata (never the encrypted column) and linked-project count."""
    return _provider_list(Provider.objects)


def _provider_list(providers) -> QuerySet[Provider]:
    return (
        providers.select_related("credential", "created_by", "updated_by")
        .defer("credential__secret")
        .annotate(linked_projects=linked_projects_count())
    )


def provider_projects(*, provider: Provider, user, limit: int = 20) -> list[Project]:
    """The first projects (by project id) the user may see that use the provider as their git provider."""
    visible = project_list(user=user).select_related(None).prefetch_related(None)
    visible = visible.filter(provider=provider).order_by("project_id")
    return list(visible.only("pk", "project_id", "name")[:limit])


def provider_choices() -> QuerySet[Provider]:
    """The providers `provider_list()` offers, with only what a picker shows (id and label): an
    autocomplete sorts every match, so annotations and joins would run for all of them."""
    return Provider.objects.only("pk", "provider_id", "label")


def provider_id_taken(provider_id: str) -> bool:
    """Whether a provider (git or identity) has this id: for forms that say so before saving; the
    unique constraint is the guard."""
    return Provider.objects.filter(provider_id=provider_id).exists()


def provider_id_key():
    """The provider id compared byte by byte (collation "C" on PostgreSQL, SQLite's default), so
    that ids with a given prefix form one range of an index (migration 0010)."""
    if connection.vendor == "postgresql":
        return Collate(Cast("provider_id", TextField()), "C")
    return F("provider_id")


def _id_prefix_range(prefix: str) -> Q:
    """Ids starting with `prefix`, as a range of `provider_id_key()` (aliased `id_key`)."""
    return Q(id_key__gte=prefix, id_key__lt=prefix[:-1] + chr(ord(prefix[-1]) + 1))


def providers_with_id_prefix(queryset: QuerySet[Provider], prefix: str) -> QuerySet[Provider]:
    """The providers of `queryset` whose id starts with `prefix` (case-sensitive), in byte order
    of the id: one index range, read only as far as the slice taken, however many match."""
    return queryset.alias(id_key=provider_id_key()).filter(_id_prefix_range(prefix)).order_by("id_key")


def providers_without_id_prefix(queryset: QuerySet[Provider], prefix: str) -> QuerySet[Provider]:
    """`queryset` less what `providers_with_id_prefix` gives, in its own order."""
    return queryset.alias(id_key=provider_id_key()).exclude(_id_prefix_range(prefix))


# The columns each workspace search index holds (migration 0021), in its order.
SEARCH_COLUMNS = {Provider: ("provider_id", "label"), Project: ("project_id", "name")}
# A run of three word characters: a term without one has no trigram to look up.
TRIGRAM_RUN = re.compile(r"[^\W_]{3}")


class _Holds(Func):
    arg_joiner = " @> "
    template = "%(expressions)s"
    output_field = BooleanField()


@cache
def _workspace_search_indexed(alias: str) -> bool:
    """Whether migration 0021 made the workspace search functions here (not without pg_trgm)."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT to_regprocedure('providers_search_query(bigint, text)') IS NOT NULL")
        return bool(cursor.fetchone()[0])


def workspace_search(queryset: QuerySet, term: str, *, model: type[Model] = Provider, through: str = "") -> QuerySet:
    """`queryset`, already searched for `term` (`icontains` on the `SEARCH_COLUMNS` of `model`, reached
    from the queryset's rows through `through`, e.g. "provider__"), narrowed to the rows of the
    workspace search index (migration 0021) whose trigrams include every trigram of the term, so
    that a search within one workspace reads that workspace's index entries only: through the
    trigram index of every workspace, "project-0005000" read 3,161 index pages at 100 workspaces
    against 61 for the workspace alone. A row that contains the term in one of the two columns
    holds all its trigrams, so the narrowing drops no match; the search's own conditions still
    decide. Unchanged over several or every workspace, on SQLite, and for a term without three
    word characters in a row (nothing to look up)."""
    workspace = current_single_workspace()
    if (
        workspace is None
        or connections[queryset.db].vendor != "postgresql"
        or not TRIGRAM_RUN.search(term)
        or not _workspace_search_indexed(queryset.db)
    ):
        return queryset
    columns = [F(f"{through}workspace"), *(F(f"{through}{name}") for name in SEARCH_COLUMNS[model])]
    row = Func(*columns, function="providers_search_trigrams", output_field=TextField())
    wanted = Func(Value(workspace), Value(term), function="providers_search_query", output_field=TextField())
    return queryset.filter(_Holds(row, wanted))


PROVIDER_ROW_COLUMNS = (
    "pk", "provider_id", "label", "description", "type", "base_url", "api_base_url", "enabled", "created_at",
    "updated_at", "last_tested_at", "last_test_ok", "last_test_message", "linked_projects",
)  # fmt: skip


@cache
def _provider_rows() -> QuerySet[Any, Any]:
    return _provider_list(Provider._base_manager).values(
        *PROVIDER_ROW_COLUMNS,
        created_by_name=F("created_by__username"),
        updated_by_name=F("updated_by__username"),
        credential_type=F("credential__type"),
        credential_fingerprint=F("credential__fingerprint"),
        credential_updated_at=F("credential__updated_at"),
        credential_expires_at=F("credential__expires_at"),
    )


def provider_rows() -> QuerySet[Any, Any]:
    """`provider_list()` as plain rows, one query, no model instances (a third of a list's cost):
    what the API's reads render. Credential columns are None when there are no credentials.

    Built once per process and cloned (never evaluated itself): resolving the joins, the count
    subquery and the named columns cost ~0.9 ms per request, as much as running the query."""
    return scoped(_provider_rows().all())


def can_manage_all_projects(user) -> bool:
    return user.has_perm("providers.manage_all_projects")


def project_list(*, user) -> QuerySet[Project]:
    """Projects the user may see: all for operators, their own for project owners."""
    queryset = Project.objects.select_related("provider").prefetch_related(
        Prefetch("owners", queryset=User.objects.only("id", "username").order_by("username"))
    )
    return _projects_visible(queryset, user=user)


def _projects_visible(queryset: QuerySet, *, user) -> QuerySet:
    """The one rule for which projects a user may see."""
    return queryset if can_manage_all_projects(user) else queryset.filter(owners=user)


@cache
def _project_rows() -> QuerySet[Any, Any]:
    return Project._base_manager.values(
        "pk",
        "project_id",
        "name",
        "description",
        "repository_path",
        "created_at",
        "updated_at",
        provider_key=F("provider__provider_id"),
    )


def project_rows(*, user) -> QuerySet[Any, Any]:
    """The projects `project_list()` gives the user, as plain rows built from a template made once
    per process (see `provider_rows`); `with_owners` adds the owners."""
    return _projects_visible(scoped(_project_rows().all()), user=user)


@cache
def _owner_names() -> QuerySet[Any, Any]:
    return Project.owners.through.objects.order_by("user__username").values_list("project_id", "user__username")


def with_owners(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row gets `owners`, its owners' user names in order, from one query for all rows."""
    names: dict[Any, list[str]] = defaultdict(list)
    for project_pk, username in _owner_names().filter(project_id__in=[row["pk"] for row in rows]):
        names[project_pk].append(username)
    for row in rows:
        row["owners"] = names[row["pk"]]
    return rows


def credential_versions(*, provider: Provider) -> QuerySet[CredentialVersion]:
    """A provider's replaced credentials, newest first, without their secrets."""
    return (
        scoped(CredentialVersion.metadata.filter(provider=provider), "provider__workspace")
        .select_related("set_by", "replaced_by")
        .order_by("-replaced_at", "-id")
    )


def credentials_expiring(*, days: int) -> QuerySet[Credential]:
    """Credentials already expired or expiring within `days`, soonest first (never the secret)."""
    return (
        scoped(Credential.metadata.filter(expires_at__lte=timezone.now() + timedelta(days=days)), "provider__workspace")
        .select_related("provider")
        .order_by("expires_at", "provider__provider_id")
    )


# Credentials and certificates this close to expiry are flagged on the dashboard and provider pages.
EXPIRY_WARNING_DAYS = 30
