"""`/api/identity_providers`: identity providers as JSON:API resources (media type
`application/vnd.api+json`), in the shape of the JSON:API reference document. A thin dialect
over the same identity services; the client secret only ever reads back as the mask."""

import uuid
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts import selectors as workspace_selectors
from providers.api.scope import WorkspaceScoped
from providers.catalog import OIDC
from providers.concurrency import version_tag
from providers.identity import catalogue
from providers.identity import selectors as identity_selectors
from providers.identity import services as identity_services
from providers.models import IdentityProvider, Provider
from providers.services import provider_delete

from .errors import exception_handler
from .fields import SafeJSONParser, StrictBooleanField, StrictCharField, StrictSerializer, iso_datetime
from .pagination import KeysetPagination
from .permissions import ModelPermissions
from .schema import AUTH_ERRORS, IF_MATCH, JSONAPI_MEDIA_TYPE, NOT_FOUND

MEDIA_TYPE = JSONAPI_MEDIA_TYPE
RESOURCE_TYPE = "identity_providers"

# Model field → attribute name, for error pointers.
JSONAPI_NAMES = {
    "provider_id": "name",
    "label": "name",
    "authorization_url": "authorize_url",
    "protocol": "type",
}


class JsonApiParser(SafeJSONParser):
    media_type = MEDIA_TYPE


class JsonApiRenderer(JSONRenderer):
    media_type = MEDIA_TYPE
    format = "vnd.api+json"


class AttributesSerializer(StrictSerializer):
    name = StrictCharField(max_length=200)
    client_id = StrictCharField(max_length=255)
    client_secret = StrictCharField(max_length=4096)
    issuer = StrictCharField(max_length=500)
    domains = StrictCharField(max_length=5000, help_text="Comma-separated, e.g. “dev.example.com,stg.example.com”.")
    token_url = StrictCharField(max_length=500)
    authorize_url = StrictCharField(max_length=500)
    jwks_url = StrictCharField(max_length=500)
    organization = StrictCharField(required=False, allow_blank=True, max_length=200)
    reference = StrictCharField(required=False, allow_blank=True, max_length=200)
    reference_origin = StrictCharField(required=False, allow_blank=True, max_length=200)
    metadata = serializers.DictField(required=False, child=serializers.JSONField())
    _disable = StrictBooleanField(required=False)
    _enable = StrictBooleanField(required=False)

    @staticmethod
    def to_service_data(attrs: dict[str, Any]) -> dict[str, Any]:
        """Validated attributes → the identity services' field names."""
        data: dict[str, Any] = {}
        renames = {"authorize_url": "authorization_url", "name": "label"}
        for name in ("name", "client_id", "issuer", "token_url", "authorize_url", "jwks_url", "organization",
                     "reference", "reference_origin", "metadata"):  # fmt: skip
            if name in attrs:
                data[renames.get(name, name)] = attrs[name]
        if attrs.get("_disable"):
            data["enabled"] = False
        if attrs.get("_enable"):
            data["enabled"] = True
        if "client_secret" in attrs:
            data["client_secret"] = attrs["client_secret"]
        if "domains" in attrs:
            data["domains"] = [part for part in (p.strip() for p in attrs["domains"].split(",")) if part]
        return data

    def validate(self, attrs):
        if attrs.get("_disable") and attrs.get("_enable"):
            raise ValidationError({"_enable": ["Send either `_enable` or `_disable`."]})
        return attrs


class ResourceSerializer(StrictSerializer):
    type = StrictCharField()
    id = StrictCharField(required=False)
    attributes = AttributesSerializer()


class DocumentSerializer(StrictSerializer):
    data = ResourceSerializer()  # type: ignore[assignment]  # the document's `data` member
    meta = serializers.DictField(required=False, help_text="Ignored.")
    jsonapi = serializers.DictField(required=False, help_text="Ignored.")
    links = serializers.DictField(required=False, help_text="Ignored.")


