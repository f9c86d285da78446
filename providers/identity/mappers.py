"""Identity-provider mappers: the catalogue of mapper types and the validation of their
configuration. Type keys are Keycloak's mapper ids, and config keys accept Keycloak's spelling, so
clients written for Keycloak can name them verbatim. Keycloak's mapper types that act on what the
registry does not have (roles, user-session notes) are kept: accepted, stored and returned as sent,
never applied. `providers.identity.mapping` applies the others to a login's claims."""

import json
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from accounts.models import DEFAULT_WORKSPACE_ID
from accounts.selectors import GLOBAL_ROLE_GROUPS, acts_in_every_workspace
from providers import audit

from .keycloak_keys import KEYCLOAK_KEPT_MAPPER_CONFIG

OIDC = "oidc"
OAUTH2 = "oauth2"
SAML = "saml"
PROTOCOLS = (OIDC, OAUTH2, SAML)

SYNC_MODES = ("INHERIT", "IMPORT", "LEGACY", "FORCE")

CONFIG_VALUE_MAX_LENGTH = 1000


@dataclass(frozen=True)
class ConfigField:
    """One key of a mapper's `config` object. `kind` says how the value is checked: "group" must
    name an existing auth Group, "json" must parse as JSON, "choice" must be one of `choices`."""

    name: str
    label: str
    help: str
    required: bool = True
    kind: str = "string"
    choices: tuple[str, ...] = ()
    keycloak: str = ""  # the key Keycloak's mapper of the same id uses


@dataclass(frozen=True)
class MapperType:
    key: str
    label: str
    help: str
    protocols: tuple[str, ...]
    fields: tuple[ConfigField, ...]
    applied: bool = True  # False: one of Keycloak's types, kept as sent and never applied


CLAIM = ConfigField(
    "claim",
    "Claim",
    "Name of the claim in the ID token or user info, e.g. “email”. A dotted path reaches into nested "
    "objects, e.g. “address.country”; a claim whose own name contains dots, e.g. "
    "“https://example.com/roles”, is found as well.",
    keycloak="claim",
)
ATTRIBUTE_NAME = ConfigField(
    "attribute_name",
    "Attribute name",
    "Name of the SAML attribute as sent in the assertion, e.g. “urn:oid:0.9.2342.19200300.100.1.3” or “email”.",
    keycloak="attribute.name",
)
USER_ATTRIBUTE = ConfigField(
    "user_attribute",
    "User attribute",
    "Name of the user attribute to set, e.g. “email” or “department”.",
    keycloak="user.attribute",
)
GROUP = ConfigField(
    "group",
    "Group",
    "Name of an existing group the user is added to.",
    kind="group",
    keycloak="group",
)

MAPPER_TYPES: dict[str, MapperType] = {
    m.key: m
    for m in (
        MapperType(
            "oidc-user-attribute-idp-mapper",
            "Attribute importer",
            "Copies a claim into a user attribute when the claim is present. Lists stay lists.",
            (OIDC, OAUTH2),
            (CLAIM, USER_ATTRIBUTE),
        ),
        MapperType(
            "saml-user-attribute-idp-mapper",
            "Attribute importer",
            "Copies a SAML attribute into a user attribute when the assertion carries it.",
            (SAML,),
            (ATTRIBUTE_NAME, USER_ATTRIBUTE),
        ),
        MapperType(
            "oidc-advanced-group-idp-mapper",
            "Claim to group",
            "Adds the user to a group when a claim equals a value, or when the claim is a list containing it.",
            (OIDC, OAUTH2),
            (
                CLAIM,
                ConfigField(
                    "claim_value", "Claim value", "Value the claim must have, e.g. “admins”.", keycloak="claim.value"
                ),
                GROUP,
            ),
        ),
        MapperType(
            "saml-advanced-group-idp-mapper",
            "Attribute to group",
            "Adds the user to a group when a SAML attribute has a value, e.g. memberOf = “admins”.",
            (SAML,),
            (
                ATTRIBUTE_NAME,
                ConfigField(
                    "attribute_value",
                    "Attribute value",
                    "Value the attribute must have, e.g. “admins”.",
                    keycloak="attribute.value",
                ),
                GROUP,
            ),
        ),
        MapperType(
            "oidc-hardcoded-group-idp-mapper",
            "Hardcoded group",
            "Adds every user who logs in through this provider to a group.",
            PROTOCOLS,
            (GROUP,),
        ),
        MapperType(
            "hardcoded-attribute-idp-mapper",
            "Hardcoded attribute",
            "Sets a user attribute to a fixed value for every user who logs in through this provider.",
            PROTOCOLS,
            (
                ConfigField(
                    "user_attribute",
                    "User attribute",
                    "Name of the user attribute to set, e.g. “department”.",
                    keycloak="attribute",
                ),
                ConfigField(
                    "attribute_value", "Attribute value", "Value to set, e.g. “contractor”.", keycloak="attribute.value"
                ),
            ),
        ),
        MapperType(
            "oidc-username-idp-mapper",
            "Username template",
            "Builds the username from claims: ${CLAIM.<name>} inserts a claim (dotted paths allowed), "
            "${ALIAS} the provider's alias.",
            PROTOCOLS,
            (
                ConfigField(
                    "template",
                    "Template",
                    "e.g. “${CLAIM.preferred_username}” or “${CLAIM.email}-${ALIAS}”.",
                    keycloak="template",
                ),
            ),
        ),
    )
}

