"""Request and read shapes of `/api/identity-providers` and its mappers: shape checks and name
translation only; the identity services hold every rule."""

from functools import cache
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from providers.api.fields import ChoiceField, StrictBooleanField, StrictCharField, StrictSerializer
from providers.catalog import KNOWN_PROVIDER_CHOICES, OAUTH2, OIDC, PROTOCOL_CHOICES, SAML
from providers.identity import catalogue
from providers.identity import selectors as identity_selectors
from providers.identity.catalogue import BROKER_FIELDS, LIFECYCLE_FIELDS, OIDC_FIELDS, SAML_FIELDS
from providers.identity.mappers import SYNC_MODES
from providers.identity.services import SECRET_MASK, MapperInput
from providers.models import IdentityProvider, Provider

from .examples import BROKER_OPTIONS_EXAMPLE, EXAMPLE_CERTIFICATE, OKTA_EXAMPLE
from .keycloak import from_keycloak, sent_errors, sent_names

SYNC_MODE_CHOICES = [(mode, mode) for mode in SYNC_MODES]


IDENTITY_API_NAMES = {
    "provider_id": "alias",
    "label": "display_name",
    "protocol": "provider_id",
    **{name: f"oidc_config.{name}" for name in catalogue.names(catalogue.OIDC_SECTION, secrets=True)},
    **{name: f"saml_config.{name}" for name in catalogue.SAML_FIELDS},
}
SECRET_HELP = f"Write-only; send “{SECRET_MASK}”, null or nothing to keep it."


def setting_input(field: catalogue.IdpField) -> serializers.Field:
    """The request field of a catalogue setting: strict types, every setting optional."""
    if field.kind == catalogue.BOOLEAN:
        return StrictBooleanField(required=False)
    if field.kind == catalogue.CHOICE:
        assert field.choices is not None
        return ChoiceField(choices=field.choices.choices, required=False)
    if field.kind == catalogue.SECRET:
        return StrictCharField(
            required=False, allow_blank=True, allow_null=True, max_length=4096, help_text=SECRET_HELP
        )
    if field.kind == catalogue.JSON:
        return serializers.DictField(required=False, child=serializers.JSONField())
    return StrictCharField(required=False, allow_blank=True, max_length=field.max_length)


def setting_read(field: catalogue.IdpField) -> serializers.Field:
    """The read field of a top-level catalogue setting, from the provider's identity configuration."""
    source = f"identity.{field.name}"
    if field.kind == catalogue.BOOLEAN:
        return serializers.BooleanField(source=source)
    if field.kind == catalogue.JSON:
        return serializers.JSONField(source=source)
    return serializers.CharField(source=source)


def with_settings(*sections: str, make=setting_input, keycloak_keys: bool = False):
    """Adds the catalogue's settings of `sections` to a serializer class, after its own fields,
    under their model names or, with `keycloak_keys`, under Keycloak's (leaving out those Keycloak
    has no key for)."""

    def decorate(cls):
        generated = {
            (f.keycloak if keycloak_keys else f.name): make(f)
            for f in catalogue.FIELDS
            if f.section in sections and (f.keycloak or not keycloak_keys)  # a setting Keycloak lacks has no key
        }
        cls._declared_fields = {**cls._declared_fields, **generated}
        return cls

    return decorate


@with_settings(catalogue.OIDC_SECTION)
class OidcConfigInputSerializer(StrictSerializer):
    sync_mode = ChoiceField(choices=SYNC_MODE_CHOICES, required=False)


@with_settings(catalogue.SAML_SECTION)
class SamlConfigInputSerializer(StrictSerializer):
    sync_mode = ChoiceField(choices=SYNC_MODE_CHOICES, required=False)
    certificate_expires_at = serializers.CharField(
        required=False, allow_null=True, help_text="Ignored: computed from the certificate (lets a read be sent back)."
    )


