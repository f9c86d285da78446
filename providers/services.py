"""Every write with a side effect. The API and the admin both call these, so both enforce the
same rules; each function validates with `full_clean()` and runs in one transaction."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.fernet import InvalidToken
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.crypto import salted_hmac

from . import audit, history
from .catalog import CREDENTIAL_TYPES, CREDENTIAL_VALUE_MAX_LENGTH, GIT, PROVIDER_TYPES, CredentialType
from .concurrency import check_if_match
from .connection import ConnectionResult, probe
from .keys import decrypt_or_raise
from .models import Credential, CredentialVersion, IdentityProvider, Project, Provider, http_url_validator
from .selectors import can_manage_all_projects


class ConflictError(Exception):
    """The request clashes with the current state (duplicate id, object still in use): HTTP 409."""

    def __init__(self, message: str, *, field: str | None = None, related: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.related = related or []


def violates(exc: IntegrityError, *, constraint: str, table: str, column: str) -> bool:
    """Whether `exc` is a violation of the named unique constraint. PostgreSQL names the
    constraint; SQLite names only the table and column (“UNIQUE constraint failed: t.c”)."""
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:
        return diag.constraint_name == constraint
    return str(exc) == f"UNIQUE constraint failed: {table}.{column}"


class FieldPermissionDenied(PermissionDenied):
    """The actor may use the object but not change these fields: HTTP 403 naming them."""

    def __init__(self, fields: list[str]):
        super().__init__("You may not change these fields.")
        self.fields = fields


@dataclass(frozen=True)
class CredentialInput:
    type: str
    content: dict[str, Any]
    expires_at: datetime | None = None


# Path segments of the providers API that a provider id would shadow.
RESERVED_PROVIDER_IDS = frozenset({"export"})
PROVIDER_EDITABLE_FIELDS = ("label", "description", "type", "base_url", "api_base_url", "enabled")
URL_FIELDS = ("base_url", "api_base_url")


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


def _credential_store(*, provider: Provider, credentials: CredentialInput, actor, creating: bool = False) -> Credential:
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
    credential = _credential_store(
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


def actor_user(actor):
    return actor if actor is not None and actor.is_authenticated else None


def provider_clean(provider: Provider) -> None:
    """`full_clean()` without the checks that would only repeat, in queries, what is already
    enforced: the actor columns are set by the services from the signed-in user, the id's
    uniqueness is the constraint `provider_id_unique` (a violation is answered 409) and the
    table's constraints mirror the field validators (and the database enforces them still)."""
    provider.full_clean(exclude=["created_by", "updated_by"], validate_constraints=False)


def _default_urls(provider_type: str, base_url: str, api_base_url: str) -> tuple[str, str]:
    """Where a provider's secret is sent: an empty URL means its type's public default."""
    ptype = PROVIDER_TYPES.get(provider_type)
    if ptype is None:
        return base_url, api_base_url
    return base_url or ptype.base_url, api_base_url or ptype.api_base_url


def _apply_url_defaults(provider: Provider) -> None:
    provider.base_url, provider.api_base_url = _default_urls(provider.type, provider.base_url, provider.api_base_url)


def provider_touch(*, provider_pk: int, actor=None) -> None:
    """A change to a part of a provider (credentials rolled back, identity status, mappers) is a
    change of the provider: its ETag and the public login list's version follow `updated_at`."""
    changes: dict[str, Any] = {"updated_at": timezone.now()}
    if actor_user(actor) is not None:
        changes["updated_by"] = actor_user(actor)
    Provider.objects.filter(pk=provider_pk).update(**changes)


def provider_validate(
    *, provider: Provider, changed: list[str], credentials: CredentialInput | None, creating: bool
) -> None:
    """The rules that span a provider, its credentials and its projects, for the services and the
    admin form: credentials are required on create and must fit the provider type; they must be
    sent again whenever the URLs (where the secret is sent) or the type change; and a provider
    that projects use as their git provider keeps the git capability."""
    if not creating and "type" in changed:
        if IdentityProvider.objects.filter(provider=provider).exists():
            raise ValidationError(
                {"type": ["This provider has identity configuration; its type follows its protocol."]}
            )
        if provider.capability != GIT and Project.objects.filter(provider_id=provider.pk).exists():
            raise ValidationError(
                {"type": ["Projects use this provider as their git provider; it must stay a git type."]}
            )
    if credentials is not None:
        credential_validate(provider_type=provider.type, credentials=credentials)
        return
    if creating:
        raise ValidationError({"credentials": ["Credentials are required to create a provider."]})
    if any(name in changed for name in (*URL_FIELDS, "type")):
        raise ValidationError(
            {"credentials": ["Changing the provider's type or URLs requires sending its credentials again."]}
        )


