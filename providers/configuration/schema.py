"""The JSON Schema of the configuration file (docs/config.md), for editors to validate against.

It is generated, never written by hand: the git side from the API's write serializers and the
provider and credential type catalogue (`providers.catalog`), identity providers from the field
catalogue (`providers.identity.catalogue`) and the mapper types (`providers.identity.mappers`). So a
field added there shows up here. It describes the canonical spelling only (the API's names, not
Keycloak's). `docs/config-schema.json` is its output, regenerated with
`python -m providers.configuration.schema > docs/config-schema.json`."""

import json
import os
import sys
from typing import Any

import django

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()

from django.db import models
from rest_framework import serializers

from accounts.models import WORKSPACE_NAME_REGEX, Workspace
from providers.api.backend.serializers import (
    CredentialsInputSerializer,
    ProjectWriteSerializer,
    ProviderUrlsInputSerializer,
    ProviderWriteSerializer,
    RepositoryInputSerializer,
)
from providers.api.identity.serializers import IdentityProviderWriteSerializer, MapperInputSerializer
from providers.catalog import (
    CREDENTIAL_TYPES,
    CREDENTIAL_VALUE_MAX_LENGTH,
    KNOWN_PROVIDERS,
    PROTOCOLS,
    PROVIDER_TYPES,
    CredentialType,
    ProviderType,
)
from providers.identity import catalogue
from providers.identity.keycloak_keys import KEYCLOAK_KEPT_MAPPER_CONFIG
from providers.identity.mappers import CONFIG_VALUE_MAX_LENGTH, MAPPER_TYPES, SYNC_MODES, ConfigField, MapperType
from providers.models import SLUG_REGEX, Project, Provider

SCHEMA_ID = "https://provider-registry.invalid/config.schema.json"
ENV_NAME = "^[A-Za-z_][A-Za-z0-9_]*$"
SECRET_REF = {"$ref": "#/$defs/secretRef"}
STATE = {
    "enum": ["present", "absent"],
    "default": "present",
    "description": "`absent` deletes it (its key alone is enough); refused unless this file manages it or the "
    "plan is run with `--prune-unmanaged`.",
}
SECRET_HELP = "A secret, only as a `secretRef`; left out, the stored one is kept."
KEPT_CONFIG_HELP = "Keycloak's key, kept as sent and returned unchanged; not applied."


def _help(model: type[models.Model], name: str) -> str:
    return str(getattr(model._meta.get_field(name), "help_text", ""))


def _string(field: serializers.Field, description: str = "") -> dict[str, Any]:
    """A serializer's string field: its length and whether it may be empty."""
    schema: dict[str, Any] = {"type": "string"}
    if not getattr(field, "allow_blank", False):
        schema["minLength"] = 1
    if max_length := getattr(field, "max_length", None):
        schema["maxLength"] = max_length
    if description or field.help_text:
        schema["description"] = str(description or field.help_text)
    return schema


def _url(field: serializers.Field, description: str) -> dict[str, Any]:
    """A URL, or empty for none (or for the type's default)."""
    return {**_string(field, description), "anyOf": [{"format": "uri"}, {"const": ""}]}


def _when(name: str, value: Any, then: dict[str, Any]) -> dict[str, Any]:
    """`then` applies to the objects whose `name` is `value`."""
    return {"if": {"properties": {name: {"const": value}}, "required": [name]}, "then": then}


def _present_requires(names: list[str]) -> dict[str, Any]:
    """`state: absent` needs only the key; otherwise (the default, `present`) `names` are required."""
    return {"if": {"properties": {"state": {"const": "present"}}}, "then": {"required": names}}


def _credential_content(ctype: CredentialType) -> dict[str, Any]:
    """Exactly the type's fields; a secret field only as a reference, the others written out or referenced."""
    properties: dict[str, Any] = {}
    for name in ctype.all_fields:
        if name in ctype.secret_fields:
            properties[name] = {**SECRET_REF, "description": "A secret, only as a `secretRef`."}
        else:
            value: dict[str, Any] = {"type": "string", "maxLength": CREDENTIAL_VALUE_MAX_LENGTH}
            if name in ctype.fields:
                value["minLength"] = 1
            properties[name] = {"anyOf": [value, SECRET_REF]}
    return {
        "type": "object",
        "description": ctype.help,
        "properties": properties,
        "required": list(ctype.fields),
        "additionalProperties": False,
    }


