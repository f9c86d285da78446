"""A workspace written out as a configuration file: every git provider, identity provider (with
its domains and mappers) and project, fields named as in the API, in a fixed order, secrets never
(left out, or with `secret_refs="env"` a reference to an environment variable named after the
object). Written object by object, so a workspace of any size streams."""

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


def env_name(*parts: str) -> str:
    """`PROVIDER_MY_GITHUB_PROVIDER_ACCESSTOKEN`: the variable an exported reference names."""
    return re.sub(r"[^A-Z0-9]+", "_", "_".join(parts).upper()).strip("_")


def env_ref(*parts: str) -> dict[str, Any]:
    return {"secretRef": {"env": env_name(*parts)}}


def provider_entry(provider: Provider, *, secret_refs: str | None = None) -> dict[str, Any]:
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
        if secret_refs == ENV:
            fields = CREDENTIAL_TYPES[credential.type].fields
            credentials["content"] = {name: env_ref("provider", provider.provider_id, name) for name in fields}
        entry["credentials"] = credentials
    return entry


def _text(value: Any) -> Any:
    """Strings as the API's serializers read them back (without surrounding whitespace), so that an
    export applied elsewhere exports the same."""
    return value.strip() if isinstance(value, str) else value


def _settings(identity: IdentityProvider, names: Iterable[str]) -> dict[str, Any]:
    return {name: _text(getattr(identity, name)) for name in names}


def identity_entry(provider: Provider, *, secret_refs: str | None = None) -> dict[str, Any]:
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
        if secret_refs == ENV and identity.client_secret_updated_at:
            config = {
                "client_id": config.pop("client_id"),
                "client_secret": env_ref("idp", provider.provider_id, "client_secret"),
                **config,
            }
        entry["oidc_config"] = {**config, "sync_mode": identity.sync_mode}
    entry["domains"] = [row.domain for row in identity.domains.all()]
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


def sections(*, workspace_id: int, secret_refs: str | None = None) -> Iterator[tuple[str, Iterator[dict[str, Any]]]]:
    yield (
        "providers",
        (
            provider_entry(row, secret_refs=secret_refs)
            for row in selectors.config_providers(workspace_id=workspace_id).iterator(chunk_size=selectors.CHUNK)
        ),
    )
    yield (
        "identityProviders",
        (
            identity_entry(row, secret_refs=secret_refs)
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


def export(*, workspace_id: int, workspace_name: str, fmt: str = YAML, secret_refs: str | None = None) -> Iterator[str]:
    """The file, in pieces. JSON is the same document as `json.dumps(…, indent=2)` writes it."""
    top = header(workspace_id=workspace_id, workspace_name=workspace_name)
    parts = sections(workspace_id=workspace_id, secret_refs=secret_refs)
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
