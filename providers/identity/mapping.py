"""The engine that turns the claims (OIDC/OAuth2) or attributes (SAML) of a login into user
attributes, groups and a username, with the mappers of `providers.identity.mappers`.

A real login and the API's dry-run both call `apply_mappers`, so what an operator previews is what
a user gets."""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from accounts.roles import GROUP_ROLES

from .mappers import ATTRIBUTE_IMPORTERS, KEPT_MAPPER_TYPES, PLACEHOLDER_RE, VALUE_TO_GROUP, group_name


@dataclass(frozen=True)
class MapperSpec:
    """A configured mapper as the engine needs it; `config` is already validated."""

    name: str
    mapper_type: str
    config: dict[str, str]
    sync_mode: str = "INHERIT"


@dataclass
class MappingResult:
    """What a login would get: `applied` explains each mapper in order for the dry-run."""

    attributes: dict[str, object]
    groups: list[str]
    username: str | None
    applied: list[dict]


_MISSING = object()


def _lookup(claims: Mapping, path: str) -> object:
    """The value at `path`, or _MISSING. A key that exists verbatim wins (namespaced claims such as
    "https://example.com/roles" contain dots); otherwise the path descends into nested objects,
    taking the longest matching key at each level. Greedy, without backtracking, so a crafted
    dry-run payload cannot make the walk exponential."""
    node: object = claims
    rest = path
    while isinstance(node, Mapping):
        if rest in node:
            return node[rest]
        parts = rest.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            child = node.get(".".join(parts[:cut]))
            if isinstance(child, Mapping):
                node, rest = child, ".".join(parts[cut:])
                break
        else:
            return _MISSING
    return _MISSING


def _as_text(value: object) -> str:
    """How a claim value reads when compared or put into a username: JSON spelling for booleans,
    null and containers, so 42, "42" and true/"true" compare equal as they do in the token."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    try:
        return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        return ""  # absurdly deep or self-referencing values never match anything


def _claim_value(mapper_type: str, config: Mapping[str, str], claims: Mapping) -> object:
    # SAML attribute names are URIs and OIDs full of dots, so they are only ever looked up verbatim.
    if "attribute_name" in config:
        return claims.get(config["attribute_name"], _MISSING)
    return _lookup(claims, config.get("claim", ""))


def _render_username(template: str, claims: Mapping, alias: str) -> str:
    def substitute(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner == "ALIAS":
            return alias
        value = _lookup(claims, inner[len("CLAIM.") :]) if inner.startswith("CLAIM.") else _MISSING
        return "" if value is _MISSING else _as_text(value)

    return PLACEHOLDER_RE.sub(substitute, template).strip()


def apply_mappers(
    *, mappers: list[MapperSpec], claims: dict, alias: str = "", workspace_roles: bool = False
) -> MappingResult:
    """Apply `mappers` in order to the claims of one login. Later attribute and username mappers
    overwrite earlier ones; groups accumulate without duplicates in order of first addition.
    `workspace_roles`: the identity provider is outside the default workspace, where a global
    role group stands for its role in that workspace (`services.federation`), as the dry-run says.

    Never raises on unusual claim shapes: values are compared as text. A mapper of an unknown type
    is reported as not matched rather than failing the whole login."""
    result = MappingResult(attributes={}, groups=[], username=None, applied=[])
    claims = claims if isinstance(claims, Mapping) else {}

    def add_group(name: str) -> str:
        if name not in result.groups:
            result.groups.append(name)
        role = GROUP_ROLES.get(name) if workspace_roles else None
        if role:
            return f"Made a member of this workspace with the {role.replace('_', ' ')} role."
        return f"Added to group {name}."

    for spec in mappers:
        config = spec.config
        matched = False
        if spec.mapper_type in KEPT_MAPPER_TYPES:
            detail = "Kept from Keycloak; not applied (it acts on roles or user sessions)."
        elif spec.mapper_type in ATTRIBUTE_IMPORTERS:
            source = config.get("attribute_name") or config.get("claim", "")
            value = _claim_value(spec.mapper_type, config, claims)
            if value is _MISSING or value is None:
                detail = f'"{source}" not present.'
            else:
                matched = True
                result.attributes[config["user_attribute"]] = value
                detail = f'Set {config["user_attribute"]} from "{source}".'
        elif spec.mapper_type in VALUE_TO_GROUP:
            source = config.get("attribute_name") or config.get("claim", "")
            expected = config.get("claim_value", config.get("attribute_value", ""))
            value = _claim_value(spec.mapper_type, config, claims)
            candidates = value if isinstance(value, list | tuple | set | frozenset) else [value]
            if value is not _MISSING and any(_as_text(item) == expected for item in candidates):
                matched = True
                detail = add_group(group_name(config["group"]))
            elif value is _MISSING:
                detail = f'"{source}" not present.'
            else:
                detail = f'"{source}" does not contain the value.'
        elif spec.mapper_type == "oidc-hardcoded-group-idp-mapper":
            matched = True
            detail = add_group(group_name(config["group"]))
        elif spec.mapper_type == "hardcoded-attribute-idp-mapper":
            matched = True
            result.attributes[config["user_attribute"]] = config["attribute_value"]
            detail = f"Set {config['user_attribute']}."
        elif spec.mapper_type == "oidc-username-idp-mapper":
            username = _render_username(config.get("template", ""), claims, alias)
            if username:
                matched = True
                result.username = username
                detail = "Username set from template."
            else:
                detail = "Template rendered empty; username unchanged."
        else:
            detail = "Unknown mapper type; skipped."
        result.applied.append({"name": spec.name, "type": spec.mapper_type, "matched": matched, "detail": detail})
    return result
