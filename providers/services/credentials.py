"""Writes for a git provider's credentials: validation per credential type, the keyed
fingerprint, storing them encrypted with the replaced ones kept as a restorable version, and the
rollback to a version."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.fernet import InvalidToken
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from providers import audit, history
from providers.catalog import CREDENTIAL_TYPES, CREDENTIAL_VALUE_MAX_LENGTH, PROVIDER_TYPES, CredentialType
from providers.keys import decrypt_or_raise
from providers.models import Credential, CredentialVersion, Provider, http_url_validator

from .common import actor_user, provider_touch


@dataclass(frozen=True)
class CredentialInput:
    type: str
    content: dict[str, Any]
    expires_at: datetime | None = None


def _credential_value_error(ctype: CredentialType, name: str, value: str) -> str | None:
    """The per-field rules of a credential type: URLs, numeric ids and PEM private keys."""
    if name in ctype.url_fields:
        try:
            http_url_validator(value)
        except ValidationError:
            return "Enter a valid http(s) URL."
    if name in ctype.numeric_fields and not value.isdigit():
        return "Expected a numeric id."
    if name in ctype.pem_private_key_fields:
        try:
            serialization.load_pem_private_key(value.encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            return "Expected an unencrypted PEM private key."
    return None


def credential_validate(*, provider_type: str, credentials: CredentialInput) -> None:
    """Check the credential type is allowed for the provider type and its content has exactly the
    fields the type defines, each a non-empty string that fits its field's rule. Errors name the
    field as clients send it."""
    ctype = CREDENTIAL_TYPES.get(credentials.type)
    if ctype is None:
        valid = ", ".join(CREDENTIAL_TYPES)
        raise ValidationError({"credentials.type": [f"Not a valid choice (expected one of: {valid})."]})
    ptype = PROVIDER_TYPES.get(provider_type)
    if ptype is not None and ctype.key not in ptype.credential_types:
        allowed = ", ".join(ptype.credential_types)
        raise ValidationError(
            {"credentials.type": [f"A {ptype.label} provider accepts these credential types: {allowed}."]}
        )
    content = credentials.content
    if not isinstance(content, dict):
        raise ValidationError({"credentials.content": ["Expected an object."]})
    errors: dict[str, list[str]] = {}
    for name in ctype.all_fields:
        value = content.get(name)
        key = f"credentials.content.{name}"
        if value in (None, ""):
            if name in ctype.fields:
                errors[key] = ["This field is required."]
        elif not isinstance(value, str):
            errors[key] = ["Expected a string."]
        elif len(value) > CREDENTIAL_VALUE_MAX_LENGTH:
            errors[key] = [f"Ensure this field has no more than {CREDENTIAL_VALUE_MAX_LENGTH} characters."]
        elif "\x00" in value:
            errors[key] = ["Null characters are not allowed."]
        elif message := _credential_value_error(ctype, name, value):
            errors[key] = [message]
    for name in content:
        if name not in ctype.all_fields:
            errors[f"credentials.content.{str(name)[:64]}"] = [
                f"Unknown field for credentials of type “{ctype.key}” (expected: {', '.join(ctype.all_fields)})."
            ]
    if credentials.expires_at is not None and credentials.expires_at <= timezone.now():
        errors["credentials.expiresAt"] = ["Must be in the future."]
    if errors:
        raise ValidationError(errors)


def credential_fingerprint(content: dict[str, Any]) -> str:
    """Keyed (HMAC) so that a short password cannot be brute-forced back from its fingerprint."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    digest = salted_hmac("providers.credential.fingerprint", canonical, algorithm="sha256").hexdigest()
    return f"hmac-sha256:{digest[:16]}"


def _current_credential(provider: Provider) -> tuple[Credential | None, str | None]:
    """The provider's current credentials and their decrypted content, read in one query. If no
    configured key decrypts them, their metadata alone (the value is then replaced without being
    kept as a version)."""
    try:
        current = Credential.objects.filter(provider=provider).first()
    except InvalidToken:
        return Credential.metadata.filter(provider=provider).first(), None
    return current, None if current is None else current.secret


def credential_store(*, provider: Provider, credentials: CredentialInput, actor, creating: bool = False) -> Credential:
    """Make `credentials` current. The credentials they replace become a version that can be
    restored during CREDENTIAL_ROLLBACK_DAYS; older versions are deleted. `creating`: the provider
    is new in this transaction, so there is nothing to replace. Otherwise the caller holds the
    provider's row lock, so no other write can add or replace its credentials meanwhile."""
    credential_validate(provider_type=provider.type, credentials=credentials)
    fields = CREDENTIAL_TYPES[credentials.type].all_fields
    content = {name: credentials.content[name] for name in fields if credentials.content.get(name)}
    values = {
        "type": credentials.type,
        "secret": json.dumps(content),
        "fingerprint": credential_fingerprint(content),
        "expires_at": credentials.expires_at,
        "updated_by": actor_user(actor),
    }
    if creating:
        return Credential.objects.create(provider=provider, **values)
    previous, previous_secret = _current_credential(provider)
    if previous is not None and previous_secret is not None:
        CredentialVersion.objects.create(
            provider=provider,
            type=previous.type,
            secret=previous_secret,
            fingerprint=previous.fingerprint,
            expires_at=previous.expires_at,
            set_at=previous.updated_at,
            set_by_id=previous.updated_by_id,
            replaced_by=actor_user(actor),
        )
    rollback_cutoff = timezone.now() - timedelta(days=settings.CREDENTIAL_ROLLBACK_DAYS)
    CredentialVersion.objects.filter(provider=provider, replaced_at__lt=rollback_cutoff).delete()
    if previous is None:
        return Credential.objects.create(provider=provider, **values)
    # The row just read is updated in place: the lock makes a second read (update_or_create) moot.
    for name, value in values.items():
        setattr(previous, name, value)
    previous.save()
    audit.record(action="rotate", actor=actor, obj=provider, fields=["credentials"])
    return previous


def credential_rollback_deadline(version: CredentialVersion) -> datetime:
    return version.replaced_at + timedelta(days=settings.CREDENTIAL_ROLLBACK_DAYS)


@transaction.atomic
def credential_rollback(*, provider: Provider, version_id: int, actor) -> Credential:
    """Restore a replaced version as the current credentials; the current ones become a version."""
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    version = decrypt_or_raise(
        lambda: CredentialVersion.objects.filter(provider=provider, pk=version_id).first(),
        provider=provider,
        what="replaced credentials",
    )
    if version is None:
        raise ValidationError({"version": ["No such credential version for this provider."]})
    if credential_rollback_deadline(version) < timezone.now():
        raise ValidationError({"version": ["This version is older than the rollback window."]})
    restored = CredentialInput(type=version.type, content=json.loads(version.secret), expires_at=None)
    try:
        credential_validate(provider_type=provider.type, credentials=restored)
    except ValidationError as exc:
        raise ValidationError({"version": ["This version does not fit the provider's current type."]}) from exc
    version.delete()
    credential = credential_store(
        provider=provider, credentials=CredentialInput(restored.type, restored.content, version.expires_at), actor=actor
    )
    provider_touch(provider_pk=provider.pk, actor=actor)
    history.log_change(actor=actor, obj=provider, fields=["credentials (rolled back)"], action="rollback")
    return credential


def credential_content(*, provider: Provider) -> dict[str, str]:
    """The decrypted content, for server-side use only (test connection, outbound calls). A value
    no configured key decrypts raises UndecryptableSecret naming the provider."""
    credential = decrypt_or_raise(lambda: Credential.objects.get(provider=provider), provider=provider)
    return json.loads(credential.secret)
