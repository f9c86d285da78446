"""The viewsets of `/api/identity-providers` and `/api/identity-providers/{alias}/mappers`."""

from dataclasses import asdict
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from providers.api.fields import SafeJSONParser
from providers.api.pagination import ProviderPagination
from providers.api.permissions import ChangePermissions, ModelPermissions, NestedPermissions, ReadOrChangePermissions
from providers.api.schema import AUTH_ERRORS, BAD_REQUEST, CONFLICT, DETAIL, IF_MATCH, NOT_FOUND
from providers.api.scope import WorkspaceScoped
from providers.catalog import PROTOCOL_CHOICES
from providers.concurrency import version_tag
from providers.identity import selectors as identity_selectors
from providers.identity import services as identity_services
from providers.identity.discovery import METADATA_MAX_BYTES, MetadataCandidatesError, import_configuration
from providers.identity.mappers import mapper_types_catalogue
from providers.identity.services import sp_keys
from providers.models import ID_CHARACTERS, IdentityProvider, IdentityProviderMapper, Provider
from providers.services import provider_delete

from .examples import EXAMPLE_CERTIFICATE, EXAMPLE_SAML_METADATA, MAPPER_EXAMPLES, OKTA_EXAMPLE
from .keycloak import mapper_to_keycloak, to_keycloak
from .serializers import (
    DryRunResultSerializer,
    DryRunSerializer,
    IdentityProviderSerializer,
    IdentityProviderWriteSerializer,
    ImportConfigSerializer,
    KeycloakIdentityProviderSerializer,
    KeycloakMapperSerializer,
    MapperSerializer,
    MapperWriteSerializer,
    RefreshMetadataSerializer,
    RefreshReportSerializer,
    SpKeyActionSerializer,
    SpKeysSerializer,
    reader,
)

REPRESENTATIONS = ("registry", "keycloak")
REPRESENTATION = OpenApiParameter(
    "representation",
    str,
    enum=list(REPRESENTATIONS),
    description="`keycloak`: Keycloak's IdentityProviderRepresentation (settings under Keycloak's keys, config "
    "values as strings, kept keys as they were sent, the client secret masked).",
)


def wants_keycloak(request) -> bool:
    """Whether a read asks for Keycloak's representation (`?representation=keycloak`)."""
    representation = request.query_params.get("representation", "registry")
    if representation not in REPRESENTATIONS:
        raise serializers.ValidationError({"representation": ["Expected “registry” or “keycloak”."]})
    return representation == "keycloak"


def representation_read(summary: str, name: str, canonical, keycloak, *, many: bool = False):
    """The OpenAPI of a read that answers in the registry's or Keycloak's representation
    (`?representation=`): one of the two shapes (or a list of either)."""
    return extend_schema(
        summary=summary,
        parameters=[REPRESENTATION],
        responses={
            200: PolymorphicProxySerializer(
                component_name=name,
                serializers=[canonical, keycloak],
                resource_type_field_name=None,
                many=many,
            ),
            **NOT_FOUND,
        },
    )


IDP_CONFLICT = {409: OpenApiResponse(CONFLICT, description="The alias is taken.")}


