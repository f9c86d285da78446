"""Writes for identity providers, one module per part: `providers` (the configuration, client
secret, enable/disable), `domains` (the domains and their DNS verification), `mappers`,
`metadata` (a SAML identity provider's metadata refresh). Import from here; the names below are
the whole interface."""

from .domains import DomainCheck, identity_provider_verify_domains
from .mappers import MapperInput, mapper_create, mapper_delete, mapper_update, mappers_dry_run
from .metadata import RefreshReport, UrlChange, identity_provider_refresh_metadata
from .providers import (
    FORM_FIELDS,
    IDENTITY_FIELDS,
    PROVIDER_FIELDS,
    SECRET_DESTINATION_FIELDS,
    SECRET_MASK,
    CreateArguments,
    IdentityDraft,
    alias_taken,
    identity_provider_create,
    identity_provider_prepare_create,
    identity_provider_prepare_update,
    identity_provider_set_enabled,
    identity_provider_update,
    keycloak_kept_merge,
)

__all__ = [
    "FORM_FIELDS",
    "IDENTITY_FIELDS",
    "PROVIDER_FIELDS",
    "SECRET_DESTINATION_FIELDS",
    "SECRET_MASK",
    "CreateArguments",
    "DomainCheck",
    "IdentityDraft",
    "MapperInput",
    "RefreshReport",
    "UrlChange",
    "alias_taken",
    "identity_provider_create",
    "identity_provider_prepare_create",
    "identity_provider_prepare_update",
    "identity_provider_refresh_metadata",
    "identity_provider_set_enabled",
    "identity_provider_update",
    "identity_provider_verify_domains",
    "keycloak_kept_merge",
    "mapper_create",
    "mapper_delete",
    "mapper_update",
    "mappers_dry_run",
]
