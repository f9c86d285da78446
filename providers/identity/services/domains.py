"""Writes for an identity provider's domains: the names it serves, and their verification by a
DNS TXT record (`providers.identity.domains` does the lookup). Pending until all are verified."""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Workspace
from providers import history
from providers.models import IdentityProvider, IdentityProviderDomain, Provider
from providers.services import provider_touch

from ..domains import DnsLookupError, txt_records

MAX_DOMAINS = 50
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalize_domains(domains: list[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in domains:
        domain = raw.strip().lower().rstrip(".") if isinstance(raw, str) else ""
        if not DOMAIN_RE.match(domain):
            raise ValidationError({"domains": [f"“{str(raw)[:100]}” is not a valid domain name."]})
        if domain not in cleaned:
            cleaned.append(domain)
    if len(cleaned) > MAX_DOMAINS:
        raise ValidationError({"domains": [f"At most {MAX_DOMAINS} domains."]})
    return cleaned


def set_domains(*, identity: IdentityProvider, domains: list[str]) -> None:
    existing = {row.domain: row for row in identity.domains.all()}
    identity.domains.exclude(domain__in=domains).delete()
    IdentityProviderDomain.objects.bulk_create(
        [IdentityProviderDomain(identity=identity, domain=domain) for domain in domains if domain not in existing]
    )


def refresh_status(identity: IdentityProvider) -> None:
    """Pending until every domain is verified. A status change is a change of the provider
    (its ETag and the public list's version follow `updated_at`)."""
    pending = identity.domains.filter(verified_at__isnull=True).exists()
    status = IdentityProvider.Status.PENDING if pending else IdentityProvider.Status.ACTIVE
    if status != identity.status:
        identity.status = status
        IdentityProvider.objects.filter(pk=identity.pk).update(status=status)
        provider_touch(provider_pk=identity.provider_id)


@dataclass(frozen=True)
class DomainCheck:
    domain: str
    verified: bool
    detail: str


def _verified_elsewhere(identity: IdentityProvider, workspace_id: int) -> dict[str, str]:
    """Domain → alias of the other identity provider of the workspace that has verified it."""
    rows = (
        IdentityProviderDomain.objects.filter(
            identity__provider__workspace_id=workspace_id,
            verified_at__isnull=False,
            domain__in=identity.domains.filter(verified_at__isnull=True).values("domain"),
        )
        .exclude(identity=identity)
        .values_list("domain", "identity__provider__provider_id")
    )
    return dict(rows)


@transaction.atomic
def identity_provider_verify_domains(*, provider: Provider, actor) -> list[DomainCheck]:
    """Look up each unverified domain's TXT records for the provider's `txt_record`; the provider
    becomes `active` once every domain is verified. A domain another identity provider of the same
    workspace has verified is not verified again: home-realm discovery needs one answer per domain.
    The workspace row is locked so two providers cannot verify one domain at the same time."""
    workspace_id = (
        Workspace.objects.select_for_update(of=("self",)).values_list("pk", flat=True).get(providers=provider)
    )
    identity = IdentityProvider.objects.select_for_update().defer("client_secret").get(provider=provider)
    expected = identity.txt_record
    claimed = _verified_elsewhere(identity, workspace_id)
    results = []
    newly_verified = []
    for row in identity.domains.all():
        if row.verified_at:
            results.append(DomainCheck(row.domain, True, "Already verified."))
            continue
        if row.domain in claimed:
            detail = f"Already verified by identity provider “{claimed[row.domain]}” of this workspace."
            results.append(DomainCheck(row.domain, False, detail))
            continue
        try:
            found = expected in txt_records(row.domain)
        except DnsLookupError as exc:
            results.append(DomainCheck(row.domain, False, str(exc)))
            continue
        if found:
            row.verified_at = timezone.now()
            row.save(update_fields=["verified_at"])
            newly_verified.append(row.domain)
            results.append(DomainCheck(row.domain, True, "TXT record found."))
        else:
            results.append(DomainCheck(row.domain, False, f"No TXT record “{expected}” found."))
    refresh_status(identity)
    if newly_verified:
        history.log_change(actor=actor, obj=provider, fields=["domains verified"], action="verify")
    return results