class MapperInputSerializer(StrictSerializer):
    id = StrictCharField(required=False, allow_blank=True, max_length=64, help_text="Ignored on input.")
    name = StrictCharField(max_length=100)
    identity_provider_mapper = StrictCharField(max_length=64, help_text="Mapper type, see `mapper-types`.")
    sync_mode = ChoiceField(choices=SYNC_MODE_CHOICES, required=False)
    config = serializers.DictField(required=False, child=serializers.JSONField())

    def to_internal_value(self, data):
        """Keycloak's IdentityProviderMapperRepresentation is another spelling: `identityProviderMapper`
        for the type, `identityProviderAlias` naming this identity provider, `syncMode` in `config`."""
        if isinstance(data, dict) and ("identityProviderMapper" in data or "identityProviderAlias" in data):
            data = dict(data)
            alias = data.pop("identityProviderAlias", None)
            expected = self.context.get("alias")
            if alias is not None and expected is not None and alias != expected:
                raise serializers.ValidationError({"identityProviderAlias": [f"Expected “{expected}” (the URL's)."]})
            if "identityProviderMapper" in data:
                if "identity_provider_mapper" in data:
                    raise serializers.ValidationError(
                        {
                            "identityProviderMapper": [
                                "Send either `identityProviderMapper` or `identity_provider_mapper`."
                            ]
                        }
                    )
                data["identity_provider_mapper"] = data.pop("identityProviderMapper")
            config = data.get("config")
            if isinstance(config, dict) and "syncMode" in config:
                config = dict(config)
                data.setdefault("sync_mode", config.pop("syncMode"))
                data["config"] = config
        return super().to_internal_value(data)

    def to_mapper(self, data: dict) -> MapperInput:
        return MapperInput(
            name=data["name"],
            mapper_type=data["identity_provider_mapper"],
            config=data.get("config", {}),
            sync_mode=data.get("sync_mode", IdentityProvider.SyncMode.INHERIT),
        )


