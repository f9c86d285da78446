"""The canonical identity-provider API, `/api/identity-providers` (fields of the OIDC/SAML/mappers
reference document plus broker options and lifecycle). Serializers translate shapes; the
identity services hold every rule."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from providers.catalog import KNOWN_PROVIDER_CHOICES, OAUTH2, OIDC, PROTOCOL_CHOICES, SAML
from providers.concurrency import version_tag
from providers.identity import selectors as identity_selectors
from providers.identity import services as identity_services
from providers.identity.discovery import oidc_discover, oidc_discovery_url, saml_fetch_metadata, saml_parse_metadata
from providers.identity.mappers import SYNC_MODES, mapper_types_catalogue
from providers.identity.services import (
    BROKER_FIELDS,
    LIFECYCLE_FIELDS,
    OIDC_FIELDS,
    SAML_FIELDS,
    SECRET_MASK,
    MapperInput,
)
from providers.models import ID_CHARACTERS, IdentityProvider, IdentityProviderMapper, Provider
from providers.services import provider_delete

from .fields import ChoiceField, SafeJSONParser, StrictBooleanField, StrictCharField, StrictSerializer
from .pagination import ProviderPagination
from .permissions import ChangePermissions, ModelPermissions, NestedPermissions
from .schema import IF_MATCH
from .views import AUTH_ERRORS, BAD_REQUEST, CONFLICT, DETAIL, NOT_FOUND

SYNC_MODE_CHOICES = [(mode, mode) for mode in SYNC_MODES]

IDENTITY_API_NAMES = {
    "provider_id": "alias",
    "label": "display_name",
    "protocol": "provider_id",
    **{name: f"oidc_config.{name}" for name in (
        "authorization_url", "token_url", "client_id", "client_secret", "user_info_url", "issuer", "jwks_url",
        "logout_url", "default_scope", "validate_signature", "use_jwks_url", "pkce_enabled", "pkce_method",
        "client_auth_method",
    )},
    **{name: f"saml_config.{name}" for name in (
        "single_sign_on_service_url", "single_logout_service_url", "name_id_policy_format", "signing_certificate",
        "want_authn_requests_signed", "post_binding_authn_request", "post_binding_response", "entity_id",
    )},
}  # fmt: skip


def url_field(**kwargs) -> StrictCharField:
    return StrictCharField(required=False, allow_blank=True, max_length=500, **kwargs)


class OidcConfigInputSerializer(StrictSerializer):
    authorization_url = url_field()
    token_url = url_field()
    client_id = StrictCharField(required=False, allow_blank=True, max_length=255)
    client_secret = StrictCharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=4096,
        help_text=f"Write-only; send “{SECRET_MASK}”, null or nothing to keep it.",
    )
    user_info_url = url_field()
    issuer = url_field()
    jwks_url = url_field()
    logout_url = url_field()
    default_scope = StrictCharField(required=False, allow_blank=True, max_length=500)
    sync_mode = ChoiceField(choices=SYNC_MODE_CHOICES, required=False)
    validate_signature = StrictBooleanField(required=False)
    use_jwks_url = StrictBooleanField(required=False)
    pkce_enabled = StrictBooleanField(required=False)
    pkce_method = ChoiceField(choices=IdentityProvider.PkceMethod.choices, required=False)
    client_auth_method = ChoiceField(choices=IdentityProvider.ClientAuthMethod.choices, required=False)


class SamlConfigInputSerializer(StrictSerializer):
    entity_id = StrictCharField(required=False, allow_blank=True, max_length=500)
    single_sign_on_service_url = url_field()
    single_logout_service_url = url_field()
    name_id_policy_format = StrictCharField(required=False, allow_blank=True, max_length=200)
    signing_certificate = StrictCharField(required=False, allow_blank=True, max_length=20_000)
    want_authn_requests_signed = StrictBooleanField(required=False)
    post_binding_authn_request = StrictBooleanField(required=False)
    post_binding_response = StrictBooleanField(required=False)
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

    def to_mapper(self, data: dict) -> MapperInput:
        return MapperInput(
            name=data["name"],
            mapper_type=data["identity_provider_mapper"],
            config=data.get("config", {}),
            sync_mode=data.get("sync_mode", IdentityProvider.SyncMode.INHERIT),
        )


REFERENCE_EXAMPLE = {
    "alias": "okta-corp",
    "display_name": "Okta (corporate)",
    "provider_id": "oidc",
    "enabled": True,
    "known_provider": "okta",
    "oidc_config": {
        "authorization_url": "https://acme.okta.com/oauth2/default/v1/authorize",
        "token_url": "https://acme.okta.com/oauth2/default/v1/token",
        "client_id": "0oa1b2c3d4Example",
        "client_secret": "client-secret-value",
        "user_info_url": "https://acme.okta.com/oauth2/default/v1/userinfo",
        "issuer": "https://acme.okta.com/oauth2/default",
        "default_scope": "openid email profile",
        "sync_mode": "INHERIT",
        "validate_signature": True,
        "use_jwks_url": True,
        "pkce_enabled": False,
        "pkce_method": "S256",
    },
    "mappers": [
        {
            "name": "email",
            "identity_provider_mapper": "oidc-user-attribute-idp-mapper",
            "config": {"claim": "email", "user_attribute": "email"},
        }
    ],
}


EXAMPLE_CERTIFICATE = (  # a self-signed public certificate for idp.example.com, valid until 2036
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBIDCBx6ADAgECAgEBMAoGCCqGSM49BAMCMBoxGDAWBgNVBAMMD2lkcC5leGFt\n"
    "cGxlLmNvbTAeFw0yNjEyMDEwMDAwMDBaFw0zNjExMjgwMDAwMDBaMBoxGDAWBgNV\n"
    "BAMMD2lkcC5leGFtcGxlLmNvbTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBPu\n"
    "uNUSXgfvH3M0Exifx8MSQ5Ixs55x4L30TQN+HXO6j0v7deVlcIpX1EM1ROuswf1I\n"
    "fIVGCj75ARuLSCL54DcwCgYIKoZIzj0EAwIDSAAwRQIhAJaMVro+eDOBkvMNLgBl\n"
    "7Sh+cmq9MUxfUF8KNBZjV3jlAiAYRNpAIAfhVPmUsrf0xwYLaV4cfUQrBEi/42XC\n"
    "vOHMlg==\n"
    "-----END CERTIFICATE-----\n"
)
EXAMPLE_SAML_METADATA = (
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
    'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.com/metadata">'
    '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
    '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
    + "".join(EXAMPLE_CERTIFICATE.splitlines()[1:-1])
    + "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
    "<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>"
    '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
    'Location="https://idp.example.com/sso"/>'
    "</md:IDPSSODescriptor></md:EntityDescriptor>"
)
OKTA_EXAMPLE = OpenApiExample(
    "Okta over OIDC (reference request)",
    value=REFERENCE_EXAMPLE,
    request_only=True,
    description="The create request of the OIDC/SAML/mappers reference, with its placeholders filled in.",
)
BROKER_OPTIONS_EXAMPLE = {
    "alias": "keycloak-oidc-2",
    "providerId": "keycloak-oidc",
    "enabled": True,
    "updateProfileFirstLoginMode": "on",
    "trustEmail": False,
    "storeToken": False,
    "addReadTokenRoleOnCreate": False,
    "authenticateByDefault": False,
    "linkOnly": False,
    "firstBrokerLoginFlowAlias": "first broker login",
    "config": {"issuer": "https://sso.example.com/realms/acme"},
}
MAPPER_EXAMPLES = [
    OpenApiExample(
        "Copy the email claim (reference mapper)",
        request_only=True,
        value={
            "name": "email",
            "identity_provider_mapper": "oidc-user-attribute-idp-mapper",
            "config": {"claim": "email", "user_attribute": "email"},
        },
    ),
    OpenApiExample(
        "Admins group from a claim",
        request_only=True,
        value={
            "name": "admins",
            "identity_provider_mapper": "oidc-advanced-group-idp-mapper",
            "sync_mode": "FORCE",
            "config": {"claim": "groups", "claim_value": "admins", "group": "access_token_manager"},
        },
    ),
]


# Keycloak's IdentityProviderRepresentation (the broker-options reference document): the same
# settings under camelCase names, `providerId` naming protocol and preset, `config` a flat map of
# strings. Accepted as a spelling of the canonical body, so Keycloak-style clients work unchanged.
KEYCLOAK_NAMES = {
    "displayName": "display_name",
    "updateProfileFirstLoginMode": "update_profile_first_login_mode",
    "trustEmail": "trust_email",
    "storeToken": "store_token",
    "addReadTokenRoleOnCreate": "add_read_token_role_on_create",
    "authenticateByDefault": "authenticate_by_default",
    "linkOnly": "link_only",
    "hideOnLogin": "hide_on_login",
    "firstBrokerLoginFlowAlias": "first_broker_login_flow_alias",
}
KEYCLOAK_PROVIDER_IDS = {  # Keycloak provider id → (protocol, known provider)
    "oidc": (OIDC, None),
    "keycloak-oidc": (OIDC, "keycloak"),
    "google": (OIDC, "google"),
    "microsoft": (OIDC, "entra_id"),
    "okta": (OIDC, "okta"),
    "github": (OAUTH2, "github"),
    "oauth2": (OAUTH2, None),
    "saml": (SAML, None),
}
KEYCLOAK_CONFIG_NAMES = {
    "clientId": "client_id", "clientSecret": "client_secret", "authorizationUrl": "authorization_url",
    "tokenUrl": "token_url", "userInfoUrl": "user_info_url", "issuer": "issuer", "jwksUrl": "jwks_url",
    "logoutUrl": "logout_url", "defaultScope": "default_scope", "syncMode": "sync_mode",
    "validateSignature": "validate_signature", "useJwksUrl": "use_jwks_url", "pkceEnabled": "pkce_enabled",
    "pkceMethod": "pkce_method", "clientAuthMethod": "client_auth_method", "entityId": "entity_id",
    "singleSignOnServiceUrl": "single_sign_on_service_url", "singleLogoutServiceUrl": "single_logout_service_url",
    "nameIDPolicyFormat": "name_id_policy_format", "signingCertificate": "signing_certificate",
    "wantAuthnRequestsSigned": "want_authn_requests_signed", "postBindingAuthnRequest": "post_binding_authn_request",
    "postBindingResponse": "post_binding_response",
}  # fmt: skip


def from_keycloak(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A Keycloak-style body in canonical names, and canonical name → the name the client sent
    (so errors name what was sent). Canonical bodies pass through unchanged."""
    body = dict(body)
    sent: dict[str, str] = {}
    for camel, snake in KEYCLOAK_NAMES.items():
        if camel in body:
            if snake in body:
                raise serializers.ValidationError({camel: [f"Send either `{camel}` or `{snake}`."]})
            body[snake] = body.pop(camel)
            sent[snake] = camel
    if "providerId" in body:
        keycloak_id = body.pop("providerId")
        if "provider_id" in body:
            raise serializers.ValidationError({"providerId": ["Send either `providerId` or `provider_id`."]})
        if keycloak_id not in KEYCLOAK_PROVIDER_IDS:
            valid = ", ".join(KEYCLOAK_PROVIDER_IDS)
            raise serializers.ValidationError({"providerId": [f"Not a valid choice (expected one of: {valid})."]})
        protocol, known_provider = KEYCLOAK_PROVIDER_IDS[keycloak_id]
        body["provider_id"] = protocol
        if known_provider and "known_provider" not in body:
            body["known_provider"] = known_provider
        sent["provider_id"] = "providerId"
    if "config" in body:
        config = body.pop("config")
        if not isinstance(config, dict):
            raise serializers.ValidationError({"config": ["Expected an object."]})
        section = "saml_config" if body.get("provider_id") == SAML else "oidc_config"
        translated: dict[str, Any] = {}
        for key, value in config.items():
            if key not in KEYCLOAK_CONFIG_NAMES:
                raise serializers.ValidationError({f"config.{str(key)[:64]}": ["Unknown field."]})
            translated[KEYCLOAK_CONFIG_NAMES[key]] = {"true": True, "false": False}.get(value, value)
        body[section] = {**translated, **(body.get(section) or {})}
        sent[section] = "config"
    return body, sent


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
class IdentityProviderWriteSerializer(StrictSerializer):
    """The canonical body; Keycloak's representation (camelCase, `providerId`, `config`) is
    accepted as another spelling of it (see `from_keycloak`)."""

    api_field_names = IDENTITY_API_NAMES

    alias = StrictCharField(max_length=64, help_text="Unique, URL-safe; cannot change.")
    display_name = StrictCharField(max_length=200, required=False, help_text="Defaults to the alias.")
    provider_id = ChoiceField(choices=PROTOCOL_CHOICES, help_text="Protocol: oidc, oauth2 or saml.")
    enabled = StrictBooleanField(required=False)
    known_provider = ChoiceField(choices=KNOWN_PROVIDER_CHOICES, required=False, allow_null=True)
    description = StrictCharField(required=False, allow_blank=True, max_length=2000)
    oidc_config = OidcConfigInputSerializer(required=False)
    saml_config = SamlConfigInputSerializer(required=False)
    mappers = MapperInputSerializer(many=True, required=False)
    trust_email = StrictBooleanField(required=False)
    store_token = StrictBooleanField(required=False)
    add_read_token_role_on_create = StrictBooleanField(required=False)
    authenticate_by_default = StrictBooleanField(required=False)
    link_only = StrictBooleanField(required=False)
    hide_on_login = StrictBooleanField(required=False)
    first_broker_login_flow_alias = StrictCharField(required=False, allow_blank=True, max_length=100)
    update_profile_first_login_mode = ChoiceField(choices=IdentityProvider.FirstLoginMode.choices, required=False)
    domains = serializers.ListField(child=StrictCharField(max_length=253), required=False, max_length=50)
    reference = StrictCharField(required=False, allow_blank=True, max_length=200)
    reference_origin = StrictCharField(required=False, allow_blank=True, max_length=200)
    organization = StrictCharField(required=False, allow_blank=True, max_length=200)
    metadata = serializers.DictField(required=False, child=serializers.JSONField())

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            return super().to_internal_value(data)
        data, sent = from_keycloak(data)
        if not self.partial and "display_name" not in data and isinstance(data.get("alias"), str):
            data["display_name"] = data["alias"]
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not sent or not isinstance(exc.detail, dict):
                raise
            raise serializers.ValidationError(
                {_sent_name(str(key), sent): value for key, value in exc.detail.items()}
            ) from exc

    def to_service_data(self) -> dict[str, Any]:
        """Validated body → the identity services' arguments (model field names)."""
        body = dict(self.validated_data)
        protocol = body.get("provider_id")
        data: dict[str, Any] = {}
        for name in (*BROKER_FIELDS, *LIFECYCLE_FIELDS, "enabled", "description"):
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


