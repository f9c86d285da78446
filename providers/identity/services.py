"""Writes for identity providers: configuration, client secret, domains and their verification,
enable/disable, and mappers. Every API dialect (canonical, public list, JSON:API) and the admin
call these, so the protocol rules live here once."""

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from providers import history
from providers.catalog import (
    KNOWN_PROVIDERS,
    PROTOCOLS,
    PROVIDER_TYPES,
    identity_provider_type,
)
from providers.concurrency import check_if_match
from providers.identity import catalogue
from providers.models import IdentityProvider, IdentityProviderDomain, IdentityProviderMapper, Provider
from providers.selectors import providers_with_id_prefix
from providers.services import ConflictError, actor_user, provider_clean, provider_touch, violates
from providers.validation import MAX_JSON_DEPTH, json_depth

from .discovery import certificate_info
from .domains import DnsLookupError, txt_records
from .mappers import MapperSpec, MappingResult, apply_mappers, mapper_config_validate

SECRET_MASK = catalogue.SECRET_MASK
METADATA_MAX_BYTES = 16_384
MAX_DOMAINS = 50
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

PROVIDER_FIELDS = ("label", "description", "enabled")
# What a write may set: the settings, and the Keycloak keys kept as sent (not in the admin form).
IDENTITY_FIELDS = ("known_provider", *catalogue.SETTINGS, "keycloak_kept")
FORM_FIELDS = ("known_provider", *catalogue.SETTINGS)
# Where the client secret is sent: changing these requires sending the secret again.
SECRET_DESTINATION_FIELDS = ("token_url", "issuer")


@dataclass(frozen=True)
class MapperInput:
    name: str
    mapper_type: str
    config: dict[str, Any] = field(default_factory=dict)
    sync_mode: str = IdentityProvider.SyncMode.INHERIT


def _normalize_domains(domains: list[str]) -> list[str]:
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


