"""What the file says of each kind of object, against what is stored: git providers, identity
providers, projects. Each kind reads an object of the file (the API's request shape, checked by the
API's own serializers, secrets resolved from their references), works out the fields that differ
from the stored row, checks a create or an update with the services' own rules (nothing written),
and applies it through the same services as the admin and the API."""

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from rest_framework import serializers

from providers.api.backend.serializers import (
    PROJECT_API_NAMES,
    PROVIDER_API_NAMES,
    ProviderWriteSerializer,
)
from providers.api.errors import flatten_errors
from providers.api.fields import ChoiceField, StrictCharField, StrictSerializer
from providers.api.identity.serializers import IDENTITY_API_NAMES, IdentityProviderWriteSerializer
from providers.catalog import CREDENTIAL_TYPES, GIT, PROVIDER_TYPES
from providers.identity import catalogue
from providers.identity.mappers import Grantor
from providers.identity.services import (
    SECRET_DESTINATION_FIELDS,
    identity_provider_create,
    identity_provider_prepare_create,
    identity_provider_prepare_update,
    identity_provider_update,
    keycloak_kept_merge,
)
from providers.identity.services.domains import normalize_domains
from providers.identity.services.mappers import mappers_clean
from providers.models import IdentityProvider, Project, Provider
from providers.models.common import slug_validator
from providers.services import (
    CredentialInput,
    credential_fingerprint,
    project_create,
    project_delete,
    project_update,
    provider_apply_changes,
    provider_clean,
    provider_create,
    provider_delete,
    provider_id_check,
    provider_update,
    provider_validate,
)

from . import refs, selectors
from .document import DocumentError, Item
from .refs import RefPolicy

PRESENT, ABSENT = "present", "absent"
MAX_SHOWN = 80


@dataclass
class FieldChange:
    """One field's change, named as in the file. A secret's old and new are fingerprints."""

    path: str
    old: Any = None
    new: Any = None
    secret: bool = False
    note: str = ""

    def describe(self) -> str:
        if self.note:
            return f"{self.path}: {self.note}"
        if self.secret:
            if self.old is None:
                return f"{self.path}: set (fingerprint {self.new})"
            return f"{self.path}: changed (fingerprint {self.old} → {self.new})"
        return f"{self.path}: {_shown(self.old)} → {_shown(self.new)}"

    def as_dict(self) -> dict[str, Any]:
        if self.note:
            return {"path": self.path, "change": self.note}
        if self.secret:
            return {"path": self.path, "secret": True, "old_fingerprint": self.old, "new_fingerprint": self.new}
        return {"path": self.path, "old": self.old, "new": self.new}


def canonical(value: Any) -> str:
    """A JSON value as text, for comparing values of JSON fields: `==` would hold `true` equal to
    `1` and `1` to `1.0`, which JSON tells apart."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def same(stored: Any, sent: Any) -> bool:
    """Whether the file's value is the stored one. Strings are compared as the API's serializers
    read them, without surrounding whitespace (a stored certificate may end with a newline); other
    values as JSON."""
    if isinstance(stored, str) and isinstance(sent, str):
        return stored.strip() == sent.strip()
    return canonical(stored) == canonical(sent)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + '…"'


@dataclass
class Context:
    """What every object of one run shares."""

    workspace_id: int
    actor: Any
    policy: RefPolicy
    managed_by: str
    # The providers the file lists under `providers` (not absent), by id, with their type: what its
    # projects may link besides stored ones.
    file_git_providers: dict[str, str] = field(default_factory=dict)
    # The stored client secrets of the batch's identity providers whose secret the file references.
    secrets: dict[str, str] = field(default_factory=dict)
    # The stored providers the batch's projects link, by id.
    links: dict[str, Provider] = field(default_factory=dict)
    # One serializer of each class for the run's objects (`_validated`).
    serializers: dict[type, Any] = field(default_factory=dict)


@dataclass
class Wanted:
    """An object as the file wants it: `values` in the services' names, `secret` what the file's
    reference resolved to (None: keep the stored one), `state` present or absent."""

    item: Item
    key: str
    state: str = PRESENT
    values: dict[str, Any] = field(default_factory=dict)
    secret: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def _service_errors(item: Item, exc: ValidationError, names: dict[str, str]) -> list[DocumentError]:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
    found: list[DocumentError] = []
    for key, messages in errors.items():
        path = "" if key in ("__all__", "non_field_errors") else names.get(key, key)
        found.extend(item.error(str(message), path) for message in messages)
    return found


def _serializer_errors(item: Item, detail: Any) -> list[DocumentError]:
    flat = flatten_errors(detail)
    return [
        item.error(message, "" if key == "non_field_errors" else key)
        for key, messages in flat.items()
        for message in messages
    ]


def _validated(context: "Context", serializer_class: type, item: Item, data: Any) -> Any:
    """The serializer, its `validated_data` the object's, or ItemError with the errors `is_valid()`
    would give. One serializer of each class validates every object of the run, as a ListSerializer
    validates its items with one child: building a serializer deep-copies its declared fields (~80
    for an identity provider), a quarter of a large plan's time (docs/benchmarks-config.md)."""
    body = context.serializers.get(serializer_class)
    if body is None:
        body = context.serializers[serializer_class] = serializer_class()
    try:
        validated = body.run_validation(data)
    except serializers.ValidationError as exc:
        raise ItemError(_serializer_errors(item, exc.detail)) from None
    body._validated_data = validated  # what `is_valid()` leaves for `validated_data`
    return body