def _sent_name(key: str, sent: dict[str, str]) -> str:
    head, _, rest = key.partition(".")
    return sent.get(head, head) + (f".{rest}" if rest else "")


def masked_secret(identity: IdentityProvider) -> str | None:
    return SECRET_MASK if identity.client_secret_updated_at else None


def oidc_config(identity: IdentityProvider) -> dict[str, Any]:
    config: dict[str, Any] = {name: getattr(identity, name) for name in OIDC_FIELDS}
    config["client_secret"] = masked_secret(identity)
    config["sync_mode"] = identity.sync_mode
    return config


def saml_config(identity: IdentityProvider) -> dict[str, Any]:
    config: dict[str, Any] = {name: getattr(identity, name) for name in SAML_FIELDS}
    config["certificate_expires_at"] = (
        identity.certificate_expires_at.isoformat() if identity.certificate_expires_at else None
    )
    config["sync_mode"] = identity.sync_mode
    return config


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
    disabled_at = serializers.DateTimeField(source="identity.disabled_at", allow_null=True)
    trust_email = serializers.BooleanField(source="identity.trust_email")
    store_token = serializers.BooleanField(source="identity.store_token")
    add_read_token_role_on_create = serializers.BooleanField(source="identity.add_read_token_role_on_create")
    authenticate_by_default = serializers.BooleanField(source="identity.authenticate_by_default")
    link_only = serializers.BooleanField(source="identity.link_only")
    hide_on_login = serializers.BooleanField(source="identity.hide_on_login")
    first_broker_login_flow_alias = serializers.CharField(source="identity.first_broker_login_flow_alias")
    update_profile_first_login_mode = serializers.CharField(source="identity.update_profile_first_login_mode")
    reference = serializers.CharField(source="identity.reference")
    reference_origin = serializers.CharField(source="identity.reference_origin")
    organization = serializers.CharField(source="identity.organization")
    metadata = serializers.JSONField(source="identity.metadata")
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

    def validate(self, attrs):
        given = [name for name in ("url", "metadata_xml", "metadata") if attrs.get(name)]
        if len(given) != 1:
            raise serializers.ValidationError({"url": ["Send exactly one of `url`, `metadata_xml` or `metadata`."]})
        return attrs