def _validate_metadata(value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationError({"metadata": ["Expected a JSON object."]})
    if json_depth(value) > MAX_JSON_DEPTH:
        raise ValidationError({"metadata": [f"Nested at most {MAX_JSON_DEPTH} levels deep."]})
    if len(json.dumps(value)) > METADATA_MAX_BYTES:
        raise ValidationError({"metadata": [f"At most {METADATA_MAX_BYTES} bytes of JSON."]})


def _free_alias(name: str) -> str:
    """The name's slug, or the slug numbered with the first free number: one query for the slug and
    its numbered forms. Two writers racing for it meet at the unique constraint (409)."""
    base = slugify(name)[:56].strip("-_.") or "identity-provider"
    number = re.compile(rf"{re.escape(base)}-([0-9]+)")
    # The numbered forms are one range of the byte-order index on the id.
    numbered = providers_with_id_prefix(Provider.objects.all(), f"{base}-").order_by()
    exact = Provider.objects.filter(provider_id=base).order_by()
    taken = exact.values_list("provider_id", flat=True).union(numbered.values_list("provider_id", flat=True))
    numbers = set()
    for provider_id in taken:
        if provider_id == base:
            numbers.add(1)
        elif match := number.fullmatch(provider_id):
            numbers.add(int(match.group(1)))
    if 1 not in numbers:
        return base
    return f"{base}-{min(set(range(2, len(numbers) + 3)) - numbers)}"


def _merge_kept(stored: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """Kept Keycloak keys replace the stored ones key by key (inside `config` too), so a partial
    Keycloak-style update keeps what it does not mention."""
    merged = {**stored, **{key: value for key, value in sent.items() if key != "config"}}
    if "config" in sent:
        merged["config"] = {**stored.get("config", {}), **sent["config"]}
    return merged


def _apply_certificate(identity: IdentityProvider) -> None:
    if identity.signing_certificate:
        info = certificate_info(identity.signing_certificate)
        identity.certificate_expires_at = info.not_after
    else:
        identity.certificate_expires_at = None


def _check_protocol_fits_type(*, protocol: str, known_provider: str) -> str:
    if protocol not in PROTOCOLS:
        raise ValidationError({"protocol": [f"Not a valid choice (expected one of: {', '.join(PROTOCOLS)})."]})
    if known_provider and known_provider not in KNOWN_PROVIDERS:
        raise ValidationError({"known_provider": ["Not a known provider."]})
    provider_type = identity_provider_type(protocol=protocol, known_provider=known_provider or None)
    if protocol not in PROVIDER_TYPES[provider_type].protocols:
        raise ValidationError({"known_provider": [f"“{known_provider}” does not support {PROTOCOLS[protocol]}."]})
    return provider_type


def _mapper_clean(*, identity: IdentityProvider, mapper: MapperInput) -> IdentityProviderMapper:
    config = mapper_config_validate(mapper_type=mapper.mapper_type, config=mapper.config, protocol=identity.protocol)
    row = IdentityProviderMapper(
        identity=identity, name=mapper.name, mapper_type=mapper.mapper_type, config=config, sync_mode=mapper.sync_mode
    )
    row.full_clean(exclude=["identity"], validate_unique=False, validate_constraints=False)
    return row


def _replace_mappers(*, identity: IdentityProvider, mappers: list[MapperInput]) -> None:
    names = [mapper.name for mapper in mappers]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValidationError({"mappers": [f"Duplicate mapper name “{duplicates[0]}”."]})
    rows = []
    for index, mapper in enumerate(mappers):
        try:
            rows.append(_mapper_clean(identity=identity, mapper=mapper))
        except ValidationError as exc:
            raise ValidationError({f"mappers.{index}.{key}": value for key, value in exc.message_dict.items()}) from exc
    identity.mappers.all().delete()
    IdentityProviderMapper.objects.bulk_create(rows)


def _set_domains(*, identity: IdentityProvider, domains: list[str]) -> None:
    existing = {row.domain: row for row in identity.domains.all()}
    identity.domains.exclude(domain__in=domains).delete()
    IdentityProviderDomain.objects.bulk_create(
        [IdentityProviderDomain(identity=identity, domain=domain) for domain in domains if domain not in existing]
    )


def _refresh_status(identity: IdentityProvider) -> None:
    """Pending until every domain is verified. A status change is a change of the provider
    (its ETag and the public list's version follow `updated_at`)."""
    pending = identity.domains.filter(verified_at__isnull=True).exists()
    status = IdentityProvider.Status.PENDING if pending else IdentityProvider.Status.ACTIVE
    if status != identity.status:
        identity.status = status
        IdentityProvider.objects.filter(pk=identity.pk).update(status=status)
        provider_touch(provider_pk=identity.provider_id)


@transaction.atomic
def identity_provider_create(
    *,
    actor,
    alias: str | None,
    display_name: str,
    protocol: str,
    data: dict[str, Any] | None = None,
    client_secret: str | None = None,
    domains: list[str] | None = None,
    mappers: list[MapperInput] | None = None,
) -> Provider:
    """Create the provider row and its identity configuration, domains and mappers, all or nothing.
    Presets fill the endpoints and scope left empty; with domains the provider starts `pending`.
    Without an alias (a client that names providers by display name only) the alias is the name's
    slug, numbered when taken. A taken alias is refused by the unique constraint itself."""
    data = dict(data or {})
    unknown = set(data) - set(IDENTITY_FIELDS) - set(PROVIDER_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    known_provider = data.get("known_provider") or ""
    provider_type = _check_protocol_fits_type(protocol=protocol, known_provider=known_provider)
    if alias is None:
        alias = _free_alias(display_name)
    provider = Provider(
        provider_id=alias,
        label=display_name,
        type=provider_type,
        description=data.get("description", ""),
        enabled=data.get("enabled", True),
        created_by=actor_user(actor),
        updated_by=actor_user(actor),
    )
    provider_clean(provider)
    identity = IdentityProvider(
        protocol=protocol,
        verification_token=secrets.token_urlsafe(12),
        **{name: value for name, value in data.items() if name in IDENTITY_FIELDS},
    )
    if client_secret == SECRET_MASK:
        raise ValidationError({"client_secret": ["Send the secret itself, not the mask."]})
    if client_secret:
        identity.client_secret = client_secret
        identity.client_secret_updated_at = timezone.now()
    identity.fill_from_preset()
    _apply_certificate(identity)
    _validate_metadata(identity.metadata)
    # Its constraints repeat the field rules: internal_id is generated unique, protocol is a choice.
    # `clean()` holds the protocol rules.
    identity.full_clean(exclude=["provider"], validate_constraints=False)
    clean_domains = _normalize_domains(domains or [])
    try:
        provider.save()
    except IntegrityError as exc:
        if not violates(exc, constraint="provider_id_unique", table=Provider._meta.db_table, column="provider_id"):
            raise
        raise ConflictError(
            f"An identity provider or provider with alias “{alias}” already exists.", field="alias"
        ) from None
    identity.provider = provider
    identity.status = IdentityProvider.Status.PENDING if clean_domains else IdentityProvider.Status.ACTIVE
    if not provider.enabled:
        identity.disabled_at = timezone.now()
    identity.save()
    _set_domains(identity=identity, domains=clean_domains)
    if mappers:
        _replace_mappers(identity=identity, mappers=mappers)
    history.log_addition(actor=actor, obj=provider)
    return provider


@transaction.atomic
def identity_provider_update(
    *,
    provider: Provider,
    actor,
    data: dict[str, Any],
    client_secret: str | None = None,
    domains: list[str] | None = None,
    mappers: list[MapperInput] | None = None,
    if_match: str | None = None,
) -> Provider:
    """Apply the given fields (model names). `client_secret` None, empty or the mask keeps the
    stored secret; moving the token endpoint or issuer of a provider with a stored secret needs the
    secret again. `domains` and `mappers`, when given, replace the current lists."""
    data = dict(data)
    if "provider_id" in data and data.pop("provider_id") != provider.provider_id:
        raise ValidationError({"provider_id": ["The alias cannot be changed."]})
    if "protocol" in data and data.pop("protocol") != provider.identity.protocol:
        raise ValidationError({"protocol": ["The protocol cannot be changed; create a new identity provider."]})
    unknown = set(data) - set(IDENTITY_FIELDS) - set(PROVIDER_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})

    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    check_if_match(provider, if_match)
    identity = IdentityProvider.objects.defer("client_secret").get(provider=provider)
    before = {name: getattr(provider, name) for name in PROVIDER_FIELDS}
    before.update({name: getattr(identity, name) for name in IDENTITY_FIELDS})
    if "keycloak_kept" in data:
        data["keycloak_kept"] = _merge_kept(identity.keycloak_kept, data["keycloak_kept"])
    for name, value in data.items():
        setattr(provider if name in PROVIDER_FIELDS else identity, name, value)
    if "known_provider" in data:
        provider.type = _check_protocol_fits_type(protocol=identity.protocol, known_provider=identity.known_provider)
    identity.fill_from_preset()
    changed = [
        name
        for name in (*PROVIDER_FIELDS, *IDENTITY_FIELDS)
        if getattr(provider if name in PROVIDER_FIELDS else identity, name) != before[name]
    ]
    new_secret = client_secret not in (None, "", SECRET_MASK)
    if not new_secret and identity.client_secret_updated_at and any(n in changed for n in SECRET_DESTINATION_FIELDS):
        raise ValidationError(
            {"client_secret": ["Changing the token endpoint or issuer requires sending the client secret again."]}
        )
    if new_secret:
        identity.client_secret = client_secret
        identity.client_secret_updated_at = timezone.now()
        changed.append("client_secret")
    if "signing_certificate" in changed:
        _apply_certificate(identity)
    if "enabled" in changed:
        identity.disabled_at = None if provider.enabled else timezone.now()
    _validate_metadata(identity.metadata)
    provider_clean(provider)
    # Its constraints repeat the field rules: internal_id is generated unique, protocol is a choice.
    # `clean()` holds the protocol rules.
    identity.full_clean(exclude=["provider"], validate_constraints=False)
    if changed:
        provider.updated_by = actor_user(actor)
        provider.save()
        identity.save()
    if domains is not None:
        clean = _normalize_domains(domains)
        if clean != sorted(identity.domains.values_list("domain", flat=True)):
            _set_domains(identity=identity, domains=clean)
            _refresh_status(identity)
            changed.append("domains")
    if mappers is not None:
        _replace_mappers(identity=identity, mappers=mappers)
        changed.append("mappers")
    history.log_change(actor=actor, obj=provider, fields=[name.replace("_", " ") for name in changed])
    return provider


def identity_provider_set_enabled(*, provider: Provider, actor, enabled: bool) -> Provider:
    return identity_provider_update(provider=provider, actor=actor, data={"enabled": enabled})


@dataclass(frozen=True)
class DomainCheck:
    domain: str
    verified: bool
    detail: str


@transaction.atomic
def identity_provider_verify_domains(*, provider: Provider, actor) -> list[DomainCheck]:
    """Look up each unverified domain's TXT records for the provider's `txt_record`; the provider
    becomes `active` once every domain is verified."""
    identity = IdentityProvider.objects.select_for_update().defer("client_secret").get(provider=provider)
    expected = identity.txt_record
    results = []
    newly_verified = []
    for row in identity.domains.all():
        if row.verified_at:
            results.append(DomainCheck(row.domain, True, "Already verified."))
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
    _refresh_status(identity)
    if newly_verified:
        history.log_change(actor=actor, obj=provider, fields=["domains verified"], action="verify")
    return results


def _mapper_identity(provider: Provider) -> IdentityProvider:
    return IdentityProvider.objects.defer("client_secret").get(provider=provider)


@transaction.atomic
def mapper_create(*, provider: Provider, actor, mapper: MapperInput) -> IdentityProviderMapper:
    identity = _mapper_identity(provider)
    if identity.mappers.filter(name=mapper.name).exists():
        raise ConflictError(f"A mapper named “{mapper.name}” already exists.", field="name")
    row = _mapper_clean(identity=identity, mapper=mapper)
    row.save()
    provider_touch(provider_pk=provider.pk, actor=actor)
    history.log_change(actor=actor, obj=provider, fields=[f"mapper {mapper.name}"])
    return row


@transaction.atomic
def mapper_update(
    *, mapper: IdentityProviderMapper, actor, data: dict[str, Any], if_match: str | None = None
) -> IdentityProviderMapper:
    mapper = IdentityProviderMapper.objects.select_for_update().get(pk=mapper.pk)
    check_if_match(mapper, if_match)
    identity = mapper.identity
    merged = MapperInput(
        name=data.get("name", mapper.name),
        mapper_type=data.get("mapper_type", mapper.mapper_type),
        config=data.get("config", mapper.config),
        sync_mode=data.get("sync_mode", mapper.sync_mode),
    )
    if merged.name != mapper.name and identity.mappers.filter(name=merged.name).exists():
        raise ConflictError(f"A mapper named “{merged.name}” already exists.", field="name")
    row = _mapper_clean(identity=identity, mapper=merged)
    row.pk = mapper.pk
    row.created_at = mapper.created_at
    row.save()
    provider_touch(provider_pk=identity.provider_id, actor=actor)
    history.log_change(actor=actor, obj=identity.provider, fields=[f"mapper {row.name}"])
    return row


@transaction.atomic
def mapper_delete(*, mapper: IdentityProviderMapper, actor, if_match: str | None = None) -> None:
    mapper = IdentityProviderMapper.objects.select_for_update().get(pk=mapper.pk)
    check_if_match(mapper, if_match)
    provider = mapper.identity.provider
    name = mapper.name
    mapper.delete()
    provider_touch(provider_pk=provider.pk, actor=actor)
    history.log_change(actor=actor, obj=provider, fields=[f"mapper {name} (deleted)"])


def mappers_dry_run(*, provider: Provider, claims: dict[str, Any]) -> MappingResult:
    """Apply the provider's mappers to sample claims with the same engine a login uses; writes nothing."""
    identity = _mapper_identity(provider)
    specs = [
        MapperSpec(name=row.name, mapper_type=row.mapper_type, config=row.config, sync_mode=row.sync_mode)
        for row in identity.mappers.order_by("id")
    ]
    return apply_mappers(mappers=specs, claims=claims, alias=provider.provider_id)