KEPT_HELP = (
    "Keycloak's mapper, kept as sent and returned unchanged; not applied: it acts on roles or user "
    "sessions, which the registry does not have."
)


def _kept(key: str, label: str, protocols: tuple[str, ...], config_keys: tuple[str, ...]) -> MapperType:
    fields = tuple(ConfigField(k, k, f"Keycloak's “{k}”.", required=False, keycloak=k) for k in config_keys)
    return MapperType(key, f"{label} (kept from Keycloak, not applied)", KEPT_HELP, protocols, fields, applied=False)


# Keycloak 26's identity-provider mapper types that act on roles or user sessions, with their keys.
KEPT_MAPPER_TYPES = {
    m.key: m
    for m in (
        _kept("oidc-hardcoded-role-idp-mapper", "Hardcoded role", PROTOCOLS, ("role",)),
        _kept("oidc-role-idp-mapper", "Claim to role", (OIDC, OAUTH2), ("claim", "claim.value", "role")),
        _kept(
            "oidc-advanced-role-idp-mapper",
            "Advanced claim to role",
            (OIDC, OAUTH2),
            ("claims", "are.claim.values.regex", "role"),
        ),
        _kept(
            "keycloak-oidc-role-to-role-idp-mapper", "External role to role", (OIDC, OAUTH2), ("external.role", "role")
        ),
        _kept(
            "oidc-user-session-note-idp-mapper",
            "Claim to user session",
            (OIDC, OAUTH2),
            ("claims", "are.claim.values.regex"),
        ),
        _kept(
            "hardcoded-user-session-attribute-idp-mapper",
            "Hardcoded user session attribute",
            PROTOCOLS,
            ("attribute", "attribute.value"),
        ),
        _kept(
            "saml-role-idp-mapper",
            "SAML attribute to role",
            (SAML,),
            ("attribute.name", "attribute.friendly.name", "attribute.value", "role"),
        ),
        _kept(
            "saml-advanced-role-idp-mapper",
            "Advanced attribute to role",
            (SAML,),
            ("attributes", "are.attribute.values.regex", "role"),
        ),
    )
}
MAPPER_TYPES.update(KEPT_MAPPER_TYPES)

ATTRIBUTE_IMPORTERS = frozenset({"oidc-user-attribute-idp-mapper", "saml-user-attribute-idp-mapper"})
VALUE_TO_GROUP = frozenset({"oidc-advanced-group-idp-mapper", "saml-advanced-group-idp-mapper"})
PLACEHOLDER_RE = re.compile(r"\$\{([^}]*)\}")
# No spaces or "|": Keycloak's "${CLAIM.email | lowercase}" transformers are not supported and
# must be refused rather than read as a claim named "email | lowercase".
CLAIM_PLACEHOLDER_RE = re.compile(r"CLAIM\.[^\s|${}]+")


def group_name(value: str) -> str:
    """The group a mapper names: its name, or Keycloak's path of a top-level group (“/operators”)."""
    return value[1:] if value.startswith("/") and "/" not in value[1:] else value


def _template_errors(template: str) -> list[str]:
    """Placeholders other than ${CLAIM.<path>} and ${ALIAS}, and a "${" never closed."""
    errors = []
    for match in PLACEHOLDER_RE.finditer(template):
        inner = match.group(1)
        if inner != "ALIAS" and not CLAIM_PLACEHOLDER_RE.fullmatch(inner):
            errors.append(f'Unknown placeholder "{match.group(0)}": use ${{CLAIM.<name>}} or ${{ALIAS}}.')
    if "${" in PLACEHOLDER_RE.sub("", template):
        errors.append('Unclosed placeholder: "${" without "}".')
    return errors


def _value_errors(value: str) -> list[str]:
    """What every config value must be, whatever its key: short, and free of null characters."""
    if len(value) > CONFIG_VALUE_MAX_LENGTH:
        return [f"Ensure this value has at most {CONFIG_VALUE_MAX_LENGTH} characters."]
    if "\x00" in value:
        return ["Null characters are not allowed."]
    return []


@dataclass(frozen=True)
class Grantor:
    """Who writes a mapper (the request's user; None for a command) and the workspace the mapper
    belongs to: what granting a global group depends on (`global_group_refusal`)."""

    actor: Any
    workspace_id: int | None


