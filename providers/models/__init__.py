"""The providers app's models, one module per aggregate."""

from .audit import AuditEvent
from .common import ID_CHARACTERS, SLUG_REGEX, http_url_validator, slug_validator
from .identity import (
    FederatedIdentity,
    IdentityProvider,
    IdentityProviderDomain,
    IdentityProviderMapper,
    SamlAssertionUse,
)
from .project import Project
from .provider import Credential, CredentialMetadataManager, CredentialVersion, Provider

__all__ = [
    "ID_CHARACTERS",
    "SLUG_REGEX",
    "AuditEvent",
    "Credential",
    "CredentialMetadataManager",
    "CredentialVersion",
    "FederatedIdentity",
    "IdentityProvider",
    "IdentityProviderDomain",
    "IdentityProviderMapper",
    "Project",
    "Provider",
    "SamlAssertionUse",
    "http_url_validator",
    "slug_validator",
]