def _credentials() -> dict[str, Any]:
    fields = CredentialsInputSerializer().fields
    return {
        "type": "object",
        "description": "Their type and expiry; `content` only to set or replace them (replaced whole: every "
        "field of their type). Left out, the stored ones are kept.",
        "properties": {
            "type": {"enum": list(CREDENTIAL_TYPES)},
            "expiresAt": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": str(fields["expiresAt"].help_text),
            },
            "content": {"type": "object", "description": "The fields of their type, secrets as references."},
        },
        "required": ["type"],
        "additionalProperties": False,
        "allOf": [
            _when("type", key, {"properties": {"content": _credential_content(ctype)}})
            for key, ctype in CREDENTIAL_TYPES.items()
        ],
    }


def _credential_types(ptype: ProviderType) -> dict[str, Any]:
    return {"properties": {"type": {"enum": list(ptype.credential_types)}}}


def git_provider_schema() -> dict[str, Any]:
    """An entry of `providers`: the body of `POST /api/backend/providers`, plus `state`. Every
    provider without identity configuration is one (a type with the identity capability may be
    registered for its credentials alone); credentials are optional (left out: kept)."""
    fields = ProviderWriteSerializer().fields
    urls = ProviderUrlsInputSerializer().fields
    types = list(PROVIDER_TYPES)
    enabled = Provider._meta.get_field("enabled")
    return {
        "type": "object",
        "title": "Git provider",
        "properties": {
            "id": {**_string(fields["id"]), "pattern": SLUG_REGEX},
            "label": _string(fields["label"], _help(Provider, "label")),
            "description": {**_string(fields["description"], _help(Provider, "description")), "default": ""},
            "type": {"enum": types, "description": _help(Provider, "type")},
            "urls": {
                "type": "object",
                "properties": {
                    "base": {**_url(urls["base"], _help(Provider, "base_url")), "default": ""},
                    "apiBase": {**_url(urls["apiBase"], _help(Provider, "api_base_url")), "default": ""},
                },
                "additionalProperties": False,
            },
            "enabled": {"type": "boolean", "default": enabled.default, "description": str(enabled.help_text)},
            "credentials": _credentials(),
            "state": STATE,
        },
        "required": ["id"],
        "additionalProperties": False,
        "allOf": [
            _present_requires([name for name, field in fields.items() if field.required and name != "credentials"]),
            *(
                _when("type", key, {"properties": {"credentials": _credential_types(PROVIDER_TYPES[key])}})
                for key in types
            ),
        ],
    }


def setting_schema(field: catalogue.IdpField) -> dict[str, Any]:
    """A catalogue field: its kind's JSON type, its length, choices, default and help."""
    schema: dict[str, Any] = {"title": field.verbose_name or field.name.replace("_", " ")}
    if field.kind == catalogue.SECRET:
        return {**schema, **SECRET_REF, "description": f"{field.help} {SECRET_HELP}".strip()}
    if field.help:
        schema["description"] = field.help
    if field.kind == catalogue.BOOLEAN:
        schema["type"] = "boolean"
    elif field.kind == catalogue.JSON:
        schema["type"] = "object"
    elif field.kind == catalogue.CHOICE:
        assert field.choices is not None
        schema.update(type="string", enum=[str(value) for value in field.choices.values])
    else:
        schema.update(type="string", maxLength=field.max_length)
        if field.kind == catalogue.URL:
            schema["anyOf"] = [{"format": "uri"}, {"const": ""}]
    if field.kind == catalogue.JSON:
        schema["default"] = {}
    else:
        schema["default"] = field.default if isinstance(field.default, bool) else str(field.default)
    return schema


def _settings(*sections: str) -> dict[str, Any]:
    return {field.name: setting_schema(field) for field in catalogue.FIELDS if field.section in sections}


def _config_value(field: ConfigField) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": CONFIG_VALUE_MAX_LENGTH}
    if field.kind == "choice":
        schema["enum"] = list(field.choices)
    if field.required:
        schema.update(minLength=1, pattern=r"\S")
    return {"title": field.label, "description": field.help, **schema}


