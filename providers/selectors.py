"""Reads shared by the API and the admin. Every queryset's scoping lives here, so a tenant scope
added later touches one function per model."""

from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, Max, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .models import (
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


def provider_get(*, provider_id: str) -> Provider | None:
    return provider_list().filter(provider_id=provider_id).first()


def can_manage_all_projects(user) -> bool:
    return user.has_perm("providers.manage_all_projects")


def project_list(*, user) -> QuerySet[Project]:
    """Projects the user may see: all for operators, their own for project owners."""
    queryset = Project.objects.select_related("provider").prefetch_related(
        Prefetch("owners", queryset=User.objects.only("id", "username"))
    )
    if can_manage_all_projects(user):
        return queryset
    return queryset.filter(owners=user)


def identity_provider_list() -> QuerySet[Provider]:
    """Providers with their identity configuration (never the encrypted client secret), domains
    and mapper count, in a fixed number of queries."""
    return (
        Provider.objects.filter(identity__isnull=False)
        .select_related("identity", "created_by")
        .defer("identity__client_secret")
        .prefetch_related(Prefetch("identity__domains", queryset=IdentityProviderDomain.objects.order_by("domain")))
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