def provider_apply_changes(*, provider: Provider, data: dict[str, Any]) -> list[str]:
    """Set the given fields (type defaults filling empty URLs) and return those whose value really
    changed. An empty URL means its type's default, before and after: clearing a URL back to the
    default, or a stored empty URL being filled with it, is no change."""
    before = history.field_values(provider, PROVIDER_EDITABLE_FIELDS)
    before["base_url"], before["api_base_url"] = _default_urls(provider.type, provider.base_url, provider.api_base_url)
    for name in PROVIDER_EDITABLE_FIELDS:
        if name in data:
            setattr(provider, name, data[name])
    _apply_url_defaults(provider)
    return history.changed_fields(provider, before)


@transaction.atomic
def provider_create(
    *,
    actor,
    provider_id: str,
    label: str,
    type: str,
    credentials: CredentialInput | None,
    description: str = "",
    base_url: str = "",
    api_base_url: str = "",
    enabled: bool = True,
) -> Provider:
    """Create a provider together with its credentials: both are written or neither is. A taken id
    is refused (ConflictError) by the unique constraint itself rather than by a lookup first, which
    would cost a query on every create and still race with a concurrent one."""
    if provider_id.lower() in RESERVED_PROVIDER_IDS:
        raise ValidationError({"provider_id": [f"“{provider_id}” is reserved by the API; choose another id."]})
    provider = Provider(
        provider_id=provider_id,
        label=label,
        type=type,
        description=description,
        base_url=base_url,
        api_base_url=api_base_url,
        enabled=enabled,
        created_by=actor_user(actor),
        updated_by=actor_user(actor),
    )
    _apply_url_defaults(provider)
    provider_clean(provider)
    provider_validate(provider=provider, changed=[], credentials=credentials, creating=True)
    try:
        provider.save()
    except IntegrityError as exc:
        # Nothing is written yet, and nothing more runs in this transaction (on PostgreSQL the
        # failed INSERT has aborted it): the ConflictError leaving the atomic block rolls it back,
        # or back to its savepoint when a caller's transaction encloses it.
        if not violates(exc, constraint="provider_id_unique", table=Provider._meta.db_table, column="provider_id"):
            raise
        raise ConflictError(f"A provider with id “{provider_id}” already exists.", field="provider_id") from None
    assert credentials is not None
    _credential_store(provider=provider, credentials=credentials, actor=actor, creating=True)
    history.log_addition(actor=actor, obj=provider)
    return provider


@transaction.atomic
def provider_update(
    *,
    provider: Provider,
    actor,
    data: dict[str, Any],
    credentials: CredentialInput | None = None,
    if_match: str | None = None,
) -> Provider:
    """Apply the given fields and, when given, replace the credentials."""
    if "provider_id" in data and data["provider_id"] != provider.provider_id:
        raise ValidationError({"provider_id": ["The provider id cannot be changed."]})
    unknown = set(data) - set(PROVIDER_EDITABLE_FIELDS) - {"provider_id"}
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    check_if_match(provider, if_match)
    changed = provider_apply_changes(provider=provider, data=data)
    provider_clean(provider)
    provider_validate(provider=provider, changed=changed, credentials=credentials, creating=False)
    if changed or credentials is not None:
        provider.updated_by = actor_user(actor)
        provider.save()
    if credentials is not None:
        _credential_store(provider=provider, credentials=credentials, actor=actor)
        changed.append("credentials")
    history.log_change(actor=actor, obj=provider, fields=[_verbose(Provider, name) for name in changed])
    return provider


@transaction.atomic
def provider_delete(*, provider: Provider, actor, if_match: str | None = None) -> None:
    """Delete a provider and its credentials; refused while projects use it."""
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    check_if_match(provider, if_match)
    linked = list(provider.projects.order_by("project_id").values_list("project_id", flat=True)[:50])
    if linked:
        raise ConflictError(
            f"Provider “{provider.provider_id}” is used by {provider.projects.count()} project(s); "
            "link them to another provider first.",
            related=linked,
        )
    history.log_deletion(actor=actor, obj=provider)
    try:
        provider.delete()
    except ProtectedError as exc:  # a project was linked meanwhile
        raise ConflictError(
            f"Provider “{provider.provider_id}” is used by projects.",
            related=sorted(str(getattr(obj, "project_id", obj)) for obj in exc.protected_objects),
        ) from exc