@extend_schema_serializer(
    examples=[
        OKTA_EXAMPLE,
        OpenApiExample(
            "Keycloak broker options (reference request)",
            value=BROKER_OPTIONS_EXAMPLE,
            request_only=True,
            description="Keycloak's representation, as in the broker-options reference. OIDC needs an issuer or "
            'endpoints, so `config` carries the issuer; sent with `"config": {}` it is refused with 400 naming '
            "`oidc_config.issuer`.",
        ),
        OpenApiExample(
            "SAML 2.0",
            request_only=True,
            value={
                "alias": "corp-saml",
                "display_name": "Corporate SAML",
                "provider_id": "saml",
                "known_provider": "custom_saml",
                "saml_config": {
                    "entity_id": "http://www.okta.com/exk1a2b3c4Example",
                    "single_sign_on_service_url": "https://acme.okta.com/app/acme_registry/exk1a2b3c4/sso/saml",
                    "name_id_policy_format": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
                    "signing_certificate": EXAMPLE_CERTIFICATE,
                    "want_authn_requests_signed": False,
                    "post_binding_authn_request": True,
                    "post_binding_response": True,
                },
            },
        ),
    ]
)
@with_settings(catalogue.BROKER, catalogue.LIFECYCLE)
class IdentityProviderWriteSerializer(StrictSerializer):
    """The canonical body; Keycloak's representation (camelCase, `providerId`, `config`) is
    accepted as another spelling of it (see `from_keycloak`)."""

    api_field_names = IDENTITY_API_NAMES
    error_names = IDENTITY_API_NAMES  # per request: Keycloak's names when the body was Keycloak-style

    alias = StrictCharField(max_length=64, help_text="Unique, URL-safe; cannot change.")
    display_name = StrictCharField(max_length=200, required=False, help_text="Defaults to the alias.")
    provider_id = ChoiceField(choices=PROTOCOL_CHOICES, help_text="Protocol: oidc, oauth2 or saml.")
    enabled = StrictBooleanField(required=False)
    known_provider = ChoiceField(choices=KNOWN_PROVIDER_CHOICES, required=False, allow_null=True)
    description = StrictCharField(required=False, allow_blank=True, max_length=2000)
    oidc_config = OidcConfigInputSerializer(required=False)
    saml_config = SamlConfigInputSerializer(required=False)
    mappers = MapperInputSerializer(many=True, required=False)
    domains = serializers.ListField(child=StrictCharField(max_length=253), required=False, max_length=50)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            return super().to_internal_value(data)
        data, sent = from_keycloak(data, protocol=self.context.get("protocol"))
        self.error_names = sent_names(IDENTITY_API_NAMES, sent) if sent else IDENTITY_API_NAMES
        kept = data.pop("keycloak_kept", None)
        if not self.partial and "display_name" not in data and isinstance(data.get("alias"), str):
            data["display_name"] = data["alias"]
        try:
            validated = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not sent or not isinstance(exc.detail, dict):
                raise
            raise serializers.ValidationError(sent_errors(exc.detail, sent)) from exc
        if kept is not None:
            validated["keycloak_kept"] = kept
        return validated

    def to_service_data(self) -> dict[str, Any]:
        """Validated body → the identity services' arguments (model field names)."""
        body = dict(self.validated_data)
        protocol = body.get("provider_id")
        data: dict[str, Any] = {}
        for name in (*BROKER_FIELDS, *LIFECYCLE_FIELDS, "enabled", "description", "keycloak_kept"):
            if name in body:
                data[name] = body[name]
        if "known_provider" in body:
            data["known_provider"] = body["known_provider"] or ""
        oidc = dict(body.get("oidc_config") or {})
        saml = dict(body.get("saml_config") or {})
        client_secret = oidc.pop("client_secret", None)
        data.update({name: oidc[name] for name in OIDC_FIELDS if name in oidc})
        data.update({name: saml[name] for name in SAML_FIELDS if name in saml})
        sync = saml.get("sync_mode") if protocol == SAML else oidc.get("sync_mode")
        sync = sync or oidc.get("sync_mode") or saml.get("sync_mode")
        if sync:
            data["sync_mode"] = sync
        result: dict[str, Any] = {"data": data, "client_secret": client_secret}
        if "alias" in body:
            result["alias"] = body["alias"]
        if "display_name" in body:
            data["label"] = body["display_name"]
        if protocol:
            result["protocol"] = protocol
        if "domains" in body:
            result["domains"] = body["domains"]
        if "mappers" in body:
            result["mappers"] = [MapperInputSerializer().to_mapper(item) for item in body["mappers"]]
        return result


def oidc_config(identity: IdentityProvider) -> dict[str, Any]:
    config: dict[str, Any] = {name: getattr(identity, name) for name in OIDC_FIELDS}
    config["client_secret"] = catalogue.masked_secret(identity)
    config["sync_mode"] = identity.sync_mode
    return config


def saml_config(identity: IdentityProvider) -> dict[str, Any]:
    config: dict[str, Any] = {name: getattr(identity, name) for name in SAML_FIELDS}
    config["certificate_expires_at"] = (
        identity.certificate_expires_at.isoformat() if identity.certificate_expires_at else None
    )
    config["sync_mode"] = identity.sync_mode
    return config