def mapper_config_schema(mtype: MapperType) -> dict[str, Any]:
    """A mapper type's `config`: its fields by their canonical names (not Keycloak's spellings, which
    the API accepts too), and the Keycloak keys every mapper keeps as sent."""
    properties = {field.name: _config_value(field) for field in mtype.fields}
    spellings = {field.keycloak for field in mtype.fields}
    for key in sorted(KEYCLOAK_KEPT_MAPPER_CONFIG - properties.keys() - spellings):
        properties[key] = {"type": "string", "maxLength": CONFIG_VALUE_MAX_LENGTH, "description": KEPT_CONFIG_HELP}
    return {
        "type": "object",
        "description": f"{mtype.label}: {mtype.help}",
        "properties": properties,
        "required": [field.name for field in mtype.fields if field.required],
        "additionalProperties": False,
    }


def mapper_schema() -> dict[str, Any]:
    """An entry of an identity provider's `mappers`, in the order they apply."""
    fields = MapperInputSerializer().fields
    allof = []
    for key, mtype in MAPPER_TYPES.items():
        then: dict[str, Any] = {"properties": {"config": mapper_config_schema(mtype)}}
        if any(field.required for field in mtype.fields):
            then["required"] = ["config"]
        allof.append(_when("identity_provider_mapper", key, then))
    return {
        "type": "object",
        "title": "Mapper",
        "properties": {
            "name": _string(fields["name"]),
            "identity_provider_mapper": {
                "enum": list(MAPPER_TYPES),
                "description": "The mapper type (`GET /api/identity-providers/mapper-types`).",
            },
            "sync_mode": {"enum": list(SYNC_MODES), "default": catalogue.SyncMode.INHERIT.value},
            "config": {"type": "object", "default": {}, "description": "The type's settings."},
        },
        "required": ["name", "identity_provider_mapper"],
        "additionalProperties": False,
        "allOf": allof,
    }


def _mapper_types(protocol: str) -> dict[str, Any]:
    """The mapper types that apply to an identity provider of `protocol` (the API refuses the others)."""
    applicable = [key for key, mtype in MAPPER_TYPES.items() if protocol in mtype.protocols]
    return {"properties": {"identity_provider_mapper": {"enum": applicable}}}


def identity_provider_schema() -> dict[str, Any]:
    """An entry of `identityProviders`: the body of `POST /api/identity-providers`, plus `state`."""
    fields = IdentityProviderWriteSerializer().fields
    domains = fields["domains"]
    assert isinstance(domains, serializers.ListField)
    enabled = Provider._meta.get_field("enabled")
    protocol_config = {
        catalogue.OIDC_SECTION: "OpenID Connect and OAuth 2.0 settings (`provider_id` oidc or oauth2).",
        catalogue.SAML_SECTION: "SAML 2.0 settings (`provider_id` saml).",
    }
    config = {
        f"{section}_config": {
            "type": "object",
            "description": description,
            "properties": _settings(section, catalogue.GENERAL),
            "additionalProperties": False,
        }
        for section, description in protocol_config.items()
    }
    return {
        "type": "object",
        "title": "Identity provider",
        "properties": {
            "alias": {**_string(fields["alias"]), "pattern": SLUG_REGEX},
            "display_name": _string(fields["display_name"]),
            "provider_id": {"enum": list(PROTOCOLS), "description": str(fields["provider_id"].help_text)},
            "enabled": {"type": "boolean", "default": enabled.default, "description": str(enabled.help_text)},
            "known_provider": {
                "enum": [*KNOWN_PROVIDERS, None],
                "default": None,
                "description": "The preset it was made from, which fills in defaults.",
            },
            "description": {**_string(fields["description"], _help(Provider, "description")), "default": ""},
            **_settings(catalogue.BROKER, catalogue.LIFECYCLE),
            **config,
            "domains": {
                "type": "array",
                "items": _string(domains.child),
                "maxItems": domains.max_length,
                "description": "Its e-mail domains (a domain the file adds starts unverified).",
            },
            "mappers": {"type": "array", "items": {"$ref": "#/$defs/mapper"}},
            "state": STATE,
        },
        "required": ["alias"],
        "additionalProperties": False,
        "allOf": [
            _present_requires([name for name, field in fields.items() if field.required]),
            *(
                _when("provider_id", protocol, {"properties": {"mappers": {"items": _mapper_types(protocol)}}})
                for protocol in PROTOCOLS
            ),
        ],
    }


