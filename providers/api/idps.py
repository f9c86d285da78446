"""`/api/idps`: the login page's public list of identity providers and a small admin API over
OAuth 2.0 / OIDC providers, in the shape of the public-list reference document. A thin dialect
over the same identity services as the canonical API."""

import json
import uuid

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from providers.api.scope import WorkspaceScoped
from providers.catalog import OAUTH2, OIDC
from providers.concurrency import entity_tag, header_names_tag, version_tag
from providers.identity import selectors as identity_selectors
from providers.identity import services as identity_services
from providers.models import IdentityProvider, Provider
from providers.services import provider_delete

from .fields import ChoiceField, StrictBooleanField, StrictCharField, StrictSerializer, iso_datetime
from .permissions import ModelPermissions
from .schema import AUTH_ERRORS, BAD_REQUEST, IF_MATCH, NOT_FOUND, DocumentSchema

IDPS_API_NAMES = {
    "provider_id": "name",
    "alias": "name",
    "label": "display_name",
    "protocol": "type",
    "authorization_url": "authorization_endpoint",
    "token_url": "token_endpoint",
    "user_info_url": "userinfo_endpoint",
    "default_scope": "scopes",
}


class IdpCreateSerializer(StrictSerializer):
    name = StrictCharField(max_length=64, help_text='Unique identifier (e.g. "github").')
    type = ChoiceField(choices=[(OAUTH2, OAUTH2), (OIDC, OIDC)])
    display_name = StrictCharField(max_length=200)
    client_id = StrictCharField(max_length=255)
    client_secret = StrictCharField(max_length=4096)
    authorization_endpoint = StrictCharField(max_length=500)
    token_endpoint = StrictCharField(max_length=500)
    userinfo_endpoint = StrictCharField(max_length=500)
    scopes = StrictCharField(required=False, allow_blank=True, max_length=500)


class IdpUpdateSerializer(StrictSerializer):
    display_name = StrictCharField(required=False, max_length=200)
    client_id = StrictCharField(required=False, max_length=255)
    client_secret = StrictCharField(required=False, max_length=4096)
    enabled = StrictBooleanField(required=False)


PUBLIC_ITEM_FIELDS: dict[str, serializers.Field] = {
    "id": serializers.UUIDField(),
    "name": serializers.CharField(),
    "type": serializers.CharField(),
    "display_name": serializers.CharField(),
    "enabled": serializers.BooleanField(),
    "created_at": serializers.DateTimeField(),
}
MESSAGE = inline_serializer("IdpMessage", {"message": serializers.CharField()})
# The reference document's "POST /api/idps" request, verbatim (idps-api-public-list.txt).
IDPS_CREATE_EXAMPLE = {
    "name": "github",
    "type": "oauth2",
    "display_name": "GitHub",
    "client_id": "Iv1.abc123",
    "client_secret": "secret123",
    "authorization_endpoint": "https://github.com/login/oauth/authorize",
    "token_endpoint": "https://github.com/login/oauth/access_token",
    "userinfo_endpoint": "https://api.github.com/user",
    "scopes": "read:user user:email",
}


def public_item(provider: Provider) -> dict:
    return {
        "id": str(provider.identity.internal_id),
        "name": provider.provider_id,
        "type": provider.identity.protocol,
        "display_name": provider.label,
        "enabled": provider.enabled,
        "created_at": iso_datetime(provider.created_at),
    }


class PublicOrModelPermissions(ModelPermissions):
    """The list is public (the login page reads it); everything else is for identity-provider admins."""

    def has_permission(self, request, view):
        if view.action == "list":
            return True
        return super().has_permission(request, view)