class ItemError(Exception):
    def __init__(self, errors: list[DocumentError]):
        super().__init__(errors[0].message if errors else "")
        self.errors = errors


def _state(item: Item, key_field: str) -> tuple[str, str]:
    """The object's key and `state`, which the file gives first of all."""
    data = item.data
    state = data.pop("state", PRESENT)
    if state not in (PRESENT, ABSENT):
        raise ItemError([item.error("Expected “present” or “absent”.", "state")])
    key = data.get(key_field)
    if not isinstance(key, str) or not key:
        raise ItemError([item.error("This field is required." if key is None else "Expected a string.", key_field)])
    try:
        slug_validator(key)
    except ValidationError as exc:
        raise ItemError([item.error(exc.messages[0], key_field)]) from None
    return key, state


class Kind:
    """One kind of object of the file. The run calls, per batch: `read` each object (its shape,
    its secret references resolved), `prepare` (what the batch refers to, read at once), `stored`
    for the batch's keys, then per object `elsewhere` (a stored object of another kind with this
    key), `check_create`
    and `create`, or `changes` (empty: unchanged), `check_update` and `update`; `delete` last.
    `check_*` run the services' own rules without writing (a plan's errors are an apply's);
    writes go through the services. `names` maps the services' field names to the file's paths."""

    section: ClassVar[str]
    key_field: ClassVar[str]
    names: ClassVar[dict[str, str]]

    def read(self, item: Item, context: Context) -> Wanted:
        raise NotImplementedError

    def prepare(self, entries: list[Wanted], context: Context) -> None:
        """Read at once what the batch's objects refer to (a query per batch, not per object)."""

    def stored(self, keys: list[str], context: Context) -> dict[str, Any]:
        raise NotImplementedError

    def managed_by(self, row: Any) -> str:
        return row.managed_by

    def elsewhere(self, row: Any) -> str:
        """Why the stored object with this key is not of this kind ("" when it is)."""
        return ""

    def changes(self, wanted: Wanted, row: Any, context: Context) -> list[FieldChange]:
        raise NotImplementedError

    def check_create(self, wanted: Wanted, context: Context) -> None:
        raise NotImplementedError

    def check_update(self, wanted: Wanted, row: Any, changes: list[FieldChange], context: Context) -> None:
        raise NotImplementedError

    def create(self, wanted: Wanted, context: Context) -> Any:
        raise NotImplementedError

    def update(self, wanted: Wanted, row: Any, changes: list[FieldChange], context: Context) -> None:
        raise NotImplementedError

    def delete(self, row: Any, context: Context) -> None:
        raise NotImplementedError

    def errors(self, wanted: Wanted, exc: ValidationError) -> list[DocumentError]:
        return _service_errors(wanted.item, exc, self.names)


class ConfigCredentialsSerializer(StrictSerializer):
    """`credentials` in a file: the type and expiry, and the content only to set or replace it."""

    type = ChoiceField(choices=[(key, key) for key in CREDENTIAL_TYPES])
    expiresAt = serializers.DateTimeField(required=False, allow_null=True)  # noqa: N815
    content = serializers.DictField(
        required=False, child=serializers.CharField(allow_blank=True, trim_whitespace=False)
    )