@with_settings(catalogue.BROKER, catalogue.LIFECYCLE, make=setting_read)
class IdentityProviderSerializer(serializers.Serializer):
    """An identity provider as reads show it: the reference document's fields first, then the rest.
    The client secret only ever appears as the mask."""

    alias = serializers.CharField(source="provider_id")
    display_name = serializers.CharField(source="label")
    provider_id = serializers.CharField(source="identity.protocol", help_text="Protocol.")
    enabled = serializers.BooleanField()
    internal_id = serializers.UUIDField(source="identity.internal_id")
    known_provider = serializers.SerializerMethodField()
    config = serializers.SerializerMethodField(help_text="The protocol's configuration, secrets masked.")
    mapper_count = serializers.IntegerField()
    oidc_config = serializers.SerializerMethodField()
    saml_config = serializers.SerializerMethodField()
    description = serializers.CharField()
    status = serializers.CharField(source="identity.status")
    domains = serializers.SerializerMethodField()
    txt_record = serializers.CharField(source="identity.txt_record")
    redirect_uri = serializers.SerializerMethodField(
        help_text="The sign-in callback to register at the provider: the OIDC / OAuth 2.0 redirect URI, or "
        "the SAML Assertion Consumer Service URL."
    )
    saml_metadata_url = serializers.SerializerMethodField(
        help_text="SAML: where this registry's service provider metadata for it is served."
    )
    disabled_at = serializers.DateTimeField(source="identity.disabled_at", allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_known_provider(self, obj: Provider) -> str | None:
        return obj.identity.known_provider or None

    def get_config(self, obj: Provider) -> dict[str, Any]:
        return saml_config(obj.identity) if obj.identity.protocol == SAML else oidc_config(obj.identity)

    def get_oidc_config(self, obj: Provider) -> dict[str, Any] | None:
        return oidc_config(obj.identity) if obj.identity.protocol in (OIDC, OAUTH2) else None

    def get_saml_config(self, obj: Provider) -> dict[str, Any] | None:
        return saml_config(obj.identity) if obj.identity.protocol == SAML else None

    def get_redirect_uri(self, obj: Provider) -> str:
        return self._absolute(identity_selectors.redirect_path(provider=obj))

    def get_saml_metadata_url(self, obj: Provider) -> str | None:
        if obj.identity.protocol != SAML:
            return None
        obj.identity.provider = obj  # the path names the provider's workspace and alias
        return self._absolute(identity_selectors.saml_metadata_path(obj.identity))

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_domains(self, obj: Provider) -> list[dict[str, Any]]:
        return [
            {"domain": row.domain, "verified": row.verified_at is not None, "verified_at": row.verified_at}
            for row in obj.identity.domains.all()
        ]


class MapperSerializer(serializers.Serializer):
    id = serializers.CharField(source="pk")
    name = serializers.CharField()
    identity_provider_mapper = serializers.CharField(source="mapper_type")
    sync_mode = serializers.CharField()
    config = serializers.JSONField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


@cache
def reader(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """One read serializer of this class per process, for reads that render with
    `to_representation`: each new serializer first copies every declared field (most of an
    identity provider's come from the catalogue), which costs more than rendering one provider or
    a page of mappers. It is never given an instance, data or context, so it holds only its fields."""
    return serializer_class()


class MapperWriteSerializer(MapperInputSerializer):
    api_field_names = {"mapper_type": "identity_provider_mapper"}


class DryRunSerializer(StrictSerializer):
    claims = serializers.DictField(child=serializers.JSONField(), help_text="Claims or SAML attributes of a login.")


class DryRunResultSerializer(serializers.Serializer):
    attributes = serializers.DictField(child=serializers.JSONField())
    groups = serializers.ListField(child=serializers.CharField())
    username = serializers.CharField(allow_null=True)
    applied = serializers.ListField(child=serializers.DictField())


class ImportConfigSerializer(StrictSerializer):
    url = StrictCharField(required=False, max_length=2000, help_text="OIDC discovery/issuer URL or SAML metadata URL.")
    protocol = ChoiceField(choices=[("oidc", "oidc"), ("saml", "saml")], required=False)
    metadata_xml = StrictCharField(required=False, max_length=1_000_000, help_text="SAML metadata document.")
    metadata = serializers.FileField(required=False, help_text="SAML metadata file (multipart upload).")
    entity_id = StrictCharField(
        required=False,
        max_length=500,
        help_text="The entityID of the identity provider to import from SAML metadata listing several "
        "(a federation aggregate); without it such metadata is refused with the candidates.",
    )

    def validate(self, attrs):
        given = [name for name in ("url", "metadata_xml", "metadata") if attrs.get(name)]
        if len(given) != 1:
            raise serializers.ValidationError({"url": ["Send exactly one of `url`, `metadata_xml` or `metadata`."]})
        return attrs


class RefreshMetadataSerializer(StrictSerializer):
    remove_missing = StrictBooleanField(
        required=False,
        default=False,
        help_text="Stop trusting the signing certificates the metadata no longer lists (never the last one); "
        "by default they stay trusted and are reported as `kept`.",
    )


class UrlChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="`single_sign_on_service_url` or `single_logout_service_url`.")
    old = serializers.CharField()
    new = serializers.CharField()


class RefreshReportSerializer(serializers.Serializer):
    """What a metadata refresh found and did; certificates by their SHA-256 fingerprint."""

    alias = serializers.CharField()
    workspace = serializers.CharField()
    changed = serializers.BooleanField(help_text="Whether anything was saved.")
    added = serializers.ListField(child=serializers.CharField(), help_text="Newly trusted: in the metadata.")
    removed = serializers.ListField(
        child=serializers.CharField(), help_text="No longer in the metadata and no longer trusted (`remove_missing`)."
    )
    kept = serializers.ListField(child=serializers.CharField(), help_text="No longer in the metadata, still trusted.")
    trusted = serializers.ListField(child=serializers.CharField(), help_text="Every trusted certificate now.")
    changed_urls = UrlChangeSerializer(many=True)
    certificate_expires_at = serializers.DateTimeField(allow_null=True)
    summary = serializers.CharField(help_text="The same in words, e.g. “1 certificate added”.")


SP_KEY_ACTIONS = {
    "generate": "Make the first SP key, or the next one (published beside the current one before it signs).",
    "activate_next": "The next key signs and decrypts from now on; the current one becomes the previous one.",
    "forget_previous": "Delete the previous key: an assertion still encrypted for it is refused from then on.",
}


class SpKeyActionSerializer(StrictSerializer):
    action = ChoiceField(
        choices=list(SP_KEY_ACTIONS),
        help_text="; ".join(f"`{name}`: {text}" for name, text in SP_KEY_ACTIONS.items()),
    )


class SpCertificateSerializer(serializers.Serializer):
    """One SP certificate: public (the metadata lists it); its private key is never shown."""

    certificate = serializers.CharField(help_text="The certificate, PEM.")
    fingerprint_sha256 = serializers.CharField(help_text="SHA-256 fingerprint of the certificate, hex pairs.")
    subject = serializers.CharField()
    not_before = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(source="not_after")


class SpKeysSerializer(serializers.Serializer):
    """This registry's SAML SP keys for one identity provider, by their certificates."""

    current = SpCertificateSerializer(allow_null=True, help_text="Signs requests and decrypts; null until generated.")
    next = SpCertificateSerializer(
        allow_null=True, help_text="Published in the metadata and decrypts; signs once activated."
    )
    previous = SpCertificateSerializer(
        allow_null=True,
        help_text="Replaced by the last activation: still decrypts, neither signs nor is published, until forgotten.",
    )


@with_settings(catalogue.BROKER, make=setting_read, keycloak_keys=True)
class KeycloakIdentityProviderSerializer(serializers.Serializer):
    """Read shape of `?representation=keycloak`: Keycloak's IdentityProviderRepresentation."""

    alias = serializers.CharField()
    displayName = serializers.CharField()  # noqa: N815
    internalId = serializers.CharField()  # noqa: N815
    providerId = serializers.CharField()  # noqa: N815
    enabled = serializers.BooleanField()
    config = serializers.DictField(child=serializers.CharField())


class KeycloakMapperSerializer(serializers.Serializer):
    """Read shape of `?representation=keycloak`: Keycloak's IdentityProviderMapperRepresentation."""

    id = serializers.CharField()
    name = serializers.CharField()
    identityProviderAlias = serializers.CharField()  # noqa: N815
    identityProviderMapper = serializers.CharField()  # noqa: N815
    config = serializers.DictField(child=serializers.CharField())