def resource(provider: Provider, request, prefix: str = "/api") -> dict[str, Any]:
    """The resource object; `organization` is the workspace's public id, links under `prefix`
    (the workspace's path when the request named it)."""
    identity = provider.identity
    self_url = request.build_absolute_uri(f"{prefix}/identity_providers/{identity.internal_id}")

    return {
        "id": str(identity.internal_id),
        "type": RESOURCE_TYPE,
        "links": {"self": self_url},
        "attributes": {
            "name": provider.label,
            "client_id": identity.client_id,
            "client_secret": catalogue.masked_secret(identity),
            "issuer": identity.issuer,
            "status": identity.status,
            "domains": ",".join(row.domain for row in identity.domains.all()),
            "token_url": identity.token_url,
            "authorize_url": identity.authorization_url,
            "jwks_url": identity.jwks_url,
            "txt_record": identity.txt_record,
            "organization": provider.workspace.public_id,
            "created_at": iso_datetime(provider.created_at),
            "updated_at": iso_datetime(provider.updated_at),
            "reference": identity.reference,
            "reference_origin": identity.reference_origin,
            "metadata": identity.metadata,
            "disabled_at": iso_datetime(identity.disabled_at),
        },
        "relationships": {"user": {"links": {"self": f"{self_url}/relationships/user", "related": f"{self_url}/user"}}},
    }


def jsonapi_errors(response: Response) -> Response:
    """Turn the product's `{field: [messages]}` / `{detail}` bodies into JSON:API error objects."""
    data = response.data if isinstance(response.data, dict) else {"detail": response.data}
    errors = []
    for key, value in data.items():
        messages = value if isinstance(value, list) else [value]
        for message in messages:
            error: dict[str, Any] = {
                "status": str(response.status_code),
                "title": str(message)[:200],
                "detail": str(message),
            }
            if key == "data" or (key.startswith("data.") and not key.startswith("data.attributes.")):
                error["source"] = {"pointer": "/" + key.replace(".", "/")}
            elif key not in ("detail", "non_field_errors", "projects"):
                name = key.removeprefix("data.attributes.")
                error["source"] = {"pointer": f"/data/attributes/{JSONAPI_NAMES.get(name, name).replace('.', '/')}"}
            errors.append(error)
    response.data = {"errors": errors}
    return response


class JsonApiPagination(KeysetPagination):
    ordering = "provider_id"
    cursor_query_param = "page[cursor]"
    page_size_query_param = "page[size]"
    page_size = 25

    def get_paginated_response(self, data):
        return Response({"data": data, "links": {"next": self.get_next_link(), "prev": self.get_previous_link()}})

    def get_paginated_response_schema(self, schema):
        return {"type": "object", "required": ["data"], "properties": {"data": schema, "links": LINKS_SCHEMA}}


RESOURCE_SCHEMA = {
    "type": "object",
    "required": ["id", "type", "attributes"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "type": {"type": "string", "enum": [RESOURCE_TYPE]},
        "links": {"type": "object", "properties": {"self": {"type": "string", "format": "uri"}}},
        "attributes": {
            "type": "object",
            "properties": {
                **{
                    name: {"type": "string"}
                    for name in (
                        "name",
                        "client_id",
                        "issuer",
                        "status",
                        "domains",
                        "token_url",
                        "authorize_url",
                        "jwks_url",
                        "txt_record",
                        "organization",
                        "reference",
                        "reference_origin",
                    )
                },
                "client_secret": {"type": "string", "nullable": True, "description": "`**********` once set."},
                "metadata": {"type": "object", "additionalProperties": True},
                **{
                    name: {"type": "string", "format": "date-time", "nullable": True}
                    for name in ("created_at", "updated_at", "disabled_at")
                },
            },
        },
        "relationships": {"type": "object", "additionalProperties": True},
    },
}
DOCUMENT = {"type": "object", "required": ["data"], "properties": {"data": RESOURCE_SCHEMA}}
LINKS_SCHEMA = {
    "type": "object",
    "properties": {
        "next": {"type": "string", "format": "uri", "nullable": True},
        "prev": {"type": "string", "format": "uri", "nullable": True},
    },
}
USER_DOCUMENT = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {
            "type": "object",
            "nullable": True,
            "properties": {
                "type": {"type": "string", "enum": ["users"]},
                "id": {"type": "string"},
                "attributes": {"type": "object", "properties": {"username": {"type": "string"}}},
            },
        }
    },
}
CREATE_EXAMPLE = {
    "data": {
        "type": "identity_providers",
        "attributes": {
            "name": "Org auth0",
            "client_id": "a6CDk5v1ZV99GrtOcfYVEZRnDDt",
            "client_secret": "s6CD55v1ZV99ArtOcfYVEZRnDDf",
            "issuer": "https://dev.auth987.com/",
            "domains": "dev.auth987.com,stg.auth987.com",
            "token_url": "https://dev.auth987.com/oauth/token",
            "authorize_url": "https://dev.auth987.com/authorize",
            "jwks_url": "https://dev.auth987.com/.well-known/jwks.json",
        },
    }
}


