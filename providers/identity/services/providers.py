"""Writes for identity providers: configuration, client secret, enable/disable. Every API
dialect (canonical, public list, JSON:API) and the admin call these, so the protocol rules live
here once (with the model's `clean()`)."""

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict, Unpack

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
from providers.models import IdentityProvider, IdentityProviderMapper, Provider
from providers.selectors import providers_with_id_prefix
from providers.services import ConflictError, actor_user, provider_clean, violates
from providers.validation import MAX_JSON_DEPTH, json_depth

from ..discovery import certificates_expire_at
from ..mappers import Grantor
from .domains import normalize_domains, refresh_status, set_domains
from .mappers import MapperInput, mappers_clean

SECRET_MASK = catalogue.SECRET_MASK
METADATA_MAX_BYTES = 16_384

PROVIDER_FIELDS = ("label", "description", "enabled")
# What a write may set: the settings, and the Keycloak keys kept as sent (not in the admin form).
IDENTITY_FIELDS = ("known_provider", *catalogue.SETTINGS, "keycloak_kept")
FORM_FIELDS = ("known_provider", *catalogue.SETTINGS)
# Where the client secret is sent: changing these requires sending the secret again.
SECRET_DESTINATION_FIELDS = ("token_url", "issuer")


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


def keycloak_kept_merge(stored: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """Kept Keycloak keys replace the stored ones key by key (inside `config` too), so a partial
    Keycloak-style update keeps what it does not mention."""
    merged = {**stored, **{key: value for key, value in sent.items() if key != "config"}}
    if "config" in sent:
        merged["config"] = {**stored.get("config", {}), **sent["config"]}
    return merged


def _apply_certificate(identity: IdentityProvider) -> None:
    if identity.signing_certificate:
        identity.certificate_expires_at = certificates_expire_at(identity.signing_certificate)
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


@dataclass
class IdentityDraft:
    """A create or an update applied to unsaved instances and validated, nothing written: what the
    service then saves, and what the admin form validates with."""

    provider: Provider
    identity: IdentityProvider
    changed: list[str]
    domains: list[str] | None = None  # the new list, None when it stays
    mappers: list[IdentityProviderMapper] | None = None  # the replacing rows, None when they stay


def _check_fields(data: dict[str, Any], message: str) -> None:
    unknown = set(data) - set(IDENTITY_FIELDS) - set(PROVIDER_FIELDS)
    if unknown:
        raise ValidationError({name: [message] for name in sorted(unknown)})


def _validate(provider: Provider, identity: IdentityProvider) -> None:
    _validate_metadata(identity.metadata)
    provider_clean(provider)
    # Its constraints repeat the field rules: internal_id is generated unique, protocol is a choice.
    # `clean()` holds the protocol rules.
    identity.full_clean(exclude=["provider"], validate_constraints=False)


def identity_provider_prepare_create(
    *,
    actor,
    alias: str | None,
    display_name: str,
    protocol: str,
    data: dict[str, Any] | None = None,
    client_secret: str | None = None,
    domains: list[str] | None = None,
    mappers: list[MapperInput] | None = None,
) -> IdentityDraft:
    """Every rule of a create, on unsaved rows. Presets fill the endpoints and scope left empty;
    with domains the provider starts `pending`. Without an alias (a client that names providers by
    display name only) the alias is the name's slug, numbered when taken."""
    data = dict(data or {})
    _check_fields(data, "Unknown field.")
    known_provider = data.get("known_provider") or ""
    provider_type = _check_protocol_fits_type(protocol=protocol, known_provider=known_provider)
    provider = Provider(
        provider_id=_free_alias(display_name) if alias is None else alias,
        label=display_name,
        type=provider_type,
        description=data.get("description", ""),
        enabled=data.get("enabled", True),
        created_by=actor_user(actor),
        updated_by=actor_user(actor),
    )
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
    _validate(provider, identity)
    clean_domains = normalize_domains(domains or [])
    identity.status = IdentityProvider.Status.PENDING if clean_domains else IdentityProvider.Status.ACTIVE
    if not provider.enabled:
        identity.disabled_at = timezone.now()
    grantor = Grantor(actor, provider.workspace_id)
    rows = mappers_clean(identity=identity, mappers=mappers, grantor=grantor) if mappers else None
    return IdentityDraft(provider=provider, identity=identity, changed=[], domains=clean_domains, mappers=rows)


class CreateArguments(TypedDict):
    """The keyword arguments of `identity_provider_prepare_create` and `identity_provider_create`."""

    alias: str | None
    display_name: str
    protocol: str
    data: NotRequired[dict[str, Any] | None]
    client_secret: NotRequired[str | None]
    domains: NotRequired[list[str] | None]
    mappers: NotRequired[list[MapperInput] | None]


def alias_taken(alias: str) -> ConflictError:
    return ConflictError(f"An identity provider or provider with alias “{alias}” already exists.", field="alias")


@transaction.atomic
def identity_provider_create(*, actor, **arguments: Unpack[CreateArguments]) -> Provider:
    """Create the provider row and its identity configuration, domains and mappers, all or nothing
    (the arguments of `identity_provider_prepare_create`). A taken alias is refused by the unique
    constraint itself."""
    draft = identity_provider_prepare_create(actor=actor, **arguments)
    provider, identity = draft.provider, draft.identity
    try:
        provider.save()
    except IntegrityError as exc:
        if not violates(
            exc, constraint="provider_id_unique", table=Provider._meta.db_table, columns=("workspace_id", "provider_id")
        ):
            raise
        raise alias_taken(provider.provider_id) from None
    identity.provider = provider
    identity.save()
    set_domains(identity=identity, domains=draft.domains or [])
    if draft.mappers:
        IdentityProviderMapper.objects.bulk_create(draft.mappers)
    history.log_addition(actor=actor, obj=provider)
    return provider


def identity_provider_prepare_update(
    *,
    provider: Provider,
    identity: IdentityProvider,
    data: dict[str, Any],
    client_secret: str | None = None,
    domains: list[str] | None = None,
    mappers: list[MapperInput] | None = None,
    actor=None,
) -> IdentityDraft:
    """Every rule of an update, applied to the given rows (model names) without saving them.
    `client_secret` None, empty or the mask keeps the stored secret; moving the token endpoint or
    issuer of a provider with a stored secret needs the secret again. `domains` and `mappers`,
    when given, replace the current lists."""
    data = dict(data)
    if "provider_id" in data and data.pop("provider_id") != provider.provider_id:
        raise ValidationError({"provider_id": ["The alias cannot be changed."]})
    if "protocol" in data and data.pop("protocol") != identity.protocol:
        raise ValidationError({"protocol": ["The protocol cannot be changed; create a new identity provider."]})
    _check_fields(data, "This field cannot be changed.")
    before_provider = history.field_values(provider, PROVIDER_FIELDS)
    before_identity = history.field_values(identity, IDENTITY_FIELDS)
    if "keycloak_kept" in data:
        data["keycloak_kept"] = keycloak_kept_merge(identity.keycloak_kept, data["keycloak_kept"])
    for name, value in data.items():
        setattr(provider if name in PROVIDER_FIELDS else identity, name, value)
    if "known_provider" in data:
        provider.type = _check_protocol_fits_type(protocol=identity.protocol, known_provider=identity.known_provider)
    identity.fill_from_preset()
    changed = history.changed_fields(provider, before_provider) + history.changed_fields(identity, before_identity)
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
    _validate(provider, identity)
    draft = IdentityDraft(provider=provider, identity=identity, changed=changed)
    if domains is not None:
        clean = normalize_domains(domains)
        if clean != sorted(identity.domains.values_list("domain", flat=True)):
            draft.domains = clean
    if mappers is not None:
        draft.mappers = mappers_clean(identity=identity, mappers=mappers, grantor=Grantor(actor, provider.workspace_id))
    return draft


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
    """Apply the given fields with the rules of `identity_provider_prepare_update`, on the locked
    rows, and save what changed."""
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    check_if_match(provider, if_match)
    identity = IdentityProvider.objects.defer("client_secret").get(provider=provider)
    draft = identity_provider_prepare_update(
        provider=provider,
        identity=identity,
        data=data,
        client_secret=client_secret,
        domains=domains,
        mappers=mappers,
        actor=actor,
    )
    changed = draft.changed
    if changed:
        provider.updated_by = actor_user(actor)
        provider.save()
        identity.save()
    if draft.domains is not None:
        set_domains(identity=identity, domains=draft.domains)
        refresh_status(identity)
        changed.append("domains")
    if draft.mappers is not None:
        identity.mappers.all().delete()
        IdentityProviderMapper.objects.bulk_create(draft.mappers)
        changed.append("mappers")
    history.log_change(actor=actor, obj=provider, fields=[name.replace("_", " ") for name in changed])
    return provider


def identity_provider_set_enabled(*, provider: Provider, actor, enabled: bool) -> Provider:
    return identity_provider_update(provider=provider, actor=actor, data={"enabled": enabled})
