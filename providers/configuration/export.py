"""A workspace written out as a configuration file: every git provider, identity provider (with
its domains and mappers) and project, fields named as in the API, in a fixed order, secrets never
(left out, or with `secret_refs="env"` a reference to an environment variable named after the
object). Written object by object, so a workspace of any size streams."""

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from providers.api.fields import iso_datetime
from providers.catalog import CREDENTIAL_TYPES, SAML
from providers.identity import catalogue
from providers.models import IdentityProvider, Project, Provider

from . import selectors
from .document import VERSION

YAML, JSON = "yaml", "json"
FORMATS = (YAML, JSON)
ENV = "env"


class EnvNames:
    """The variables an export's references name: `PROVIDER_MY_GITHUB_PROVIDER_ACCESSTOKEN`, after
    `prefix` (the API's, so the file applies there too). Ids that differ only in case or
    punctuation (`gh-prod`, `gh.prod`) would name one variable: the later one (in the export's
    order, so always the same) gets its id's hash appended."""

    def __init__(self, prefix: str = ""):
        self.prefix = prefix
        self.owners: dict[str, tuple[str, ...]] = {}

    def ref(self, *parts: str) -> dict[str, Any]:
        name = self.prefix + re.sub(r"[^A-Z0-9]+", "_", "_".join(parts).upper()).strip("_")
        if self.owners.setdefault(name, parts) != parts:
            name += "_" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:6].upper()
            self.owners[name] = parts
        return {"secretRef": {"env": name}}


def provider_entry(provider: Provider, *, names: EnvNames | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": provider.provider_id,
        "label": _text(provider.label),
        "description": _text(provider.description),
        "type": provider.type,
        "urls": {"base": provider.base_url, "apiBase": provider.api_base_url},
        "enabled": provider.enabled,
    }
    credential = getattr(provider, "credential", None)
    if credential is not None:
        credentials: dict[str, Any] = {"type": credential.type, "expiresAt": iso_datetime(credential.expires_at)}
        if names is not None:
            fields = CREDENTIAL_TYPES[credential.type].fields
            credentials["content"] = {name: names.ref("provider", provider.provider_id, name) for name in fields}
        entry["credentials"] = credentials
    return entry


def _text(value: Any) -> Any:
    """Strings as the API's serializers read them back (without surrounding whitespace), so that an
    export applied elsewhere exports the same."""
    return value.strip() if isinstance(value, str) else value


def _settings(identity: IdentityProvider, names: Iterable[str]) -> dict[str, Any]:
    return {name: _text(getattr(identity, name)) for name in names}


def identity_entry(provider: Provider, *, names: EnvNames | None = None) -> dict[str, Any]:
    """An identity provider in the canonical API's shape (`POST /api/identity-providers`)."""
    identity = provider.identity
    entry: dict[str, Any] = {
        "alias": provider.provider_id,
        "display_name": _text(provider.label),
        "provider_id": identity.protocol,
        "enabled": provider.enabled,
        "known_provider": identity.known_provider or None,
        "description": _text(provider.description),
        **_settings(identity, catalogue.BROKER_FIELDS),
        **_settings(identity, catalogue.LIFECYCLE_FIELDS),
    }
    if identity.protocol == SAML:
        entry["saml_config"] = {**_settings(identity, catalogue.SAML_FIELDS), "sync_mode": identity.sync_mode}
    else:
        config = _settings(identity, catalogue.OIDC_FIELDS)
        if names is not None and identity.client_secret_updated_at:
            config = {
                "client_id": config.pop("client_id"),
                "client_secret": names.ref("idp", provider.provider_id, "client_secret"),
                **config,
            }
        entry["oidc_config"] = {**config, "sync_mode": identity.sync_mode}
    entry["domains"] = sorted(row.domain for row in identity.domains.all())  # code points, whatever the collation
    entry["mappers"] = [
        {
            "name": mapper.name,
            "identity_provider_mapper": mapper.mapper_type,
            "sync_mode": mapper.sync_mode,
            "config": mapper.config,
        }
        for mapper in identity.mappers.all()
    ]
    return entry


def project_entry(project: Project) -> dict[str, Any]:
    return {
        "id": project.project_id,
        "name": _text(project.name),
        "description": _text(project.description),
        "repository": {"providerId": project.provider_key, "path": project.repository_path},  # type: ignore[attr-defined]
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (certificates, descriptions) as literal blocks, as people write them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _yaml(value: Any) -> str:
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)


def _managed_by(workspace_id: int) -> str:
    """The header's `managedBy`: the one file that manages everything, if one does."""
    markers = set(
        Provider._base_manager.filter(workspace_id=workspace_id)
        .order_by()
        .values_list("managed_by", flat=True)
        .distinct()
    )
    markers |= set(
        Project._base_manager.filter(workspace_id=workspace_id)
        .order_by()
        .values_list("managed_by", flat=True)
        .distinct()
    )
    return markers.pop() if len(markers) == 1 else ""


def sections(
    *, workspace_id: int, secret_refs: str | None = None, env_prefix: str = ""
) -> Iterator[tuple[str, Iterator[dict[str, Any]]]]:
    names = EnvNames(env_prefix) if secret_refs == ENV else None
    yield (
        "providers",
        (
            provider_entry(row, names=names)
            for row in selectors.config_providers(workspace_id=workspace_id).iterator(chunk_size=selectors.CHUNK)
        ),
    )
    yield (
        "identityProviders",
        (
            identity_entry(row, names=names)
            for row in selectors.config_identity_providers(workspace_id=workspace_id).iterator(
                chunk_size=selectors.CHUNK
            )
        ),
    )
    yield (
        "projects",
        (
            project_entry(row)
            for row in selectors.config_projects(workspace_id=workspace_id).iterator(chunk_size=selectors.CHUNK)
        ),
    )


def header(*, workspace_id: int, workspace_name: str) -> dict[str, Any]:
    values: dict[str, Any] = {"version": VERSION, "workspace": workspace_name}
    if managed_by := _managed_by(workspace_id):
        values["managedBy"] = managed_by
    return values


def export(
    *, workspace_id: int, workspace_name: str, fmt: str = YAML, secret_refs: str | None = None, env_prefix: str = ""
) -> Iterator[str]:
    """The file, in pieces. JSON is the same document as `json.dumps(…, indent=2)` writes it. The
    references `secret_refs="env"` writes name variables starting with `env_prefix`."""
    top = header(workspace_id=workspace_id, workspace_name=workspace_name)
    parts = sections(workspace_id=workspace_id, secret_refs=secret_refs, env_prefix=env_prefix)
    if fmt == JSON:
        yield from _json(top, parts)
        return
    yield _yaml(top)
    for name, entries in parts:
        first = True
        for entry in entries:
            if first:
                yield f"{name}:\n"
                first = False
            yield _yaml([entry])
        if first:
            yield f"{name}: []\n"


def _json(top: dict[str, Any], parts: Iterator[tuple[str, Iterator[dict[str, Any]]]]) -> Iterator[str]:
    yield "{\n" + "".join(f"  {json.dumps(key)}: {json.dumps(value)},\n" for key, value in top.items())
    for position, (name, entries) in enumerate(parts):
        closing = "\n" if position == 2 else ",\n"
        first = True
        for entry in entries:
            text = json.dumps(entry, indent=2, ensure_ascii=False).replace("\n", "\n    ")
            yield (f"  {json.dumps(name)}: [\n    " if first else ",\n    ") + text
            first = False
        yield (f"  {json.dumps(name)}: []" if first else "\n  ]") + closing
    yield "}\n"
