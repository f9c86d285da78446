"""The reads of configuration as code: a workspace's git providers, identity providers and
projects in the file's order (byte order of their key, on every database), each with what the
file says of it and no secret column, read in chunks. Each read names its workspace explicitly: a
command has no request scope to limit it."""

from django.db import connection
from django.db.models import F, Prefetch, QuerySet, TextField
from django.db.models.functions import Cast, Collate

from providers.models import IdentityProvider, IdentityProviderDomain, IdentityProviderMapper, Project, Provider
from providers.selectors import provider_id_key

CHUNK = 500


def _byte_order(field: str):
    if connection.vendor == "postgresql":
        return Collate(Cast(field, TextField()), "C")
    return F(field)


def config_providers(*, workspace_id: int) -> QuerySet[Provider]:
    """Git providers (every provider without identity configuration) with their credentials'
    metadata, by id."""
    return (
        Provider._base_manager.filter(workspace_id=workspace_id, identity__isnull=True)
        .select_related("credential")
        .defer("credential__secret")
        .alias(id_key=provider_id_key())
        .order_by("id_key")
    )


def config_identity_providers(*, workspace_id: int) -> QuerySet[Provider]:
    """Identity providers with their configuration (never the encrypted columns), domains and
    mappers in the order they apply, by alias."""
    return (
        Provider._base_manager.filter(workspace_id=workspace_id, identity__isnull=False)
        .select_related("identity")
        .defer(*(f"identity__{name}" for name in IdentityProvider.SECRET_COLUMNS))
        .prefetch_related(
            Prefetch("identity__domains", queryset=IdentityProviderDomain._base_manager.order_by("domain")),
            Prefetch("identity__mappers", queryset=IdentityProviderMapper._base_manager.order_by("id")),
        )
        .alias(id_key=provider_id_key())
        .order_by("id_key")
    )


def config_projects(*, workspace_id: int) -> QuerySet[Project]:
    """Projects with their git provider's id, by id."""
    return (
        Project._base_manager.filter(workspace_id=workspace_id)
        .annotate(provider_key=F("provider__provider_id"))
        .alias(id_key=_byte_order("project_id"))
        .order_by("id_key")
    )


def client_secrets(*, workspace_id: int, aliases: list[str]) -> dict[str, str]:
    """The stored client secret of these identity providers (decrypted: for the plan's comparison
    with a file's reference only, never shown), by alias."""
    rows = IdentityProvider._base_manager.filter(
        provider__workspace_id=workspace_id, provider__provider_id__in=aliases
    ).values_list("provider__provider_id", "client_secret")
    return {alias: secret for alias, secret in rows if secret}


def managed_keys(*, workspace_id: int, managed_by: str) -> dict[str, list[tuple[str, int]]]:
    """The keys (and primary keys) of what `managed_by` manages, by section."""
    providers = Provider._base_manager.filter(workspace_id=workspace_id, managed_by=managed_by).alias(
        id_key=provider_id_key()
    )
    return {
        "providers": list(providers.filter(identity__isnull=True).order_by("id_key").values_list("provider_id", "pk")),
        "identityProviders": list(
            providers.filter(identity__isnull=False).order_by("id_key").values_list("provider_id", "pk")
        ),
        "projects": list(
            Project._base_manager.filter(workspace_id=workspace_id, managed_by=managed_by)
            .alias(id_key=_byte_order("project_id"))
            .order_by("id_key")
            .values_list("project_id", "pk")
        ),
    }
