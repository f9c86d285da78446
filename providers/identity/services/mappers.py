"""Writes for an identity provider's mappers: each checked against its type's config keys
(`providers.identity.mappers`), with the provider's history and ETag following."""

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import DEFAULT_WORKSPACE_ID
from providers import history
from providers.concurrency import check_if_match
from providers.models import IdentityProvider, IdentityProviderMapper, Provider
from providers.services import ConflictError, provider_touch

from ..mappers import Grantor, mapper_config_validate
from ..mapping import MapperSpec, MappingResult, apply_mappers


@dataclass(frozen=True)
class MapperInput:
    name: str
    mapper_type: str
    config: dict[str, Any] = field(default_factory=dict)
    sync_mode: str = IdentityProvider.SyncMode.INHERIT


def mapper_clean(*, identity: IdentityProvider, mapper: MapperInput, grantor: Grantor) -> IdentityProviderMapper:
    """The mapper's row, checked (its config by its type's rules; a global group only as `grantor`
    may grant it), not saved."""
    config = mapper_config_validate(
        mapper_type=mapper.mapper_type, config=mapper.config, protocol=identity.protocol, grantor=grantor
    )
    row = IdentityProviderMapper(
        identity=identity, name=mapper.name, mapper_type=mapper.mapper_type, config=config, sync_mode=mapper.sync_mode
    )
    row.full_clean(exclude=["identity"], validate_unique=False, validate_constraints=False)
    return row


def mappers_clean(
    *, identity: IdentityProvider, mappers: list[MapperInput], grantor: Grantor
) -> list[IdentityProviderMapper]:
    names = [mapper.name for mapper in mappers]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValidationError({"mappers": [f"Duplicate mapper name “{duplicates[0]}”."]})
    rows = []
    for index, mapper in enumerate(mappers):
        try:
            rows.append(mapper_clean(identity=identity, mapper=mapper, grantor=grantor))
        except ValidationError as exc:
            raise ValidationError({f"mappers.{index}.{key}": value for key, value in exc.message_dict.items()}) from exc
    return rows


def _mapper_identity(provider: Provider) -> IdentityProvider:
    return IdentityProvider.objects.defer("client_secret").get(provider=provider)


@transaction.atomic
def mapper_create(*, provider: Provider, actor, mapper: MapperInput) -> IdentityProviderMapper:
    identity = _mapper_identity(provider)
    if identity.mappers.filter(name=mapper.name).exists():
        raise ConflictError(f"A mapper named “{mapper.name}” already exists.", field="name")
    row = mapper_clean(identity=identity, mapper=mapper, grantor=Grantor(actor, provider.workspace_id))
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
    row = mapper_clean(identity=identity, mapper=merged, grantor=Grantor(actor, identity.provider.workspace_id))
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
    """Apply the provider's mappers to sample claims with the same engine a login uses; writes nothing.
    Outside the default workspace a global group reads as the workspace role it gives."""
    identity = _mapper_identity(provider)
    specs = [
        MapperSpec(name=row.name, mapper_type=row.mapper_type, config=row.config, sync_mode=row.sync_mode)
        for row in identity.mappers.order_by("id")
    ]
    return apply_mappers(
        mappers=specs,
        claims=claims,
        alias=provider.provider_id,
        workspace_roles=provider.workspace_id != DEFAULT_WORKSPACE_ID,
    )
