"""Reads of identity providers shared by the API dialects, the admin and the login list: the
scoped querysets, with the encrypted client secret never loaded."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce, Least
from django.urls import reverse
from django.utils import timezone

from accounts.models import DEFAULT_WORKSPACE_ID
from accounts.scoping import scoped
from providers.catalog import SAML
from providers.identity.discovery import certificate_info
from providers.models import (
    FederatedIdentity,
    IdentityProvider,
    IdentityProviderDomain,
    IdentityProviderMapper,
    Provider,
)
from providers.selectors import count_of

SP_KEY_ROLES = ("current", "next", "previous")


@dataclass(frozen=True)
class SpCertificate:
    """One of this registry's SAML SP certificates, as reads show it: public, the private key it
    pairs with never read."""

    certificate: str
    fingerprint_sha256: str
    subject: str
    not_before: datetime
    not_after: datetime


def sp_key_certificates(*, provider: Provider) -> dict[str, SpCertificate | None]:
    """The SP certificates of a SAML identity provider by role: `current` (signs and decrypts),
    `next` (published, decrypts, signs once activated), `previous` (only decrypts, until forgotten);
    None where there is none. Reads the certificate columns alone, never an encrypted key. A
    ValidationError on `protocol` for an identity provider that does not sign in with SAML."""
    row = (
        IdentityProvider.objects.filter(provider=provider)
        .only("pk", "protocol", "sp_certificate", "sp_next_certificate", "sp_previous_certificate")
        .get()
    )
    if row.protocol != SAML:
        raise ValidationError({"protocol": ["Only a SAML identity provider has SP keys."]})
    pems = {"current": row.sp_certificate, "next": row.sp_next_certificate, "previous": row.sp_previous_certificate}
    result: dict[str, SpCertificate | None] = {}
    for role in SP_KEY_ROLES:
        pem = pems[role]
        info = certificate_info(pem) if pem else None
        result[role] = (
            SpCertificate(pem, info.fingerprint_sha256, info.subject, info.not_before, info.not_after) if info else None
        )
    return result


def provider_certificate(*, provider: Provider) -> dict[str, Any] | None:
    """The identity configuration's SAML signing certificate facts, or None for a provider without
    identity configuration. Never loads the encrypted client secret."""
    row = IdentityProvider.objects.filter(provider=provider).values("pk", "certificate_expires_at").first()
    return dict(row) if row else None


def identity_provider_list() -> QuerySet[Provider]:
    """Providers with their identity configuration (never the encrypted client secret), domains
    and mapper count, in a fixed number of queries; cloned from a template built once per
    process without a scope and scoped per call (see `provider_rows`). The prefetch is attached
    per call: Django's prefetching writes into its queryset, which a shared template would then
    keep between requests."""
    return scoped(_identity_provider_list().prefetch_related(_domains()))


@cache
def _identity_provider_list() -> QuerySet[Provider]:
    return (
        Provider._base_manager.filter(identity__isnull=False)
        .select_related("identity", "created_by", "workspace")
        .defer(*(f"identity__{name}" for name in IdentityProvider.SECRET_COLUMNS))
        .annotate(mapper_count=count_of(IdentityProviderMapper, "identity", outer="identity"))
    )


def identity_provider_read() -> QuerySet[Provider]:
    """Identity providers as the read of one shows them (the canonical body and Keycloak's
    representation): the provider's columns these reads show, its identity configuration (never
    the encrypted client secret), the mapper count and the domains, in two queries. Unlike
    `identity_provider_list`, no creator and none of the git columns: a read of one provider
    spends as long building its statement as running it, and that grows with every column. Cloned
    from a template built once per process, the prefetch attached per call (see
    `identity_provider_list`)."""
    return scoped(_identity_provider_read().prefetch_related(_domains()))


@cache
def _identity_provider_read() -> QuerySet[Provider]:
    identity_columns = [
        f"identity__{f.name}"
        for f in IdentityProvider._meta.concrete_fields
        if f.name not in IdentityProvider.SECRET_COLUMNS
    ]
    return (
        Provider._base_manager.filter(identity__isnull=False)
        .select_related("identity", "workspace")
        .only(
            "provider_id",
            "label",
            "description",
            "enabled",
            "created_at",
            "updated_at",
            "workspace__name",
            *identity_columns,
        )
        .annotate(mapper_count=count_of(IdentityProviderMapper, "identity", outer="identity"))
    )


def _domains() -> Prefetch:
    return Prefetch("identity__domains", queryset=IdentityProviderDomain.objects.order_by("domain"))


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


def identity_mapper_rows(*, alias: str) -> QuerySet[Any, Any]:
    """The mappers of the identity provider with this alias, by id, as plain rows (what the mapper
    list renders), joined on the alias in one query rather than read after a lookup of the provider;
    cloned from a template built once per process. Empty for an alias no identity provider has,
    too: a caller that must tell the two apart looks the provider up when there are no rows."""
    return scoped(_identity_mapper_rows(), "identity__provider__workspace").filter(
        identity__provider__provider_id=alias
    )


@cache
def _identity_mapper_rows() -> QuerySet[Any, Any]:
    return IdentityProviderMapper._base_manager.order_by("id").values(
        "pk", "name", "mapper_type", "sync_mode", "config", "created_at", "updated_at"
    )


def identity_admin_list() -> QuerySet[IdentityProvider]:
    """The identity-provider changelist: provider row joined, secret never loaded, mapper count."""
    return (
        IdentityProvider.objects.select_related("provider")
        .defer(*IdentityProvider.SECRET_COLUMNS)
        .annotate(mapper_count=count_of(IdentityProviderMapper, "identity"))
    )


def certificates_expiring(*, days: int) -> QuerySet[IdentityProvider]:
    """SAML identity providers whose signing certificate (the provider's) or service provider
    certificate (this registry's, for it) expired or expires within `days`, soonest first; each
    with `expires_at`, the sooner of the two, and `sp_expires_first` when it is this registry's."""
    limit = timezone.now() + timedelta(days=days)
    return (
        IdentityProvider.objects.filter(Q(certificate_expires_at__lte=limit) | Q(sp_certificate_expires_at__lte=limit))
        .annotate(
            expires_at=Least(
                Coalesce("certificate_expires_at", "sp_certificate_expires_at"),
                Coalesce("sp_certificate_expires_at", "certificate_expires_at"),
            )
        )
        .select_related("provider")
        .only("pk", "certificate_expires_at", "sp_certificate_expires_at", "provider__provider_id")
        .order_by("expires_at", "provider__provider_id")
    )


def saml_metadata_refresh_targets(
    *, alias: str | None = None, workspace: str | None = None
) -> QuerySet[IdentityProvider]:
    """The SAML identity providers a metadata refresh goes through (`manage.py refresh_idp_metadata`):
    every one with a metadata URL, or those with the alias `alias` whether they have one or not (so
    the refresh can say why it cannot); in the workspace named `workspace` when given. Ordered by
    workspace and alias, the secrets never loaded."""
    rows = (
        IdentityProvider.objects.filter(protocol=SAML)
        .select_related("provider__workspace")
        .defer(*IdentityProvider.SECRET_COLUMNS)
    )
    rows = rows.filter(provider__provider_id=alias) if alias is not None else rows.exclude(metadata_url="")
    if workspace is not None:
        rows = rows.filter(provider__workspace__name=workspace)
    return rows.order_by("provider__workspace__name", "provider__provider_id")


def identity_for_login(*, workspace_name: str, alias: str) -> IdentityProvider | None:
    """The identity provider a login goes through, found by its workspace's name and its alias in
    one query (the login's URL names both; the caller then acts within that workspace), with its
    provider row, its workspace and its client secret (the code exchange needs it); hidden and
    disabled ones too, for the caller to refuse."""
    return (
        IdentityProvider._base_manager.select_related("provider__workspace")
        .filter(provider__workspace__name=workspace_name, provider__provider_id=alias)
        .first()
    )


def login_buttons() -> list[tuple[str, str]]:
    """(alias, name) of each button of the login page: the public list's, in its order."""
    rows = public_identity_providers().values_list("provider_id", "label")
    return [(alias, label or alias) for alias, label in rows]


def default_alias() -> str | None:
    """The identity provider the login page sends the browser to (`authenticateByDefault`)."""
    return (
        _usable()
        .filter(authenticate_by_default=True)
        .order_by("provider__provider_id")
        .values_list("provider__provider_id", flat=True)
        .first()
    )


def has_verified_domains() -> bool:
    """Whether the login page offers home-realm discovery (an email box)."""
    return IdentityProviderDomain.objects.filter(verified_at__isnull=False, identity__in=_usable()).exists()


def alias_for_email(email: str) -> str | None:
    """The identity provider whose verified domain is the address's (home-realm discovery)."""
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return None
    return (
        _usable()
        .filter(domains__domain=domain, domains__verified_at__isnull=False)
        .order_by("provider__provider_id")
        .values_list("provider__provider_id", flat=True)
        .first()
    )


def _usable() -> QuerySet[IdentityProvider]:
    return IdentityProvider.objects.filter(provider__enabled=True, status=IdentityProvider.Status.ACTIVE)


def linked_identities(*, user) -> QuerySet[FederatedIdentity]:
    """A user's federated identities in every workspace, for their linked accounts page."""
    return (
        FederatedIdentity.objects.filter(user=user)
        .select_related("identity__provider__workspace")
        .defer("token", *(f"identity__{name}" for name in IdentityProvider.SECRET_COLUMNS))
        .order_by("identity__provider__workspace__name", "identity__provider__provider_id")
    )


def linkable_providers(*, user) -> list[tuple[str, str, str]]:
    """(workspace name, alias, name) of the providers a user may link: the login page's buttons of
    the default workspace and of the workspaces the user has linked accounts in, less those linked."""
    rows = _linkable(user=user).values_list("provider__workspace__name", "provider__provider_id", "provider__label")
    return [(workspace, alias, label or alias) for workspace, alias, label in rows]


def linkable_form_targets(*, user) -> list[tuple[str, str]]:
    """(stored endpoint URL, issuer) of each provider a user may link: where the "Link …" forms of
    the linked accounts page lead (`providers.signin.csp`)."""
    return _form_targets(_linkable(user=user))


def discovery_form_targets() -> list[tuple[str, str]]:
    """(stored endpoint URL, issuer) of each provider home-realm discovery may send an email to:
    where the login page's email box leads (`providers.signin.csp`)."""
    return _form_targets(_usable().filter(domains__verified_at__isnull=False).distinct())


def _form_targets(identities: QuerySet[IdentityProvider]) -> list[tuple[str, str]]:
    """Where a login through each leads the browser: the authorization URL (or the issuer, whose
    discovery gives it), or a SAML provider's SSO URL."""
    rows = identities.values_list("protocol", "authorization_url", "issuer", "single_sign_on_service_url")
    return [(sso, "") if protocol == SAML else (authorization, issuer) for protocol, authorization, issuer, sso in rows]


def _linkable(*, user) -> QuerySet[IdentityProvider]:
    workspaces = {
        DEFAULT_WORKSPACE_ID,
        *FederatedIdentity.objects.filter(user=user).values_list("identity__provider__workspace", flat=True),
    }
    linked = set(FederatedIdentity.objects.filter(user=user).values_list("identity", flat=True))
    return (
        IdentityProvider.objects.filter(
            provider__workspace__in=workspaces,
            provider__enabled=True,
            status=IdentityProvider.Status.ACTIVE,
            hide_on_login=False,
        )
        .exclude(pk__in=linked)
        .order_by("provider__workspace__name", "provider__provider_id")
    )


def redirect_path(*, provider: Provider) -> str:
    """The path of the sign-in callback an operator registers at the provider (the redirect URI,
    made absolute with the request's host; a SAML provider's Assertion Consumer Service). The
    reads select the workspace's name with the provider, so this costs no query."""
    if provider.identity.protocol == SAML:
        return reverse("signin:saml_acs", args=[provider.workspace.name, provider.provider_id])
    return reverse("signin:callback", args=[provider.workspace.name, provider.provider_id])


def saml_metadata_path(identity: IdentityProvider) -> str:
    """Where the service provider's metadata for this SAML identity provider is served."""
    return reverse("signin:saml_metadata", args=[identity.provider.workspace.name, identity.provider.provider_id])


def saml_acs_path(identity: IdentityProvider) -> str:
    """The Assertion Consumer Service URL's path (HTTP-POST) the provider sends its Response to."""
    return reverse("signin:saml_acs", args=[identity.provider.workspace.name, identity.provider.provider_id])


def saml_sls_path(identity: IdentityProvider) -> str:
    """The Single Logout Service URL's path (HTTP-Redirect) the provider answers a logout at."""
    return reverse("signin:saml_sls", args=[identity.provider.workspace.name, identity.provider.provider_id])


def saml_sp_entity_id(identity: IdentityProvider, request) -> str:
    """The service provider's entity ID at this identity provider: the one set, else the metadata URL."""
    return identity.sp_entity_id or request.build_absolute_uri(saml_metadata_path(identity))