@extend_schema(tags=["Login list (/api/idps)"])
class IdpViewSet(WorkspaceScoped, viewsets.ViewSet):
    """`/api/idps` and `/api/idps/{id}`; `id` is the provider's `internal_id` (a UUID)."""

    permission_classes = [PublicOrModelPermissions]
    permission_model = IdentityProvider
    schema = DocumentSchema()
    api_field_names = IDPS_API_NAMES

    def get_authenticators(self):
        """The public list ignores credentials, so a stale token never breaks the login page."""
        if self.request is not None and self.request.method == "GET" and "idp_id" not in self.kwargs:
            return []
        return super().get_authenticators()

    def _get(self, idp_id: str) -> Provider:
        try:
            internal_id = uuid.UUID(idp_id)
        except ValueError:
            raise Http404 from None
        return get_object_or_404(identity_selectors.identity_provider_list(), identity__internal_id=internal_id)

    @extend_schema(
        summary="Public list of identity providers (no authentication)",
        description=(
            "Answers with an `ETag` and `Cache-Control`; send the tag back in `If-None-Match` to get "
            "`304 Not Modified` until an identity provider changes. The rendered list is cached and its "
            "version checked against the database on every request, so a change shows at once."
        ),
        auth=[],
        responses={
            200: inline_serializer(
                "PublicIdpList",
                {"providers": inline_serializer("PublicIdentityProvider", PUBLIC_ITEM_FIELDS, many=True)},
            ),
            304: OpenApiResponse(description="Not modified: `If-None-Match` names the current `ETag`."),
        },
    )
    def list(self, request):
        # Per workspace: two workspaces' lists may have the same count and last change.
        etag = entity_tag(f"{self.workspace_id}:{identity_selectors.public_identity_providers_version()}")
        headers = {"ETag": etag, "Cache-Control": f"public, max-age={settings.PUBLIC_IDPS_MAX_AGE}, must-revalidate"}
        if header_names_tag(request.headers.get("If-None-Match"), etag):
            return HttpResponseNotModified(headers=headers)
        body = cache.get(f"public-idps:{etag}")
        if body is None:
            providers = [public_item(provider) for provider in identity_selectors.public_identity_providers()]
            body = json.dumps({"providers": providers}, separators=(",", ":")).encode()
            cache.set(f"public-idps:{etag}", body, timeout=3600)
        return HttpResponse(body, content_type="application/json", headers=headers)

    @extend_schema(
        summary="Register an OAuth 2.0 / OIDC identity provider",
        request=IdpCreateSerializer,
        examples=[
            OpenApiExample(
                "GitHub (reference request)",
                request_only=True,
                value=IDPS_CREATE_EXAMPLE,
            )
        ],
        responses={
            201: inline_serializer("IdpCreated", {"id": serializers.UUIDField(), "message": serializers.CharField()}),
            **BAD_REQUEST,
            **AUTH_ERRORS,
        },
    )
    def create(self, request):
        serializer = IdpCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data
        provider = identity_services.identity_provider_create(
            actor=request.user,
            alias=body["name"],
            display_name=body["display_name"],
            protocol=body["type"],
            client_secret=body["client_secret"],
            data={
                "client_id": body["client_id"],
                "authorization_url": body["authorization_endpoint"],
                "token_url": body["token_endpoint"],
                "user_info_url": body["userinfo_endpoint"],
                "default_scope": body.get("scopes", ""),
            },
        )
        return Response(
            {"id": str(provider.identity.internal_id), "message": "Identity provider created"},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Details of an identity provider (no secrets)",
        responses={200: OpenApiResponse(description="Configuration without secrets."), **AUTH_ERRORS, **NOT_FOUND},
    )
    def retrieve(self, request, idp_id=None):
        provider = self._get(idp_id)
        identity = provider.identity
        return Response(
            {
                **public_item(provider),
                "client_id": identity.client_id,
                "authorization_endpoint": identity.authorization_url,
                "token_endpoint": identity.token_url,
                "userinfo_endpoint": identity.user_info_url,
                "scopes": identity.default_scope,
            },
            headers={"ETag": version_tag(provider)},
        )

    @extend_schema(
        summary="Update an identity provider",
        request=IdpUpdateSerializer,
        examples=[
            OpenApiExample(
                "Rename and enable (reference request)",
                request_only=True,
                value={"display_name": "GitHub SSO", "enabled": True},
            ),
            OpenApiExample(
                "New client secret", request_only=True, value={"client_id": "Iv1.abc123", "client_secret": "new-secret"}
            ),
        ],
        parameters=[IF_MATCH],
        responses={200: MESSAGE, **BAD_REQUEST, **AUTH_ERRORS, **NOT_FOUND},
    )
    def update(self, request, idp_id=None):
        provider = self._get(idp_id)
        serializer = IdpUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data
        data = {name: body[name] for name in ("client_id", "enabled") if name in body}
        if "display_name" in body:
            data["label"] = body["display_name"]
        identity_services.identity_provider_update(
            provider=provider,
            actor=request.user,
            data=data,
            client_secret=body.get("client_secret"),
            if_match=request.headers.get("If-Match"),
        )
        return Response({"message": "Identity provider updated"})

    @extend_schema(
        summary="Delete an identity provider",
        parameters=[IF_MATCH],
        responses={200: MESSAGE, **AUTH_ERRORS, **NOT_FOUND},
    )
    def destroy(self, request, idp_id=None):
        provider_delete(provider=self._get(idp_id), actor=request.user, if_match=request.headers.get("If-Match"))
        return Response({"message": "Identity provider deleted"})