class ConfigProviderSerializer(ProviderWriteSerializer):
    credentials = ConfigCredentialsSerializer(required=False)  # type: ignore[assignment]


URL_PATHS = {"base_url": "urls.base", "api_base_url": "urls.apiBase"}
PROVIDER_PATHS = {"label": "label", "description": "description", "type": "type", "enabled": "enabled", **URL_PATHS}


class GitProviders(Kind):
    section = "providers"
    key_field = "id"
    names = {**PROVIDER_API_NAMES, "credentials": "credentials.content"}

    def read(self, item: Item, context: Context) -> Wanted:
        key, state = _state(item, self.key_field)
        wanted = Wanted(item=item, key=key, state=state)
        if state == ABSENT:
            return wanted
        data = item.data
        credentials = data.get("credentials")
        if isinstance(credentials, dict) and isinstance(credentials.get("content"), dict):
            sent_type = credentials.get("type")
            ctype = CREDENTIAL_TYPES.get(sent_type) if isinstance(sent_type, str) else None
            secret_fields = ctype.secret_fields if ctype else ()
            resolved = {}
            for name, value in credentials["content"].items():
                path = f"credentials.content.{name}"
                secret = refs.take_secret(item, path, value, context.policy, literal_allowed=name not in secret_fields)
                if secret is None and name in secret_fields:
                    raise ItemError([item.error("This field is required (as a secret reference).", path)])
                resolved[name] = secret if secret is not None else value
            credentials = {**credentials, "content": resolved}
            data = {**data, "credentials": credentials}
        body = _validated(context, ConfigProviderSerializer, item, data)
        sent = body.validated_data.pop("credentials", None)
        values, _ = body.to_service_data()
        values.setdefault("description", "")
        values.setdefault("base_url", "")
        values.setdefault("api_base_url", "")
        values.setdefault("enabled", True)
        wanted.values = values
        if sent:
            wanted.extra["credential_type"] = sent["type"]
            wanted.extra["expires_at"] = sent.get("expiresAt")
            if "content" in sent:
                wanted.secret = CredentialInput(
                    type=sent["type"], content=sent["content"], expires_at=sent.get("expiresAt")
                )
        return wanted

    def stored(self, keys: list[str], context: Context) -> dict[str, Any]:
        rows = list(
            Provider._base_manager.filter(workspace_id=context.workspace_id, provider_id__in=keys)
            .select_related("credential")
            .defer("credential__secret")
        )
        identities = identity_provider_pks([row.pk for row in rows])
        for row in rows:
            row.is_identity = row.pk in identities  # type: ignore[attr-defined]
        return {row.provider_id: row for row in rows}

    def elsewhere(self, row: Provider) -> str:
        return "This is an identity provider: list it under `identityProviders`." if row.is_identity else ""  # type: ignore[attr-defined]

    def changes(self, wanted: Wanted, row: Provider, context: Context) -> list[FieldChange]:
        probe = Provider(
            provider_id=row.provider_id,
            type=row.type,
            label=row.label,
            description=row.description,
            base_url=row.base_url,
            api_base_url=row.api_base_url,
            enabled=row.enabled,
        )
        changed = provider_apply_changes(provider=probe, data=wanted.values)
        found = [FieldChange(PROVIDER_PATHS[name], getattr(row, name), getattr(probe, name)) for name in changed]
        wanted.extra["changed"] = changed
        credential = getattr(row, "credential", None)
        credentials = wanted.secret
        if credentials is not None:
            content = {name: value for name, value in credentials.content.items() if value}
            new = credential_fingerprint(content)
            if credential is None:
                found.append(FieldChange("credentials", None, _short(new), secret=True))
            elif (credential.fingerprint, credential.type, credential.expires_at) != (
                new,
                credentials.type,
                credentials.expires_at,
            ):
                if new == credential.fingerprint and credential.type == credentials.type:
                    found.append(
                        FieldChange("credentials.expiresAt", _iso(credential.expires_at), _iso(credentials.expires_at))
                    )
                else:
                    found.append(FieldChange("credentials", _short(credential.fingerprint), _short(new), secret=True))
            elif any(name in changed for name in ("type", "base_url", "api_base_url")):
                # Unchanged, but the URL change needs them sent again: stored anew.
                found.append(FieldChange("credentials", note="sent again (the URLs change)"))
        elif (
            "credential_type" in wanted.extra
            and credential is not None
            and (
                wanted.extra["credential_type"] != credential.type
                or wanted.extra["expires_at"] != credential.expires_at
            )
        ):
            raise ItemError(
                [wanted.item.error("Changing the credentials' type or expiry needs their `content`.", "credentials")]
            )
        return found

    def check_create(self, wanted: Wanted, context: Context) -> None:
        if wanted.secret is None:
            raise ItemError([wanted.item.error("A new provider needs its credentials' `content`.", "credentials")])
        values = wanted.values
        provider_id_check(values["provider_id"])
        provider = Provider(
            **{
                name: values[name]
                for name in ("provider_id", "label", "description", "type", "base_url", "api_base_url", "enabled")
            }
        )
        provider_apply_changes(provider=provider, data={})
        provider_clean(provider)
        provider_validate(provider=provider, changed=[], credentials=wanted.secret, creating=True)

    def check_update(self, wanted: Wanted, row: Provider, changes: list[FieldChange], context: Context) -> None:
        probe = Provider.objects.get(pk=row.pk)
        changed = provider_apply_changes(provider=probe, data=wanted.values)
        provider_clean(probe)
        provider_validate(provider=probe, changed=changed, credentials=wanted.secret, creating=False)

    def create(self, wanted: Wanted, context: Context) -> Provider:
        values = wanted.values
        return provider_create(
            actor=context.actor,
            provider_id=values["provider_id"],
            label=values["label"],
            type=values["type"],
            credentials=wanted.secret,
            description=values["description"],
            base_url=values["base_url"],
            api_base_url=values["api_base_url"],
            enabled=values["enabled"],
        )

    def update(self, wanted: Wanted, row: Provider, changes: list[FieldChange], context: Context) -> None:
        data = {name: wanted.values[name] for name in wanted.extra.get("changed", [])}
        sends = any(change.path.startswith("credentials") for change in changes)
        if data or sends:
            provider_update(provider=row, actor=context.actor, data=data, credentials=wanted.secret if sends else None)

    def delete(self, row: Provider, context: Context) -> None:
        provider_delete(provider=row, actor=context.actor)


