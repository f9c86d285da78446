"""Keycloak's IdentityProviderRepresentation (the broker-options reference document, and the
`identityProviders` entries of a realm export): accepted as another spelling of the canonical body,
and given back on request (`?representation=keycloak`). The names come from the field catalogue;
keys Keycloak defines that the registry does not act on are kept and returned unchanged."""

import json
import re
from typing import Any

from rest_framework import serializers

from providers.catalog import SAML
from providers.identity import catalogue, keycloak_keys
from providers.identity.discovery import certificates_pem
from providers.identity.mappers import MAPPER_TYPES
from providers.models import IdentityProviderMapper, Provider

PEM_BODY = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)


def _either(body: dict[str, Any], camel: str, snake: str) -> None:
    if camel in body and snake in body:
        raise serializers.ValidationError({camel: [f"Send either `{camel}` or `{snake}`."]})


def _setting_value(field: catalogue.IdpField, value: Any) -> Any:
    """Keycloak writes every config value as a string: "true"/"false" for booleans, bare base64 DER
    (several comma-separated) for certificates."""
    if field.kind == catalogue.BOOLEAN and value in ("true", "false"):
        return value == "true"
    if field.name == "signing_certificate" and isinstance(value, str) and value:
        return certificates_pem(value)
    return value


def from_keycloak(body: dict[str, Any], *, protocol: str | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """A Keycloak-style body in canonical names, and canonical name → the name the client sent (so
    errors name what was sent). Kept keys go to `keycloak_kept`. Canonical bodies pass unchanged."""
    body = dict(body)
    sent: dict[str, str] = {}
    kept: dict[str, Any] = {}
    _either(body, "displayName", "display_name")
    if "displayName" in body:
        body["display_name"] = body.pop("displayName")
        sent["display_name"] = "displayName"
    for key, field in keycloak_keys.KEYCLOAK_TOP_LEVEL.items():
        if key in body:
            _either(body, key, field.name)
            body[field.name] = body.pop(key)
            sent[field.name] = key
    for key in keycloak_keys.KEYCLOAK_KEPT_TOP_LEVEL & set(body):
        kept[key] = body.pop(key)
    if "providerId" in body:
        _either(body, "providerId", "provider_id")
        keycloak_id = body.pop("providerId")
        if keycloak_id not in keycloak_keys.KEYCLOAK_PROVIDER_IDS:
            valid = ", ".join(keycloak_keys.KEYCLOAK_PROVIDER_IDS)
            raise serializers.ValidationError({"providerId": [f"Not a valid choice (expected one of: {valid})."]})
        protocol, known_provider = keycloak_keys.KEYCLOAK_PROVIDER_IDS[keycloak_id]
        body["provider_id"] = protocol
        if known_provider and "known_provider" not in body:
            body["known_provider"] = known_provider
        sent["provider_id"] = "providerId"
        # A Keycloak-style body: the settings it does not send in canonical sections are `config`'s.
        for section_name in ("oidc_config", "saml_config"):
            if section_name not in body:
                sent.setdefault(section_name, "config")
    if "config" in body:
        config = body.pop("config")
        if not isinstance(config, dict):
            raise serializers.ValidationError({"config": ["Expected an object."]})
        # The protocol sent, or on an update (which sends none) the stored one's.
        body_protocol = body.get("provider_id") or protocol or ""
        fields = keycloak_keys.keycloak_config_fields(body_protocol)
        section = "saml_config" if body_protocol == SAML else "oidc_config"
        translated: dict[str, Any] = {}
        kept_config: dict[str, Any] = {}
        for key, value in config.items():
            if key in fields:
                translated[fields[key].name] = _setting_value(fields[key], value)
            elif key in keycloak_keys.KEYCLOAK_CONFIG and keycloak_keys.KEYCLOAK_CONFIG[key].secret:
                # A secret is only ever stored encrypted, in its own field: never kept as sent.
                raise serializers.ValidationError({f"config.{key}": ["Not used by this protocol."]})
            elif keycloak_keys.keycloak_knows(key):
                kept_config[key] = value
            else:
                raise serializers.ValidationError({f"config.{str(key)[:64]}": ["Unknown field."]})
        # Keycloak 26 reads the older config key as the top-level option.
        if "hide_on_login" not in body and config.get("hideOnLoginPage") in ("true", "false"):
            body["hide_on_login"] = config["hideOnLoginPage"] == "true"
        body[section] = {**translated, **(body.get(section) or {})}
        sent[section] = "config"
        if kept_config:
            kept["config"] = kept_config
    if kept:
        if len(json.dumps(kept)) > keycloak_keys.KEYCLOAK_KEPT_MAX_BYTES:
            raise serializers.ValidationError(
                {"config": [f"At most {keycloak_keys.KEYCLOAK_KEPT_MAX_BYTES} bytes kept."]}
            )
        body["keycloak_kept"] = kept
    return body, sent


def sent_name(key: str, sent: dict[str, str]) -> str:
    """An error's canonical key (`oidc_config.sync_mode`, `trust_email`) as the client spelled it:
    in a Keycloak-style body, Keycloak's key (`config.syncMode`, `trustEmail`)."""
    head, _, rest = key.partition(".")
    if rest and sent.get(head) == "config":
        name, _, tail = rest.partition(".")
        field = catalogue.BY_NAME.get(name)
        rest = (field.keycloak if field is not None and field.keycloak else name) + (f".{tail}" if tail else "")
    return sent.get(head, head) + (f".{rest}" if rest else "")


def sent_errors(detail: dict, sent: dict[str, str]) -> dict:
    """A serializer's errors (`{"oidc_config": {"sync_mode": […]}}`) keyed as the client spelled
    the fields (`{"config.syncMode": […]}`)."""
    renamed: dict = {}
    for key, value in detail.items():
        if isinstance(value, dict) and sent.get(str(key)) == "config":
            renamed.update({sent_name(f"{key}.{inner}", sent): errors for inner, errors in value.items()})
        else:
            renamed[sent_name(str(key), sent)] = value
    return renamed


def sent_names(names: dict[str, str], sent: dict[str, str]) -> dict[str, str]:
    """Model field → the name a client uses (`names`), as this client spelled it (`sent`)."""
    model_names = {*names, *(f.name for f in catalogue.FIELDS)}
    return {name: sent_name(names.get(name, name), sent) for name in model_names}


def _config_value(field: catalogue.IdpField, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if field.name == "signing_certificate":
        return ",".join("".join(body.split()) for body in PEM_BODY.findall(value)) or value
    return str(value)


def to_keycloak(provider: Provider) -> dict[str, Any]:
    """The identity provider as Keycloak's IdentityProviderRepresentation: the catalogue's settings
    under Keycloak's keys (config values as strings, the client secret as the mask), and the kept keys
    as they were sent (a setting's own value wins over a kept one). Empty settings are left out, as
    Keycloak leaves out unset keys."""
    identity = provider.identity
    kept = dict(identity.keycloak_kept or {})
    kept_config = kept.pop("config", {})
    config: dict[str, str] = {}
    for key, field in keycloak_keys.keycloak_config_fields(identity.protocol).items():
        if field.secret:
            if catalogue.masked_secret(identity):
                config[key] = catalogue.SECRET_MASK
            continue
        value = getattr(identity, field.name)
        if value not in ("", None):
            config[key] = _config_value(field, value)
    representation: dict[str, Any] = {
        "alias": provider.provider_id,
        "displayName": provider.label,
        "internalId": str(identity.internal_id),
        "providerId": keycloak_keys.KEYCLOAK_PROVIDER_ID_OF.get(
            (identity.protocol, identity.known_provider or None), identity.protocol
        ),
        "enabled": provider.enabled,
        **{key: getattr(identity, field.name) for key, field in keycloak_keys.KEYCLOAK_TOP_LEVEL.items()},
        **kept,
        "config": {**kept_config, **config},
    }
    return representation


def mapper_to_keycloak(mapper: IdentityProviderMapper, *, alias: str) -> dict[str, Any]:
    """A mapper as Keycloak's IdentityProviderMapperRepresentation: config under Keycloak's keys for
    its type, kept keys as they were sent, `syncMode` inside `config`."""
    mtype = MAPPER_TYPES.get(mapper.mapper_type)
    names = {f.name: f.keycloak for f in mtype.fields if f.keycloak} if mtype else {}
    config = {names.get(key, key): value for key, value in mapper.config.items()}
    return {
        "id": str(mapper.pk),
        "name": mapper.name,
        "identityProviderAlias": alias,
        "identityProviderMapper": mapper.mapper_type,
        "config": {**config, "syncMode": mapper.sync_mode},
    }