def import_config(data: dict[str, Any]) -> dict[str, Any]:
    """Parse a configuration from the outside world without saving anything."""
    if data.get("metadata"):
        upload = data["metadata"]
        if upload.size > 1_000_000:
            raise serializers.ValidationError({"metadata": ["At most 1 MB."]})
        return _with_entity_id_inside(saml_parse_metadata(upload.read()))
    if data.get("metadata_xml"):
        try:
            return _with_entity_id_inside(saml_parse_metadata(data["metadata_xml"]))
        except DjangoValidationError as exc:
            raise DjangoValidationError({"metadata_xml": exc.messages}) from exc
    return _with_entity_id_inside(_import_from_url(data["url"], data.get("protocol")))


def _with_entity_id_inside(result: dict[str, Any]) -> dict[str, Any]:
    """SAML results carry `entity_id` inside `saml_config` too, so the config can be posted as is."""
    if "saml_config" in result and result.get("entity_id"):
        result["saml_config"] = {"entity_id": result["entity_id"], **result["saml_config"]}
    return result


def _import_from_url(url: str, protocol: str | None) -> dict[str, Any]:
    if protocol is None:
        looks_saml = any(hint in url.lower() for hint in ("saml", "metadata", ".xml"))
        protocol = "saml" if looks_saml and "openid-configuration" not in url else "oidc"
    if protocol == "saml":
        return saml_fetch_metadata(url)
    return oidc_discover(oidc_discovery_url(url))