def identity_provider_pks(provider_pks: list[int]) -> set[int]:
    """Which of these providers have identity configuration: a lookup by primary key, rather than
    a join that PostgreSQL may plan as a nested loop over a freshly written table."""
    if not provider_pks:
        return set()
    return set(
        IdentityProvider._base_manager.filter(provider_id__in=provider_pks).values_list("provider_id", flat=True)
    )


def _short(fingerprint: str) -> str:
    return fingerprint.rsplit(":", 1)[-1][:8]


def _iso(value) -> str | None:
    return value.isoformat() if value else None


# Model name → the file's path, for an identity provider (IDENTITY_API_NAMES, and the settings the
# canonical body keeps at its top level under their own names).
IDENTITY_PATHS = {
    **{name: name for name in catalogue.SETTINGS},
    **IDENTITY_API_NAMES,
    "label": "display_name",
    "enabled": "enabled",
    "description": "description",
    "known_provider": "known_provider",
}
IDENTITY_VALUES = ("label", "description", "enabled", "known_provider", *catalogue.SETTINGS)


def _sync_path(protocol: str) -> str:
    return "saml_config.sync_mode" if protocol == "saml" else "oidc_config.sync_mode"


class IdentityProviders(Kind):
    section = "identityProviders"
    key_field = "alias"
    names = IDENTITY_PATHS

    def read(self, item: Item, context: Context) -> Wanted:
        data = item.data
        key, state = _state(item, self.key_field)
        wanted = Wanted(item=item, key=key, state=state)
        if state == ABSENT:
            return wanted
        secret = None
        for section, name in (("oidc_config", "client_secret"), ("config", "clientSecret")):
            holder = data.get(section)
            if isinstance(holder, dict) and name in holder:
                secret = refs.take_secret(item, f"{section}.{name}", holder.pop(name), context.policy)
        body = _validated(context, IdentityProviderWriteSerializer, item, data)
        service = body.to_service_data()
        protocol = service["protocol"]
        settings = service["data"]
        values: dict[str, Any] = {
            "label": settings.get("label", key),
            "description": settings.get("description", ""),
            "enabled": settings.get("enabled", True),
            "known_provider": settings.get("known_provider", ""),
        }
        for name in catalogue.SETTINGS:
            default = catalogue.BY_NAME[name].default
            values[name] = settings.get(name, {} if catalogue.BY_NAME[name].kind == catalogue.JSON else default)
        if "keycloak_kept" in settings:
            values["keycloak_kept"] = settings["keycloak_kept"]
        # The preset fills what is left empty, as on a create: what the row will hold.
        draft = IdentityProvider(
            protocol=protocol, **{name: values[name] for name in ("known_provider", *catalogue.SETTINGS)}
        )
        draft.fill_from_preset()
        for name in catalogue.SETTINGS:
            values[name] = getattr(draft, name)
        wanted.values = values
        wanted.secret = secret
        wanted.extra = {
            "protocol": protocol,
            "domains": service.get("domains", []),
            "mappers": service.get("mappers", []),
        }
        return wanted

    def prepare(self, entries: list[Wanted], context: Context) -> None:
        aliases = [entry.key for entry in entries if entry.secret is not None]
        context.secrets = (
            selectors.client_secrets(workspace_id=context.workspace_id, aliases=aliases) if aliases else {}
        )

    def stored(self, keys: list[str], context: Context) -> dict[str, Any]:
        rows = selectors.config_identity_providers(workspace_id=context.workspace_id).filter(provider_id__in=keys)
        found: dict[str, Any] = {row.provider_id: row for row in rows}
        # A git provider with this id: the alias is taken (the create would answer 409).
        for provider_id in Provider._base_manager.filter(
            workspace_id=context.workspace_id, provider_id__in=set(keys) - set(found), identity__isnull=True
        ).values_list("provider_id", flat=True):
            found[provider_id] = None
        return found

    def elsewhere(self, row: Provider | None) -> str:
        return "This is a git provider: list it under `providers`." if row is None else ""

    def changes(self, wanted: Wanted, row: Provider, context: Context) -> list[FieldChange]:
        identity = row.identity
        protocol = wanted.extra["protocol"]
        if protocol != identity.protocol:
            raise ItemError(
                [wanted.item.error("The protocol cannot be changed; create a new identity provider.", "provider_id")]
            )
        found = []
        changed = []
        for name in IDENTITY_VALUES:
            if name not in wanted.values:
                continue
            old = getattr(row, name) if name in ("label", "description", "enabled") else getattr(identity, name)
            new = wanted.values[name]
            if not same(old, new):
                changed.append(name)
                path = _sync_path(protocol) if name == "sync_mode" else IDENTITY_PATHS.get(name, name)
                found.append(FieldChange(path, old, new))
        if "keycloak_kept" in wanted.values and not same(
            keycloak_kept_merge(identity.keycloak_kept, wanted.values["keycloak_kept"]), identity.keycloak_kept
        ):
            changed.append("keycloak_kept")
            found.append(FieldChange("config", note="Keycloak keys kept as sent changed"))
        wanted.extra["changed"] = changed
        if wanted.secret is not None:
            stored = context.secrets.get(row.provider_id)
            if stored != wanted.secret:
                found.append(
                    FieldChange(
                        "oidc_config.client_secret",
                        refs.fingerprint(stored) if stored else None,
                        refs.fingerprint(wanted.secret),
                        secret=True,
                    )
                )
            elif any(name in changed for name in SECRET_DESTINATION_FIELDS):
                # The same secret, sent again: where it is sent changes, and the service asks for it.
                found.append(FieldChange("oidc_config.client_secret", note="sent again (its destination changes)"))
            else:
                wanted.secret = None  # the same secret: nothing to send
        domains = sorted(normalize_domains(wanted.extra["domains"])) if wanted.extra["domains"] else []
        current_domains = sorted(row.domain for row in identity.domains.all())  # code points, as `domains`
        if domains != current_domains:
            found.append(FieldChange("domains", current_domains, domains))
            wanted.extra["domains_changed"] = True
        found.extend(self._mapper_changes(wanted, identity, context))
        return found

    def _mapper_changes(self, wanted: Wanted, identity: IdentityProvider, context: Context) -> list[FieldChange]:
        old = [(m.name, m.mapper_type, m.sync_mode, m.config) for m in identity.mappers.all()]
        sent = [(m.name, m.mapper_type, m.sync_mode, m.config) for m in wanted.extra["mappers"]]
        if canonical(sent) == canonical(old):
            # The stored rows as written (checked when they were): no check to run, and no query
            # (a group mapper's check looks its group up).
            return []
        rows = mappers_clean(
            identity=identity, mappers=wanted.extra["mappers"], grantor=Grantor(context.actor, context.workspace_id)
        )
        new = [(m.name, m.mapper_type, m.sync_mode, m.config) for m in rows]
        if canonical(new) == canonical(old):
            return []
        wanted.extra["mappers_changed"] = True
        found = []
        old_by_name = {entry[0]: entry for entry in old}
        new_by_name = {entry[0]: entry for entry in new}
        for name, mapper_type, sync_mode, config in new:
            before = old_by_name.get(name)
            path = f"mappers.{name}"
            if before is None:
                found.append(FieldChange(path, note=f"created ({mapper_type})"))
                continue
            for label, was, now in (
                ("identity_provider_mapper", before[1], mapper_type),
                ("sync_mode", before[2], sync_mode),
                ("config", before[3], config),
            ):
                if canonical(was) != canonical(now):
                    found.append(FieldChange(f"{path}.{label}", was, now))
        found.extend(FieldChange(f"mappers.{name}", note="deleted") for name in old_by_name if name not in new_by_name)
        if not found:
            found.append(FieldChange("mappers", note=f"reordered: {', '.join(entry[0] for entry in new)}"))
        return found

    def _create_arguments(self, wanted: Wanted) -> dict[str, Any]:
        values = wanted.values
        data = {name: values[name] for name in ("description", "enabled", "known_provider", *catalogue.SETTINGS)}
        if "keycloak_kept" in values:
            data["keycloak_kept"] = values["keycloak_kept"]
        return {
            "alias": wanted.key,
            "display_name": values["label"],
            "protocol": wanted.extra["protocol"],
            "data": data,
            "client_secret": wanted.secret,
            "domains": wanted.extra["domains"],
            "mappers": wanted.extra["mappers"],
        }

    def check_create(self, wanted: Wanted, context: Context) -> None:
        identity_provider_prepare_create(actor=context.actor, **self._create_arguments(wanted))

    def _update_arguments(self, wanted: Wanted) -> dict[str, Any]:
        return {
            "data": {name: wanted.values[name] for name in wanted.extra.get("changed", [])},
            "client_secret": wanted.secret,
            "domains": wanted.extra["domains"] if wanted.extra.get("domains_changed") else None,
            "mappers": wanted.extra["mappers"] if wanted.extra.get("mappers_changed") else None,
        }

    def check_update(self, wanted: Wanted, row: Provider, changes: list[FieldChange], context: Context) -> None:
        provider = Provider.objects.get(pk=row.pk)
        identity = IdentityProvider.objects.defer(*IdentityProvider.SECRET_COLUMNS).get(provider=provider)
        identity_provider_prepare_update(
            provider=provider, identity=identity, actor=context.actor, **self._update_arguments(wanted)
        )

    def create(self, wanted: Wanted, context: Context) -> Provider:
        return identity_provider_create(actor=context.actor, **self._create_arguments(wanted))

    def update(self, wanted: Wanted, row: Provider, changes: list[FieldChange], context: Context) -> None:
        arguments = self._update_arguments(wanted)
        if (
            arguments["data"]
            or arguments["client_secret"]
            or arguments["domains"] is not None
            or arguments["mappers"] is not None
        ):
            identity_provider_update(provider=row, actor=context.actor, **arguments)

    def delete(self, row: Provider, context: Context) -> None:
        provider_delete(provider=row, actor=context.actor)

    def managed_by(self, row: Provider | None) -> str:
        return row.managed_by if row is not None else ""