def global_group_refusal(grantor: Grantor | None) -> str | None:
    """Why a mapper may not grant a global group (one whose members hold their role in every
    workspace), or None when it may.
    - Another workspace's mapper may: there the group stands for its role in that workspace only
      (a sign-in makes the user a member with that role, `providers.identity.services.federation`),
      which whoever may write the workspace's mappers already administers.
    - A default-workspace mapper grants the group itself, so only someone already in every
      workspace may write it (a superuser or a global group's member, not through a token limited
      to one workspace), or a command (no actor, no request being served: whoever runs manage.py
      holds the server): else an operator of the default workspace alone could make whoever signs
      in through the mapper an operator of every workspace.
    Without a grantor (a caller that says neither), refused."""
    if grantor is None:
        return "only the default workspace's mappers, written by someone in every workspace, may grant it."
    if grantor.workspace_id is not None and grantor.workspace_id != DEFAULT_WORKSPACE_ID:
        return None
    actor = grantor.actor
    signed_in = actor is not None and actor.is_authenticated
    # Without a signed-in actor, only a command may (a request without one is no one's).
    allowed = acts_in_every_workspace(actor) if signed_in else not audit.in_request()
    return None if allowed else "only superusers and those already in every workspace may grant it."


def _field_errors(field: ConfigField, value: str, mapper_type: str, grantor: Grantor | None) -> list[str]:
    if errors := _value_errors(value):
        return errors
    if field.kind == "group" and not Group.objects.filter(name=group_name(value)).exists():
        return [f'No group named "{value}".']
    if field.kind == "group" and group_name(value) in GLOBAL_ROLE_GROUPS:
        refusal = global_group_refusal(grantor)
        if refusal:
            return [f'"{value}" gives its role in every workspace: {refusal}']
    if field.kind == "json":
        try:
            json.loads(value)
        except ValueError:
            return ["Expected valid JSON."]
    if field.kind == "choice" and value not in field.choices:
        return [f"Choose one of: {', '.join(field.choices)}."]
    if mapper_type == "oidc-username-idp-mapper" and field.name == "template":
        return _template_errors(value)
    return []


def mapper_config_validate(
    *, mapper_type: str, config: object, protocol: str | None = None, grantor: Grantor | None = None
) -> dict[str, str]:
    """Check a mapper's type (against the provider's protocol, when given) and its config object,
    and return the config reduced to the type's fields. A global group is granted only as
    `global_group_refusal` allows for `grantor` (who writes the mapper, and where).

    Raises ValidationError keyed by the offending field ("identity_provider_mapper", "config",
    "config.<name>") so the API can name it; every field problem is reported at once."""
    mtype = MAPPER_TYPES.get(mapper_type) if isinstance(mapper_type, str) else None
    if mtype is None:
        shown = str(mapper_type)[:100]
        raise ValidationError({"identity_provider_mapper": [f'Unknown mapper type "{shown}".']})
    if protocol is not None and protocol not in mtype.protocols:
        shown = str(protocol)[:100]
        raise ValidationError(
            {"identity_provider_mapper": [f'"{mtype.key}" does not apply to {shown} identity providers.']}
        )
    if not isinstance(config, dict):
        raise ValidationError({"config": ["Expected an object."]})

    errors: dict[str, list[str]] = {}
    known = {f.name: f for f in mtype.fields}
    keycloak = {f.keycloak: f.name for f in mtype.fields if f.keycloak and f.keycloak != f.name}
    cleaned: dict[str, str] = {}
    spelled: dict[str, object] = {}
    for key, value in config.items():
        name = keycloak.get(key, key)
        if name in known:
            if name in spelled:
                errors[f"config.{str(key)[:100]}"] = [f"Send either “{name}” or “{key}”."]
            spelled[name] = value
        elif key in KEYCLOAK_KEPT_MAPPER_CONFIG:
            kept_errors = ["Expected a string."] if not isinstance(value, str) else _value_errors(value)
            if kept_errors:
                errors[f"config.{key}"] = kept_errors
            else:
                cleaned[key] = value
        else:
            errors[f"config.{str(key)[:100]}"] = [f"Unknown field for {mtype.key}."]
    config = spelled

    for field in mtype.fields:
        value = config.get(field.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if field.required:
                errors[f"config.{field.name}"] = ["This field is required."]
            elif isinstance(value, str):
                cleaned[field.name] = value
            continue
        if not isinstance(value, str):
            errors[f"config.{field.name}"] = ["Expected a string."]
            continue
        field_errors = _field_errors(field, value, mtype.key, grantor)
        if field_errors:
            errors[f"config.{field.name}"] = field_errors
        else:
            cleaned[field.name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def mapper_types_catalogue(protocol: str | None = None) -> list[dict]:
    """The mapper types a client may choose from, JSON-ready, limited to those applicable to
    `protocol` when it is given (an unknown protocol gets an empty list)."""
    catalogue = []
    for mtype in MAPPER_TYPES.values():
        if protocol is not None and protocol not in mtype.protocols:
            continue
        fields = []
        for f in mtype.fields:
            entry: dict[str, object] = {
                "name": f.name,
                "label": f.label,
                "help": f.help,
                "required": f.required,
                "kind": f.kind,
            }
            if f.kind == "choice":
                entry["choices"] = list(f.choices)
            fields.append(entry)
        catalogue.append(
            {
                "id": mtype.key,
                "label": mtype.label,
                "help": mtype.help,
                "protocols": list(mtype.protocols),
                "applied": mtype.applied,
                "config_fields": fields,
            }
        )
    return catalogue