PROJECT_FIELDS = ("name", "description", "provider", "repository_path", "owners")
PROJECT_OWNER_FIELDS = frozenset({"description", "provider", "repository_path"})


def project_editable_fields(*, user, project: Project | None = None) -> frozenset[str]:
    """Which project fields a user may change: all for operators; for an owner of the project
    (with the change permission), the description and the repository part only."""
    if not user.has_perm("providers.change_project"):
        return frozenset()
    if can_manage_all_projects(user):
        return frozenset(PROJECT_FIELDS)
    if project is not None and not project.owners.filter(pk=user.pk).exists():
        return frozenset()
    if not user.has_perm("providers.select_provider"):
        return PROJECT_OWNER_FIELDS - {"provider"}
    return PROJECT_OWNER_FIELDS


def project_check_fields(*, user, project: Project, fields: set[str]) -> None:
    """Refuse (403 naming them) the fields the user may not change on this project. Called before
    the request's values are even looked up, so nobody can probe for user names or provider ids."""
    forbidden = sorted(fields - project_editable_fields(user=user, project=project))
    if forbidden:
        raise FieldPermissionDenied(forbidden)


@transaction.atomic
def project_update(*, project: Project, actor, data: dict[str, Any], if_match: str | None = None) -> Project:
    """Change a project's fields, refusing any the actor may not change (PermissionDenied)."""
    project_check_fields(user=actor, project=project, fields=set(data))
    project = Project.objects.select_for_update().get(pk=project.pk)
    check_if_match(project, if_match)
    fields = {name: value for name, value in data.items() if name != "owners"}
    before = history.field_values(project, fields)
    for name, value in fields.items():
        setattr(project, name, value)
    changed = history.changed_fields(project, before)
    if "owners" in data and set(project.owners.all()) != set(data["owners"]):
        project.owners.set(data["owners"])
        changed.append("owners")
    project.full_clean()
    if changed:
        project.save()
    history.log_change(actor=actor, obj=project, fields=[_verbose(Project, name) for name in changed])
    return project


@transaction.atomic
def project_delete(*, project: Project, actor) -> None:
    history.log_deletion(actor=actor, obj=project)
    project.delete()


@transaction.atomic
def project_create(
    *,
    actor,
    project_id: str,
    name: str,
    description: str = "",
    provider: Provider | None = None,
    repository_path: str = "",
    owners: list | None = None,
) -> Project:
    if Project.objects.filter(project_id=project_id).exists():
        raise ConflictError(f"A project with id “{project_id}” already exists.", field="project_id")
    project = Project(
        project_id=project_id,
        name=name,
        description=description,
        provider=provider,
        repository_path=repository_path,
    )
    project.full_clean()
    project.save()
    if owners:
        project.owners.set(owners)
    history.log_addition(actor=actor, obj=project)
    return project


def _verbose(model, name: str) -> str:
    if name == "credentials":
        return name
    return str(model._meta.get_field(name).verbose_name)


def provider_test_connection(*, provider: Provider, actor) -> ConnectionResult:
    """Call the provider with its stored credentials and record the outcome on the provider and in
    the audit log. The outbound call runs outside any transaction so a slow provider holds no
    database locks; the result is stored with one UPDATE that leaves `updated_at` alone, since a
    test changes nothing an operator configured."""
    try:
        credentials: dict[str, str] | None = credential_content(provider=provider)
    except Credential.DoesNotExist:
        credentials = None
    if credentials is None and provider.capability == GIT:
        result = ConnectionResult(ok=False, status=None, message="No credentials stored.")
    else:
        result = probe(provider=provider, credentials=credentials)
    tested_at = timezone.now()
    message = result.message[: Provider._meta.get_field("last_test_message").max_length]
    with transaction.atomic():
        Provider.objects.filter(pk=provider.pk).update(
            last_tested_at=tested_at, last_test_ok=result.ok, last_test_message=message
        )
        audit.record(action="test", actor=actor, obj=provider, ok=result.ok, detail=message)
    provider.last_tested_at, provider.last_test_ok, provider.last_test_message = tested_at, result.ok, message
    return result
