"""The signed-in user's own linked accounts (federated identities), across workspaces, and the
provider tokens stored for them (`storeToken`), readable only when the link granted it
(`addReadTokenRoleOnCreate`), as Keycloak's `GET /realms/{realm}/broker/{alias}/token`. Rows are
filtered by the caller, so no one reads another user's."""

import json

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import every_workspace
from providers.identity import selectors
from providers.models import FederatedIdentity


class LinkedIdentitySerializer(serializers.Serializer):
    workspace = serializers.CharField(source="identity.provider.workspace.name")
    identity_provider = serializers.CharField(source="identity.provider.provider_id")
    user_id = serializers.CharField(source="subject", help_text="The provider's id of the user (`sub`).")
    user_name = serializers.CharField(source="username")
    email = serializers.CharField()
    token_readable = serializers.BooleanField()
    first_login_at = serializers.DateTimeField()
    last_login_at = serializers.DateTimeField()


class LinkedIdentitiesView(APIView):
    @extend_schema(summary="List my linked accounts", responses={200: LinkedIdentitySerializer(many=True)})
    def get(self, request):
        with every_workspace():
            rows = list(selectors.linked_identities(user=request.user))
            return Response(LinkedIdentitySerializer(rows, many=True).data)


class LinkedIdentityTokenView(APIView):
    @extend_schema(
        summary="Read the provider's tokens stored for my linked account",
        responses={
            200: OpenApiResponse(description="The provider's token response as it was stored at the last login."),
            403: OpenApiResponse(description="The link does not let its user read the tokens."),
            404: OpenApiResponse(description="No linked account there, or no token stored."),
        },
    )
    def get(self, request, workspaceName: str, alias: str):  # noqa: N803 - the URL's name
        with every_workspace():
            federated = (
                FederatedIdentity.objects.filter(
                    user=request.user,
                    identity__provider__workspace__name=workspaceName,
                    identity__provider__provider_id=alias,
                )
                .only("token", "token_readable")
                .first()
            )
        if federated is None or not federated.token:
            raise NotFound("No linked account with a stored token at that identity provider.")
        if not federated.token_readable:
            raise PermissionDenied("This linked account's tokens are not readable by its user.")
        return Response(json.loads(federated.token))