class ConfigRepositorySerializer(StrictSerializer):
    providerId = StrictCharField(required=False, allow_null=True, max_length=64)  # noqa: N815
    path = StrictCharField(required=False, allow_blank=True, max_length=500)


class ConfigProjectSerializer(StrictSerializer):
    """A project in a file: `GET /api/backend/projects/{id}`'s fields a file sets (not its owners)."""

    id = StrictCharField(max_length=64)
    name = StrictCharField(max_length=200)
    description = StrictCharField(required=False, allow_blank=True, max_length=2000)
    repository = ConfigRepositorySerializer(required=False)


PROJECT_PATHS = {
    "name": "name",
    "description": "description",
    "provider": "repository.providerId",
    "repository_path": "repository.path",
}


class Projects(Kind):
    section = "projects"
    key_field = "id"
    names = PROJECT_API_NAMES

    def read(self, item: Item, context: Context) -> Wanted:
        key, state = _state(item, self.key_field)
        wanted = Wanted(item=item, key=key, state=state)
        if state == ABSENT:
            return wanted
        body = _validated(context, ConfigProjectSerializer, item, item.data)
        data = body.validated_data
        repository = data.get("repository", {})
        wanted.values = {
            "name": data["name"],
            "description": data.get("description", ""),
            "provider": repository.get("providerId") or None,
            "repository_path": repository.get("path", ""),
        }
        return wanted

    def stored(self, keys: list[str], context: Context) -> dict[str, Any]:
        rows = Project._base_manager.filter(workspace_id=context.workspace_id, project_id__in=keys).select_related(
            "provider"
        )
        return {row.project_id: row for row in rows}

    def prepare(self, entries: list[Wanted], context: Context) -> None:
        keys = {entry.values["provider"] for entry in entries if entry.state != ABSENT} - {None}
        rows = list(
            Provider._base_manager.filter(workspace_id=context.workspace_id, provider_id__in=keys).only(
                "pk", "provider_id", "type", "workspace_id"
            )
        )
        identities = identity_provider_pks([row.pk for row in rows])
        context.links = {row.provider_id: row for row in rows if row.pk not in identities}

    def _link(self, wanted: Wanted, context: Context) -> Provider | None:
        """The git provider the project links, from this workspace: created by the file or stored
        (None until the file's own is created: `create` and `update` look it up again then)."""
        key = wanted.values["provider"]
        if key is None:
            return None
        provider = context.links.get(key)
        provider_type = provider.type if provider is not None else context.file_git_providers.get(key)
        if provider_type is None:
            raise ItemError(
                [wanted.item.error(f"No git provider “{key}” in this workspace or this file.", "repository.providerId")]
            )
        if PROVIDER_TYPES[provider_type].capability != GIT:
            raise ItemError([wanted.item.error(f"“{key}” is not a git provider.", "repository.providerId")])
        if provider is None:  # created by this apply: now in the database
            provider = Provider._base_manager.filter(workspace_id=context.workspace_id, provider_id=key).first()
            if provider is not None:
                context.links[key] = provider
        return provider

    def changes(self, wanted: Wanted, row: Project, context: Context) -> list[FieldChange]:
        self._link(wanted, context)
        current = {
            "name": row.name,
            "description": row.description,
            "provider": row.provider.provider_id if row.provider is not None else None,
            "repository_path": row.repository_path,
        }
        changed = [name for name, value in wanted.values.items() if not same(current[name], value)]
        wanted.extra["changed"] = changed
        return [FieldChange(PROJECT_PATHS[name], current[name], wanted.values[name]) for name in changed]

    def check_create(self, wanted: Wanted, context: Context) -> None:
        self._link(wanted, context)
        values = wanted.values
        Project(
            project_id=wanted.key,
            name=values["name"],
            description=values["description"],
            repository_path=values["repository_path"],
        ).full_clean(exclude=["workspace", "provider"], validate_unique=False, validate_constraints=False)

    def check_update(self, wanted: Wanted, row: Project, changes: list[FieldChange], context: Context) -> None:
        self.check_create(wanted, context)

    def create(self, wanted: Wanted, context: Context) -> Project:
        values = wanted.values
        return project_create(
            actor=context.actor,
            project_id=wanted.key,
            name=values["name"],
            description=values["description"],
            provider=self._link(wanted, context),
            repository_path=values["repository_path"],
        )

    def update(self, wanted: Wanted, row: Project, changes: list[FieldChange], context: Context) -> None:
        data = {name: wanted.values[name] for name in wanted.extra.get("changed", [])}
        if "provider" in data:
            data["provider"] = self._link(wanted, context)
        if data:
            project_update(project=row, actor=context.actor, data=data)

    def delete(self, row: Project, context: Context) -> None:
        project_delete(project=row, actor=context.actor)


KINDS: dict[str, Kind] = {kind.section: kind for kind in (GitProviders(), IdentityProviders(), Projects())}