IDP_CONFLICT = {409: OpenApiResponse(CONFLICT, description="The alias is taken.")}


@extend_schema(tags=["Identity providers"])
class IdentityProviderViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Identity providers (OIDC, OAuth 2.0, SAML) with broker options, lifecycle and mappers."""

    queryset = Provider.objects.none()
    permission_model = IdentityProvider
    permission_classes = [ModelPermissions]
    pagination_class = ProviderPagination
    lookup_field = "provider_id"
    lookup_url_kwarg = "alias"
    lookup_value_regex = ID_CHARACTERS
    filterset_class = None
    filter_backends: list = []

    def get_queryset(self):
        return identity_selectors.identity_provider_list()

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return IdentityProviderWriteSerializer
        return IdentityProviderSerializer

    def _read(self, provider: Provider) -> dict:
        return IdentityProviderSerializer(identity_selectors.identity_provider_list().get(pk=provider.pk)).data

    @extend_schema(
        summary="Create an identity provider",
        request=IdentityProviderWriteSerializer,
        responses={201: IdentityProviderSerializer, **BAD_REQUEST, **AUTH_ERRORS, **IDP_CONFLICT},
    )
    def create(self, request, *args, **kwargs):
        serializer = IdentityProviderWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        body = serializer.to_service_data()
        provider = identity_services.identity_provider_create(
            actor=request.user,
            alias=body["alias"],
            display_name=body["data"].pop("label"),
            protocol=body["protocol"],
            data=body["data"],
            client_secret=body["client_secret"],
            domains=body.get("domains"),
            mappers=body.get("mappers"),
        )
        return Response(self._read(provider), status=status.HTTP_201_CREATED)

    def _update(self, request, partial: bool):
        provider = self.get_object()
        serializer = IdentityProviderWriteSerializer(
            data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        body = serializer.to_service_data()
        data = body["data"]
        if "alias" in body:
            data["provider_id"] = body["alias"]
        if "protocol" in body:
            data["protocol"] = body["protocol"]
        for name in ("client_secret", "domains", "mappers"):
            if body.get(name) is not None:
                data[name] = body[name]
        provider = identity_services.identity_provider_update(
            provider=provider, actor=request.user, data=data, if_match=request.headers.get("If-Match")
        )
        return Response(self._read(provider), headers={"ETag": version_tag(Provider.objects.get(pk=provider.pk))})

    @extend_schema(
        summary="Replace an identity provider's configuration",
        request=IdentityProviderWriteSerializer,
        examples=[OKTA_EXAMPLE],
        parameters=[IF_MATCH],
        responses={200: IdentityProviderSerializer, **BAD_REQUEST, **AUTH_ERRORS, **NOT_FOUND},
    )
    def update(self, request, *args, **kwargs):
        return self._update(request, partial=False)

    @extend_schema(
        summary="Change some fields of an identity provider",
        request=IdentityProviderWriteSerializer(partial=True),
        examples=[
            OpenApiExample("Rename it", request_only=True, value={"display_name": "Okta (EU)"}),
            OpenApiExample(
                "New client secret",
                request_only=True,
                value={"oidc_config": {"client_secret": "new-client-secret-value"}},
            ),
            OpenApiExample("Hide it from the login page", request_only=True, value={"hide_on_login": True}),
        ],
        parameters=[IF_MATCH],
        responses={200: IdentityProviderSerializer, **BAD_REQUEST, **AUTH_ERRORS, **NOT_FOUND},
    )
    def partial_update(self, request, *args, **kwargs):
        return self._update(request, partial=True)

    @extend_schema(summary="List identity providers", responses={200: IdentityProviderSerializer(many=True)})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Get an identity provider", responses={200: IdentityProviderSerializer, **NOT_FOUND})
    def retrieve(self, request, *args, **kwargs):
        provider = self.get_object()
        return Response(IdentityProviderSerializer(provider).data, headers={"ETag": version_tag(provider)})

    @extend_schema(
        summary="Delete an identity provider", parameters=[IF_MATCH], responses={204: None, **AUTH_ERRORS, **NOT_FOUND}
    )
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        provider_delete(provider=instance, actor=self.request.user, if_match=self.request.headers.get("If-Match"))

    @extend_schema(
        summary="The mapper types and their config fields",
        responses={200: OpenApiResponse(description="List of mapper types.")},
    )
    @action(detail=False, methods=["get"], url_path="mapper-types")
    def mapper_types(self, request):
        protocol = request.query_params.get("protocol")
        if protocol is not None and protocol not in dict(PROTOCOL_CHOICES):
            raise serializers.ValidationError({"protocol": [f"“{protocol[:20]}” is not a valid choice."]})
        return Response(mapper_types_catalogue(protocol))

    @extend_schema(
        summary="Parse an OIDC discovery document or SAML metadata (nothing is saved)",
        request={"application/json": ImportConfigSerializer, "multipart/form-data": ImportConfigSerializer},
        examples=[
            OpenApiExample(
                "OIDC discovery from the issuer",
                request_only=True,
                value={"url": "https://sso.example.com/realms/acme", "protocol": "oidc"},
            ),
            OpenApiExample(
                "SAML metadata document",
                request_only=True,
                value={"metadata_xml": EXAMPLE_SAML_METADATA},
            ),
            OpenApiExample(
                "SAML metadata file",
                request_only=True,
                media_type="multipart/form-data",
                value={"metadata": "(a metadata.xml file)"},
            ),
        ],
        responses={200: OpenApiResponse(description="The parsed configuration."), **BAD_REQUEST, **AUTH_ERRORS},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import-config",
        parser_classes=[SafeJSONParser, MultiPartParser],
        permission_classes=[ChangePermissions],
    )
    def import_config(self, request):
        serializer = ImportConfigSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(import_config(serializer.validated_data))

    @extend_schema(
        summary="Check the domains' DNS TXT records; active once all are verified",
        request=None,
        responses={200: IdentityProviderSerializer, **AUTH_ERRORS, **NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="verify-domains", permission_classes=[ChangePermissions])
    def verify_domains(self, request, alias=None):
        provider = self.get_object()
        checks = identity_services.identity_provider_verify_domains(provider=provider, actor=request.user)
        body = self._read(provider)
        body["verification"] = [{"domain": c.domain, "verified": c.verified, "detail": c.detail} for c in checks]
        return Response(body)

    @extend_schema(summary="Enable", request=None, responses={200: IdentityProviderSerializer, **NOT_FOUND})
    @action(detail=True, methods=["post"], permission_classes=[ChangePermissions])
    def enable(self, request, alias=None):
        provider = identity_services.identity_provider_set_enabled(
            provider=self.get_object(), actor=request.user, enabled=True
        )
        return Response(self._read(provider))

    @extend_schema(summary="Disable", request=None, responses={200: IdentityProviderSerializer, **NOT_FOUND})
    @action(detail=True, methods=["post"], permission_classes=[ChangePermissions])
    def disable(self, request, alias=None):
        provider = identity_services.identity_provider_set_enabled(
            provider=self.get_object(), actor=request.user, enabled=False
        )
        return Response(self._read(provider))


@extend_schema(tags=["Identity providers"])
class MapperViewSet(viewsets.ViewSet):
    """Mappers of one identity provider, at `/api/identity-providers/{alias}/mappers`."""

    permission_model = IdentityProvider
    permission_classes = [NestedPermissions]
    serializer_class = MapperSerializer

    def _provider(self) -> Provider:
        return get_object_or_404(Provider.objects.filter(identity__isnull=False), provider_id=self.kwargs["alias"])

    def _mapper(self) -> IdentityProviderMapper:
        return get_object_or_404(
            identity_selectors.identity_mappers(provider=self._provider()), pk=int(self.kwargs["mapper_id"])
        )

    @extend_schema(summary="List the mappers", responses={200: MapperSerializer(many=True), **NOT_FOUND})
    def list(self, request, alias=None):
        return Response(
            MapperSerializer(identity_selectors.identity_mappers(provider=self._provider()), many=True).data
        )

    @extend_schema(
        summary="Add a mapper",
        request=MapperWriteSerializer,
        examples=MAPPER_EXAMPLES,
        responses={201: MapperSerializer, **BAD_REQUEST, **NOT_FOUND, 409: OpenApiResponse(DETAIL)},
    )
    def create(self, request, alias=None):
        serializer = MapperWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        mapper = identity_services.mapper_create(
            provider=self._provider(), actor=request.user, mapper=serializer.to_mapper(serializer.validated_data)
        )
        return self._read(mapper, status=status.HTTP_201_CREATED)

    @staticmethod
    def _read(mapper: IdentityProviderMapper, **kwargs) -> Response:
        return Response(MapperSerializer(mapper).data, headers={"ETag": version_tag(mapper)}, **kwargs)

    @extend_schema(summary="Get a mapper", responses={200: MapperSerializer, **NOT_FOUND})
    def retrieve(self, request, alias=None, mapper_id=None):
        return self._read(self._mapper())

    def _update(self, request, partial: bool):
        mapper = self._mapper()
        serializer = MapperWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data
        data = {name: body[name] for name in ("name", "config", "sync_mode") if name in body}
        if "identity_provider_mapper" in body:
            data["mapper_type"] = body["identity_provider_mapper"]
        mapper = identity_services.mapper_update(
            mapper=mapper, actor=request.user, data=data, if_match=request.headers.get("If-Match")
        )
        return self._read(mapper)

    @extend_schema(
        summary="Replace a mapper",
        request=MapperWriteSerializer,
        examples=MAPPER_EXAMPLES,
        parameters=[IF_MATCH],
        responses={200: MapperSerializer},
    )
    def update(self, request, alias=None, mapper_id=None):
        return self._update(request, partial=False)

    @extend_schema(
        summary="Change a mapper",
        request=MapperWriteSerializer,
        examples=[OpenApiExample("Force-sync it", request_only=True, value={"sync_mode": "FORCE"})],
        parameters=[IF_MATCH],
        responses={200: MapperSerializer},
    )
    def partial_update(self, request, alias=None, mapper_id=None):
        return self._update(request, partial=True)

    @extend_schema(summary="Delete a mapper", parameters=[IF_MATCH], responses={204: None, **NOT_FOUND})
    def destroy(self, request, alias=None, mapper_id=None):
        identity_services.mapper_delete(
            mapper=self._mapper(), actor=request.user, if_match=request.headers.get("If-Match")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Apply the mappers to sample claims (nothing is saved)",
        request=DryRunSerializer,
        examples=[
            OpenApiExample(
                "OIDC claims",
                request_only=True,
                value={"claims": {"sub": "248289761001", "email": "jane@example.com", "groups": ["admins"]}},
            )
        ],
        responses={200: DryRunResultSerializer, **BAD_REQUEST, **NOT_FOUND},
    )
    def dry_run(self, request, alias=None):
        serializer = DryRunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = identity_services.mappers_dry_run(
            provider=self._provider(), claims=serializer.validated_data["claims"]
        )
        return Response(
            {
                "attributes": result.attributes,
                "groups": result.groups,
                "username": result.username,
                "applied": result.applied,
            }
        )