def project_schema() -> dict[str, Any]:
    """An entry of `projects`, as `/api/backend/projects` shows it, plus `state`."""
    fields = ProjectWriteSerializer().fields
    repository = RepositoryInputSerializer().fields
    project_id = Project._meta.get_field("project_id")
    return {
        "type": "object",
        "title": "Project",
        "properties": {
            "id": {
                "type": "string",
                "minLength": 1,
                "maxLength": project_id.max_length,
                "pattern": SLUG_REGEX,
                "description": str(project_id.help_text),
            },
            "name": _string(fields["name"], _help(Project, "name")),
            "description": {**_string(fields["description"], _help(Project, "description")), "default": ""},
            "repository": {
                "type": "object",
                "properties": {
                    "providerId": {
                        "type": ["string", "null"],
                        "maxLength": getattr(repository["providerId"], "max_length", None),
                        "default": None,
                        "description": "The `id` of a git provider in this workspace or this file; null for none.",
                    },
                    "path": {**_string(repository["path"], _help(Project, "repository_path")), "default": ""},
                },
                "additionalProperties": False,
            },
            "state": STATE,
        },
        "required": ["id"],
        "additionalProperties": False,
        "allOf": [_present_requires(["id", "name"])],
    }


def secret_ref_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "title": "Secret reference",
        "description": "Resolved when the plan or the apply runs, on the server that runs it: an environment "
        "variable, or a file (relative to the configuration file; one trailing newline is dropped).",
        "properties": {
            "secretRef": {
                "type": "object",
                "properties": {
                    "env": {"type": "string", "pattern": ENV_NAME, "description": "An environment variable's name."},
                    "file": {"type": "string", "minLength": 1, "description": "A file's path."},
                },
                "minProperties": 1,
                "maxProperties": 1,
                "additionalProperties": False,
            }
        },
        "required": ["secretRef"],
        "additionalProperties": False,
    }


def config_schema() -> dict[str, Any]:
    """The whole file's schema (JSON Schema draft 2020-12)."""
    workspace_name = Workspace._meta.get_field("name")
    managed_by = Provider._meta.get_field("managed_by")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Provider registry configuration",
        "description": "A workspace's git providers, identity providers (with their domains and mappers) and "
        "projects, as `manage.py config export` writes them and `config plan` / `config apply` read them "
        "(docs/config.md). Secrets only as references.",
        "type": "object",
        "properties": {
            "version": {"const": 1, "description": "The file format's version."},
            "workspace": {
                "type": "string",
                "maxLength": workspace_name.max_length,
                "pattern": WORKSPACE_NAME_REGEX,
                "description": "Where it was exported from; informational.",
            },
            "managedBy": {
                "type": "string",
                "minLength": 1,
                "maxLength": managed_by.max_length,
                "pattern": SLUG_REGEX,
                "description": "This file's name: an apply marks what it lists as managed by it, and deletes what "
                "it marked and no longer lists.",
            },
            "providers": {"type": "array", "items": {"$ref": "#/$defs/gitProvider"}, "description": "By `id`."},
            "identityProviders": {
                "type": "array",
                "items": {"$ref": "#/$defs/identityProvider"},
                "description": "By `alias`.",
            },
            "projects": {"type": "array", "items": {"$ref": "#/$defs/project"}, "description": "By `id`."},
        },
        "required": ["version"],
        "additionalProperties": False,
        "$defs": {
            "gitProvider": git_provider_schema(),
            "identityProvider": identity_provider_schema(),
            "mapper": mapper_schema(),
            "project": project_schema(),
            "secretRef": secret_ref_schema(),
        },
    }


def dumps(schema: dict[str, Any]) -> str:
    """The text of `docs/config-schema.json`."""
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(dumps(config_schema()))
