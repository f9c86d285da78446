"""Reads shared by the API and the admin. Every queryset's scoping lives here, so a tenant scope
added later touches one function per model."""

from collections import defaultdict
from datetime import timedelta
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, F, IntegerField, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast, Coalesce, Collate
from django.utils import timezone

from .models import (
    AuditEvent,
    Credential,
    CredentialVersion,
    IdentityProvider,
    IdentityProviderDomain,
    IdentityProviderMapper,
    Project,
    Provider,
)

User = get_user_model()


def count_of(model, field: str, outer: str = "pk") -> Coalesce:
    """A per-row count of `model` rows whose `field` points at the outer row, through that
    field's index: cheaper than a JOIN + GROUP BY on big tables, and 0 rather than NULL."""
    counts = (
        model.objects.filter(**{field: OuterRef(outer)})
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
    return (
        Provider.objects.select_related("credential", "created_by", "updated_by")
        .defer("credential__secret")
        .annotate(linked_projects=linked_projects_count())
    )


def provider_projects(*, provider: Provider, user, limit: int = 20) -> list[Project]:
    """The first projects (by project id) the user may see that use the provider as their git provider."""
    visible = project_list(user=user).select_related(None).prefetch_related(None)
    visible = visible.filter(provider=provider).order_by("project_id")
    return list(visible.only("pk", "project_id", "name")[:limit])


def provider_certificate(*, provider: Provider) -> dict[str, Any] | None:
    """The identity configuration's SAML signing certificate facts, or None for a provider without
    identity configuration. Never loads the encrypted client secret."""
    row = IdentityProvider.objects.filter(provider=provider).values("pk", "certificate_expires_at").first()
    return dict(row) if row else None


def provider_choices() -> QuerySet[Provider]:
    """The providers `provider_list()` offers, with only what a picker shows (id and label): an
    autocomplete sorts every match, so annotations and joins would run for all of them."""
    return Provider.objects.only("pk", "provider_id", "label")


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


def provider_get(*, provider_id: str) -> Provider | None:
    return provider_list().filter(provider_id=provider_id).first()


PROVIDER_ROW_COLUMNS = (
    "pk", "provider_id", "label", "description", "type", "base_url", "api_base_url", "enabled", "created_at",
    "updated_at", "last_tested_at", "last_test_ok", "last_test_message", "linked_projects",
)  # fmt: skip


@cache
def _provider_rows() -> QuerySet[Any, Any]:
    return provider_list().values(
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
    return _provider_rows().all()


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
    return Project.objects.values(
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
    return _projects_visible(_project_rows().all(), user=user)


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


def identity_provider_list() -> QuerySet[Provider]:
    """Providers with their identity configuration (never the encrypted client secret), domains
    and mapper count, in a fixed number of queries; cloned from a template built once per
    process (see `provider_rows`). The prefetch is attached per call: Django's prefetching writes
    into its queryset, which a shared template would then keep between requests."""
    domains = Prefetch("identity__domains", queryset=IdentityProviderDomain.objects.order_by("domain"))
    return _identity_provider_list().prefetch_related(domains)


@cache
def _identity_provider_list() -> QuerySet[Provider]:
    return (
        Provider.objects.filter(identity__isnull=False)
        .select_related("identity", "created_by")
        .defer("identity__client_secret")
        .annotate(mapper_count=count_of(IdentityProviderMapper, "identity", outer="identity"))
    )


def public_identity_providers() -> QuerySet[Provider]:
    """What a login page may offer: enabled, verified, not hidden, not link-only."""
    return (
        Provider.objects.filter(
            identity__isnull=False,
            enabled=True,
            identity__hide_on_login=False,
            identity__link_only=False,
            identity__status=IdentityProvider.Status.ACTIVE,
        )
        .select_related("identity")
        .only(
            "provider_id",
            "label",
            "enabled",
            "created_at",
            "identity__internal_id",
            "identity__protocol",
            "identity__known_provider",
        )
        .order_by("provider_id")
    )


def public_identity_providers_version() -> str:
    """Changes whenever the public list may have: every write that touches an identity provider
    moves its provider's `updated_at`, and a deletion changes the count. One aggregate over the
    (small) identity table, so each server process can check its cached list without a shared cache."""
    state = IdentityProvider.objects.aggregate(count=Count("pk"), last=Max("provider__updated_at"))
    return f"{state['count']}:{state['last'].isoformat() if state['last'] else ''}"


def identity_mappers(*, provider: Provider) -> QuerySet[IdentityProviderMapper]:
    return IdentityProviderMapper.objects.filter(identity__provider=provider).order_by("id")


def identity_admin_list() -> QuerySet[IdentityProvider]:
    """The identity-provider changelist: provider row joined, secret never loaded, mapper count."""
    return (
        IdentityProvider.objects.select_related("provider")
        .defer("client_secret")
        .annotate(mapper_count=count_of(IdentityProviderMapper, "identity"))
    )


def credential_versions(*, provider: Provider) -> QuerySet[CredentialVersion]:
    """A provider's replaced credentials, newest first, without their secrets."""
    return (
        CredentialVersion.metadata.filter(provider=provider)
        .select_related("set_by", "replaced_by")
        .order_by("-replaced_at", "-id")
    )


def credentials_expiring(*, days: int) -> QuerySet[Credential]:
    """Credentials already expired or expiring within `days`, soonest first (never the secret)."""
    return (
        Credential.metadata.filter(expires_at__lte=timezone.now() + timedelta(days=days))
        .select_related("provider")
        .order_by("expires_at", "provider__provider_id")
    )


def certificates_expiring(*, days: int) -> QuerySet[IdentityProvider]:
    """Identity providers whose SAML signing certificate expired or expires within `days`, soonest first."""
    return (
        IdentityProvider.objects.filter(certificate_expires_at__lte=timezone.now() + timedelta(days=days))
        .select_related("provider")
        .only("pk", "certificate_expires_at", "provider__provider_id")
        .order_by("certificate_expires_at", "provider__provider_id")
    )


# Credentials and certificates this close to expiry are flagged on the dashboard and provider pages.
EXPIRY_WARNING_DAYS = 30


def admin_dashboard(*, user, days: int = EXPIRY_WARNING_DAYS) -> dict[str, Any]:
    """What the admin home shows an operator, each part only to whom may see its model: providers
    by type, credentials expired or expiring within `days`, failing connection tests, identity
    providers waiting for domain verification, SAML signing certificates expired or expiring within
    `days`, the latest audit events. Metadata only."""
    panel: dict[str, Any] = {
        "days": days,
        "show_providers": user.has_perm("providers.view_provider"),
        "show_identity": user.has_perm("providers.view_identityprovider"),
        "show_events": user.has_perm("providers.view_auditevent"),
    }
    panel["visible"] = panel["show_providers"] or panel["show_identity"] or panel["show_events"]
    if panel["show_providers"]:
        panel["by_type"] = list(
            Provider.objects.order_by("type")
            .values("type")
            .annotate(total=Count("pk"), enabled=Count("pk", filter=Q(enabled=True)))
        )
        expiring = credentials_expiring(days=days)
        panel["expiring"] = list(expiring[:10])
        panel["expiring_count"] = expiring.count()
        panel["failing"] = list(
            Provider.objects.filter(last_test_ok=False)
            .order_by("-last_tested_at")
            .only("pk", "provider_id", "label", "last_tested_at", "last_test_message")[:10]
        )
    if panel["show_identity"]:
        pending = IdentityProvider.objects.filter(status=IdentityProvider.Status.PENDING)
        panel["pending"] = list(pending.select_related("provider").defer("client_secret").order_by("provider")[:10])
        panel["pending_count"] = pending.count()
        certificates = certificates_expiring(days=days)
        panel["certificates"] = list(certificates[:10])
        panel["certificates_count"] = certificates.count()
    if panel["show_events"]:
        panel["events"] = list(AuditEvent.objects.order_by("-at")[:8])
    return panel
