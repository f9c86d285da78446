"""Writes for git providers: create with credentials, update, delete, test connection. The API
and the admin both call these, so both enforce the same rules; each validates with
`full_clean()` and runs in one transaction."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from accounts import scoping
from accounts.errors import ConflictError, violates
from providers import audit, history
from providers.catalog import GIT, PROVIDER_TYPES
from providers.concurrency import check_if_match
from providers.connection import ConnectionResult, probe
from providers.models import Credential, IdentityProvider, Project, Provider

from .common import actor_user
from .credentials import CredentialInput, credential_content, credential_store, credential_validate

RESERVED_PROVIDER_IDS = frozenset({"export"})
PROVIDER_EDITABLE_FIELDS = ("label", "description", "type", "base_url", "api_base_url", "enabled")
URL_FIELDS = ("base_url", "api_base_url")


def provider_id_check(provider_id: str) -> None:
    """A new provider's id may not be one the API's paths reserve."""
    if provider_id.lower() in RESERVED_PROVIDER_IDS:
        raise ValidationError({"provider_id": [f"“{provider_id}” is reserved by the API; choose another id."]})


def provider_clean(provider: Provider) -> None:
    """`full_clean()` without the checks that would only repeat, in queries, what is already
    enforced: the actor and workspace columns are set by the services, not typed in, the id's
    uniqueness is the constraint `provider_id_unique` (a violation is answered 409) and the
    table's constraints mirror the field validators (and the database enforces them still)."""
    provider.full_clean(exclude=["created_by", "updated_by", "workspace"], validate_constraints=False)


def _default_urls(provider_type: str, base_url: str, api_base_url: str) -> tuple[str, str]:
    """Where a provider's secret is sent: an empty URL means its type's public default."""
    ptype = PROVIDER_TYPES.get(provider_type)
    if ptype is None:
        return base_url, api_base_url
    return base_url or ptype.base_url, api_base_url or ptype.api_base_url


def _apply_url_defaults(provider: Provider) -> None:
    provider.base_url, provider.api_base_url = _default_urls(provider.type, provider.base_url, provider.api_base_url)


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
    provider_id_check(provider_id)
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
        if not violates(
            exc, constraint="provider_id_unique", table=Provider._meta.db_table, columns=("workspace_id", "provider_id")
        ):
            raise
        raise ConflictError(f"A provider with id “{provider_id}” already exists.", field="provider_id") from None
    assert credentials is not None
    credential_store(provider=provider, credentials=credentials, actor=actor, creating=True)
    history.log_addition(actor=actor, obj=provider)
    return provider


@transaction.atomic
def provider_update(
    *,
    provider: Provider | str,
    actor,
    data: dict[str, Any],
    credentials: CredentialInput | None = None,
    if_match: str | None = None,
) -> Provider:
    """Apply the given fields and, when given, replace the credentials, within the provider's own
    workspace. `provider` is the row (found again, locked, by its primary key: whatever workspaces
    the caller's scope spans, e.g. the admin's “All workspaces”), or a provider id, which names a
    provider only within one workspace: found with the lock in the request's workspace
    (Provider.DoesNotExist when there is none), so the API needs no read first."""
    provider_id = provider if isinstance(provider, str) else provider.provider_id
    if "provider_id" in data and data["provider_id"] != provider_id:
        raise ValidationError({"provider_id": ["The provider id cannot be changed."]})
    unknown = set(data) - set(PROVIDER_EDITABLE_FIELDS) - {"provider_id"}
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    if isinstance(provider, str):
        locked = Provider.objects.select_for_update().get(provider_id=provider)
    else:
        locked = Provider.objects.select_for_update().get(pk=provider.pk)
    with scoping.within(locked.workspace_id):
        check_if_match(locked, if_match)
        changed = provider_apply_changes(provider=locked, data=data)
        provider_clean(locked)
        provider_validate(provider=locked, changed=changed, credentials=credentials, creating=False)
        if changed or credentials is not None:
            locked.updated_by = actor_user(actor)
            locked.save()
        if credentials is not None:
            credential_store(provider=locked, credentials=credentials, actor=actor)
            changed.append("credentials")
        history.log_change(actor=actor, obj=locked, fields=history.field_labels(Provider, changed))
    return locked


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