class JsonApiSchema(AutoSchema):
    """Operation ids from the path (with the workspace's, if any), `jsonapi_`-prefixed: the
    canonical `/api/identity-providers` would otherwise give the same ones."""

    def get_operation_id(self):
        return "jsonapi_" + super().get_operation_id()


@extend_schema(tags=["Identity providers (JSON:API)"])
class JsonApiIdentityProviderViewSet(WorkspaceScoped, viewsets.GenericViewSet):
    """`/api/identity_providers[/{id}]`, `id` being the provider's `internal_id`."""

    schema = JsonApiSchema()
    queryset = Provider.objects.none()
    permission_classes = [ModelPermissions]
    permission_model = IdentityProvider
    parser_classes = [JsonApiParser, SafeJSONParser]
    renderer_classes = [JsonApiRenderer, JSONRenderer]
    pagination_class = JsonApiPagination
    serializer_class = DocumentSerializer
    api_field_names = JSONAPI_NAMES
    filter_backends: list = []

    def get_queryset(self):
        return identity_selectors.identity_provider_list().select_related("workspace")

    def _resource(self, provider: Provider) -> dict[str, Any]:
        return resource(provider, self.request, self.workspace_path())

    def _organization(self, request, data: dict[str, Any], *, creating: bool) -> None:
        """`organization` names the workspace (its public id): a create acts in the one it names,
        refused (404 / 403) as that workspace's path would be; it cannot change afterwards."""
        organization = data.pop("organization", "")
        if not organization or organization == self._public_id():
            return
        name = workspace_selectors.workspace_name_of(public_id=organization)
        if not creating:
            raise ValidationError({"data.attributes.organization": ["The organization cannot be changed."]})
        if name is None:
            raise NotFound(f"No organization “{organization}”.")
        self.switch_workspace(request, name)

    def _public_id(self) -> str:
        return workspace_selectors.public_id_of(workspace_id=self.workspace_id)

    def get_exception_handler(self):
        return lambda exc, context: self._handle(exc, context)

    def _handle(self, exc, context):
        response = exception_handler(exc, context)
        return jsonapi_errors(response) if response is not None else None

    def _get(self, resource_id: str) -> Provider:
        try:
            internal_id = uuid.UUID(resource_id)
        except ValueError:
            raise Http404 from None
        return get_object_or_404(self.get_queryset(), identity__internal_id=internal_id)

    def _document(self, request, partial: bool, resource_id: str | None = None) -> dict[str, Any]:
        document = request.data if isinstance(request.data, dict) else {}
        if resource_id is None and isinstance(document.get("data"), dict) and "id" in document["data"]:
            # JSON:API: a server that does not take client-generated ids answers 403 to a create naming one.
            raise PermissionDenied({"data.id": ["Client-generated ids are not supported; the server assigns the id."]})
        serializer = DocumentSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data.get("data")
        if data is None:
            raise ValidationError({"data": ["This field is required."]})
        if data.get("type") != RESOURCE_TYPE:
            raise ValidationError({"data.type": [f"Expected “{RESOURCE_TYPE}”."]})
        if resource_id is not None and data.get("id") not in (None, resource_id):
            raise ValidationError({"data.id": ["Does not match the URL."]})
        return AttributesSerializer.to_service_data(data.get("attributes", {}))

    @extend_schema(
        summary="Create an identity provider (JSON:API)",
        request={MEDIA_TYPE: DocumentSerializer},
        examples=[
            OpenApiExample("Auth0 (reference request)", value=CREATE_EXAMPLE, request_only=True, media_type=MEDIA_TYPE)
        ],
        responses={201: DOCUMENT, **AUTH_ERRORS},
    )
    def create(self, request):
        data = self._document(request, partial=False)
        self._organization(request, data, creating=True)
        provider = identity_services.identity_provider_create(
            actor=request.user,
            alias=None,
            display_name=data.pop("label"),
            protocol=OIDC,
            client_secret=data.pop("client_secret"),
            domains=data.pop("domains"),
            data=data,
        )
        provider = self.get_queryset().get(pk=provider.pk)
        return Response({"data": self._resource(provider)}, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="List identity providers (JSON:API)",
        responses={200: RESOURCE_SCHEMA, **AUTH_ERRORS},
    )
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([self._resource(provider) for provider in page or []])

    @extend_schema(
        summary="Retrieve an identity provider (JSON:API)",
        responses={200: DOCUMENT, **NOT_FOUND},
    )
    def retrieve(self, request, resource_id=None):
        provider = self._get(resource_id)
        return Response({"data": self._resource(provider)}, headers={"ETag": version_tag(provider)})

    @extend_schema(
        summary="Update an identity provider (JSON:API); `_enable` / `_disable` toggle it",
        request={MEDIA_TYPE: DocumentSerializer},
        examples=[
            OpenApiExample(
                "Disable it (reference request attribute _disable)",
                request_only=True,
                media_type=MEDIA_TYPE,
                value={"data": {"type": "identity_providers", "attributes": {"_disable": True}}},
            ),
            OpenApiExample(
                "Change the name and domains",
                request_only=True,
                media_type=MEDIA_TYPE,
                value={
                    "data": {
                        "type": "identity_providers",
                        "attributes": {"name": "Org auth0 (EU)", "domains": "dev.auth987.com,eu.auth987.com"},
                    }
                },
            ),
        ],
        parameters=[IF_MATCH],
        responses={200: DOCUMENT, **NOT_FOUND},
    )
    def partial_update(self, request, resource_id=None):
        provider = self._get(resource_id)
        data = self._document(request, partial=True, resource_id=resource_id)
        self._organization(request, data, creating=False)
        client_secret, domains = data.pop("client_secret", None), data.pop("domains", None)
        identity_services.identity_provider_update(
            provider=provider,
            actor=request.user,
            data=data,
            client_secret=client_secret,
            domains=domains,
            if_match=request.headers.get("If-Match"),
        )
        provider = self.get_queryset().get(pk=provider.pk)
        return Response({"data": self._resource(provider)}, headers={"ETag": version_tag(provider)})

    @extend_schema(
        summary="Delete an identity provider (JSON:API)",
        parameters=[IF_MATCH],
        responses={204: None, **NOT_FOUND},
    )
    def destroy(self, request, resource_id=None):
        provider_delete(provider=self._get(resource_id), actor=request.user, if_match=request.headers.get("If-Match"))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="The user who created the identity provider",
        responses={200: USER_DOCUMENT, **NOT_FOUND},
    )
    def user(self, request, resource_id=None):
        provider = self._get(resource_id)
        creator = provider.created_by
        related = request.path.rstrip("/").endswith("/user") and "/relationships/" not in request.path
        if creator is None:
            return Response({"data": None})
        data: dict[str, Any] = {"type": "users", "id": str(creator.pk)}
        if related:
            data["attributes"] = {"username": creator.username}
        return Response({"data": data})