@extend_schema(tags=["Identity providers"])
class IdentityProviderViewSet(
    WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
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
        if self.action == "refresh_metadata":
            return RefreshMetadataSerializer
        if self.action == "sp_keys":
            return SpKeysSerializer
        return IdentityProviderSerializer

    def _read(self, provider: Provider) -> dict:
        row = identity_selectors.identity_provider_list().get(pk=provider.pk)
        return IdentityProviderSerializer(row, context=self.get_serializer_context()).data

    @extend_schema(
        summary="Create an identity provider",
        request=IdentityProviderWriteSerializer,
        responses={201: IdentityProviderSerializer, **BAD_REQUEST, **AUTH_ERRORS, **IDP_CONFLICT},
    )
    def create(self, request, *args, **kwargs):
        serializer = IdentityProviderWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        self.api_field_names = serializer.error_names  # the services' errors in the names the client sent
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
            data=request.data,
            partial=partial,
            context={**self.get_serializer_context(), "protocol": provider.identity.protocol},
        )
        serializer.is_valid(raise_exception=True)
        self.api_field_names = serializer.error_names
        body = serializer.to_service_data()
        data = body["data"]
        if "alias" in body:
            data["provider_id"] = body["alias"]
        if "protocol" in body:
            data["protocol"] = body["protocol"]
        provider = identity_services.identity_provider_update(
            provider=provider,
            actor=request.user,
            data=data,
            client_secret=body["client_secret"],
            domains=body.get("domains"),
            mappers=body.get("mappers"),
            if_match=request.headers.get("If-Match"),
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

    @representation_read(
        "Get an identity provider",
        "IdentityProviderRead",
        IdentityProviderSerializer,
        KeycloakIdentityProviderSerializer,
    )
    def retrieve(self, request, *args, **kwargs):
        provider = get_object_or_404(identity_selectors.identity_provider_read(), provider_id=kwargs["alias"])
        self.check_object_permissions(request, provider)
        if wants_keycloak(request):
            body = to_keycloak(provider)
        else:
            body = reader(IdentityProviderSerializer).to_representation(provider)
        return Response(body, headers={"ETag": version_tag(provider)})

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
            OpenApiExample(
                "One identity provider of a federation aggregate",
                request_only=True,
                value={
                    "url": "https://metadata.example.org/federation.xml",
                    "protocol": "saml",
                    "entity_id": "https://idp.example.edu/idp/shibboleth",
                },
            ),
        ],
        responses={
            200: OpenApiResponse(description="The parsed configuration."),
            400: OpenApiResponse(
                description="Invalid input, named by field. SAML metadata listing several identity providers "
                "without `entity_id` (or with one naming none of them) also answers `candidates`: "
                "[{entity_id, display_name}]."
            ),
            **AUTH_ERRORS,
        },
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
        data = serializer.validated_data
        entity_id = data.get("entity_id", "")
        try:
            if data.get("metadata"):
                upload = data["metadata"].read(METADATA_MAX_BYTES + 1)
                result = import_configuration(metadata=upload, field="metadata", entity_id=entity_id)
            elif data.get("metadata_xml"):
                result = import_configuration(metadata=data["metadata_xml"], field="metadata_xml", entity_id=entity_id)
            else:
                result = import_configuration(url=data["url"], protocol=data.get("protocol"), entity_id=entity_id)
        except MetadataCandidatesError as exc:
            body: dict[str, Any] = {name: list(messages) for name, messages in exc.message_dict.items()}
            body["candidates"] = [asdict(candidate) for candidate in exc.candidates]
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(result)

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

    @extend_schema(
        summary="Refresh a SAML identity provider's certificates and SSO/SLO URLs from its metadata URL",
        description="Fetches `metadata_url` and finds the identity provider's own entity (by its entity ID, in "
        "an aggregate too). Signing certificates the metadata newly lists are trusted (`added`); trusted ones it "
        "no longer lists stay trusted (`kept`) unless `remove_missing` is true (`removed`); the last trusted "
        "certificate is never removed. Changed SSO/SLO URLs are saved (`changed_urls`). Failures (unreachable, "
        "not metadata, entity not found) are a 400 on `metadata_url`, nothing saved.",
        request=RefreshMetadataSerializer,
        examples=[
            OpenApiExample("Keep unlisted certificates", request_only=True, value={"remove_missing": False}),
            OpenApiExample(
                "After a rollover",
                response_only=True,
                value={
                    "alias": "corp-saml",
                    "workspace": "default",
                    "changed": True,
                    "added": ["5A:1F:…:9C"],
                    "removed": [],
                    "kept": ["0B:7E:…:D2"],
                    "trusted": ["0B:7E:…:D2", "5A:1F:…:9C"],
                    "changed_urls": [],
                    "certificate_expires_at": "2027-03-01T00:00:00Z",
                    "summary": "1 certificate added; 1 certificate no longer in the metadata, kept",
                },
            ),
        ],
        responses={200: RefreshReportSerializer, **BAD_REQUEST, **AUTH_ERRORS, **NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="refresh-metadata", permission_classes=[ChangePermissions])
    def refresh_metadata(self, request, alias=None):
        provider = self.get_object()
        serializer = RefreshMetadataSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = identity_services.identity_provider_refresh_metadata(
            identity=provider.identity,
            actor=request.user,
            remove_missing=serializer.validated_data["remove_missing"],
        )
        return Response(RefreshReportSerializer(report).data)

    @extend_schema(
        methods=["GET"],
        summary="A SAML identity provider's SP keys (certificates only)",
        description="This registry's service-provider keys for the identity provider, by their certificates "
        "(public: the SP metadata lists them): `current` signs AuthnRequests and decrypts assertions, `next` is "
        "published and decrypts during a rollover, `previous` (replaced by the last activation) only decrypts, "
        "unpublished, until forgotten. Each with its PEM, SHA-256 fingerprint and expiry, or null. Private keys "
        "are never shown. Needs `view_identityprovider`; a provider that is not SAML is a 400 on `protocol`.",
        request=None,
        examples=[
            OpenApiExample(
                "After a rollover",
                response_only=True,
                value={
                    "current": {
                        "certificate": EXAMPLE_CERTIFICATE,
                        "fingerprint_sha256": "5A:1F:…:9C",
                        "subject": "CN=corp-saml SAML service provider",
                        "not_before": "2026-12-01T10:00:00Z",
                        "expires_at": "2029-11-30T10:05:00Z",
                    },
                    "next": None,
                    "previous": {
                        "certificate": EXAMPLE_CERTIFICATE,
                        "fingerprint_sha256": "0B:7E:…:D2",
                        "subject": "CN=corp-saml SAML service provider",
                        "not_before": "2024-01-10T08:00:00Z",
                        "expires_at": "2027-01-09T08:05:00Z",
                    },
                },
            )
        ],
        responses={200: SpKeysSerializer, **BAD_REQUEST, **AUTH_ERRORS, **NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Generate, activate or forget a SAML identity provider's SP key",
        description="`generate` makes the first key pair (RSA 3072, a self-signed certificate for three years), or, "
        "when there is one, the next one, which the metadata publishes beside it; `activate_next` makes the next key "
        "the one that signs and decrypts, and keeps the replaced one as `previous` (it still decrypts assertions an "
        "identity provider encrypts for it before refreshing the metadata); `forget_previous` deletes the previous "
        "key. Answers the SP keys as `GET` does. Needs `change_identityprovider`; an action that cannot be done now "
        "(a next key already published, none to activate, none to forget) is a 400 on `action`, a provider that is "
        "not SAML a 400 on `protocol`. See the rollover procedure in docs/signin.md.",
        request=SpKeyActionSerializer,
        examples=[
            OpenApiExample("Publish the next key", request_only=True, value={"action": "generate"}),
            OpenApiExample("Sign with the next key", request_only=True, value={"action": "activate_next"}),
            OpenApiExample("End the rollover", request_only=True, value={"action": "forget_previous"}),
        ],
        responses={200: SpKeysSerializer, **BAD_REQUEST, **AUTH_ERRORS, **NOT_FOUND},
    )
    @action(detail=True, methods=["get", "post"], url_path="sp-keys", permission_classes=[ReadOrChangePermissions])
    def sp_keys(self, request, alias=None):
        provider = self.get_object()
        if request.method == "POST":
            serializer = SpKeyActionSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            self.api_field_names = {"sp_key": "action"}  # the services' refusals name the key, the client sent `action`
            services = {
                "generate": sp_keys.sp_key_generate,
                "activate_next": sp_keys.sp_key_activate_next,
                "forget_previous": sp_keys.sp_key_forget_previous,
            }
            services[serializer.validated_data["action"]](identity=provider.identity, actor=request.user)
        certificates = identity_selectors.sp_key_certificates(provider=provider)
        return Response(SpKeysSerializer(certificates).data)

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
class MapperViewSet(WorkspaceScoped, viewsets.ViewSet):
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

    @representation_read("List the mappers", "MapperRead", MapperSerializer, KeycloakMapperSerializer, many=True)
    def list(self, request, alias=None):
        if wants_keycloak(request):
            mappers = identity_selectors.identity_mappers(provider=self._provider())
            return Response([mapper_to_keycloak(mapper, alias=self.kwargs["alias"]) for mapper in mappers])
        rows = list(identity_selectors.identity_mapper_rows(alias=self.kwargs["alias"]))
        if not rows:
            self._provider()  # 404 for an alias no identity provider has
        return Response([reader(MapperSerializer).to_representation(row) for row in rows])

    @extend_schema(
        summary="Add a mapper",
        request=MapperWriteSerializer,
        examples=MAPPER_EXAMPLES,
        responses={201: MapperSerializer, **BAD_REQUEST, **NOT_FOUND, 409: OpenApiResponse(DETAIL)},
    )
    def create(self, request, alias=None):
        serializer = MapperWriteSerializer(data=request.data, context={"alias": alias})
        serializer.is_valid(raise_exception=True)
        mapper = identity_services.mapper_create(
            provider=self._provider(), actor=request.user, mapper=serializer.to_mapper(serializer.validated_data)
        )
        return self._read(mapper, status=status.HTTP_201_CREATED)

    @staticmethod
    def _read(mapper: IdentityProviderMapper, **kwargs) -> Response:
        return Response(MapperSerializer(mapper).data, headers={"ETag": version_tag(mapper)}, **kwargs)

    @representation_read("Get a mapper", "MapperRead", MapperSerializer, KeycloakMapperSerializer)
    def retrieve(self, request, alias=None, mapper_id=None):
        mapper = self._mapper()
        if wants_keycloak(request):
            body = mapper_to_keycloak(mapper, alias=self.kwargs["alias"])
            return Response(body, headers={"ETag": version_tag(mapper)})
        return self._read(mapper)

    def _update(self, request, partial: bool):
        mapper = self._mapper()
        serializer = MapperWriteSerializer(data=request.data, partial=partial, context={"alias": self.kwargs["alias"]})
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
