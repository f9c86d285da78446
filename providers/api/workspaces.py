"""`/api/workspaces`: workspaces (tenants) and their members. Superusers create workspaces; a
workspace's owners (and superusers) rename it, delete it and manage its members; every member
reads it. A workspace the caller does not see answers 404, never 403: its existence does not leak."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts import selectors as workspace_selectors
from accounts import services as workspace_services
from accounts.models import WORKSPACE_NAME_REGEX, Membership, User, Workspace
from providers.api.fields import StrictCharField, StrictSerializer
from providers.api.schema import AUTH_ERRORS, BAD_REQUEST, CONFLICT, NOT_FOUND

WORKSPACE_NAME = WORKSPACE_NAME_REGEX.strip("^$")
USERNAME = r"[\w.@+-]{1,150}"


class WorkspaceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Workspace
        fields = ["name", "display_name", "public_id", "created_at", "updated_at"]
        read_only_fields = fields


class WorkspaceWriteSerializer(StrictSerializer):
    """Body of `POST /api/workspaces` and `PATCH /api/workspaces/{workspaceName}`."""

    name = StrictCharField(max_length=63, help_text="URL name: 3–63 lowercase letters, digits and hyphens.")
    display_name = StrictCharField(max_length=200, help_text="What people see, e.g. “ACME Corporation”.")


class MembershipSerializer(serializers.Serializer):
    user = serializers.CharField(source="user.username")
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    created_at = serializers.DateTimeField()


class MembershipWriteSerializer(StrictSerializer):
    """Body of `PUT /api/workspaces/{workspaceName}/members/{username}`."""

    role = serializers.ChoiceField(choices=Membership.Role.choices)


WORKSPACE_CONFLICT = {
    409: OpenApiResponse(CONFLICT, description="The name is taken, or the workspace still holds providers or projects.")
}


class WorkspaceLookup(viewsets.ViewSet):
    """The workspace of the URL, for the workspace and membership views."""

    permission_classes = [IsAuthenticated]

    def _visible(self):
        """The workspaces the caller sees: a token limited to one sees only that one."""
        visible = workspace_selectors.workspaces_visible(user=self.request.user)
        limited = getattr(self.request.auth, "workspace_id", None)
        return visible.filter(pk=limited) if limited else visible

    def _workspace(self) -> Workspace:
        """The workspace of the URL if the caller sees it, with whether they manage it, in one
        query; 404 otherwise (never 403)."""
        found = workspace_selectors.workspace_for(
            user=self.request.user,
            name=self.kwargs["workspaceName"],
            limited_to=getattr(self.request.auth, "workspace_id", None),
        )
        if found is None:
            raise Http404
        return found

    def _managed(self) -> Workspace:
        workspace = self._workspace()
        if not workspace.manageable:  # type: ignore[attr-defined]  # annotated by workspace_for
            raise PermissionDenied("Only the workspace's owners and superusers may change it.")
        return workspace


@extend_schema(tags=["Workspaces"])
@extend_schema_view(
    list=extend_schema(summary="List the workspaces you see", responses={200: WorkspaceSerializer(many=True)}),
    create=extend_schema(
        summary="Create a workspace (superusers)",
        request=WorkspaceWriteSerializer,
        examples=[
            OpenApiExample("ACME", request_only=True, value={"name": "acme", "display_name": "ACME Corporation"})
        ],
        responses={201: WorkspaceSerializer, **BAD_REQUEST, **AUTH_ERRORS, **WORKSPACE_CONFLICT},
    ),
    retrieve=extend_schema(summary="Get a workspace", responses={200: WorkspaceSerializer, **NOT_FOUND}),
    partial_update=extend_schema(
        summary="Rename a workspace (its display name)",
        request=WorkspaceWriteSerializer(partial=True),
        examples=[OpenApiExample("New display name", request_only=True, value={"display_name": "ACME Inc."})],
        responses={200: WorkspaceSerializer, **BAD_REQUEST, **AUTH_ERRORS, **NOT_FOUND},
    ),
    destroy=extend_schema(
        summary="Delete an empty workspace",
        responses={204: None, **AUTH_ERRORS, **NOT_FOUND, **WORKSPACE_CONFLICT},
    ),
)
class WorkspaceViewSet(WorkspaceLookup):
    lookup_field = "name"
    lookup_url_kwarg = "workspaceName"
    lookup_value_regex = WORKSPACE_NAME

    def list(self, request):
        workspaces = self._visible().order_by("name")
        return Response(WorkspaceSerializer(workspaces, many=True).data)

    # Each write reads its body first: a body that is not valid is a 400 whoever sends it.
    def create(self, request):
        body = WorkspaceWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not workspace_selectors.acts_as_superuser(request.user) or getattr(request.auth, "workspace_id", None):
            raise PermissionDenied("Only superusers create workspaces (with a token not limited to a role).")
        workspace = workspace_services.workspace_create(actor=request.user, **body.validated_data)
        return Response(WorkspaceSerializer(workspace).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, workspaceName=None):  # noqa: N803
        return Response(WorkspaceSerializer(self._workspace()).data)

    def partial_update(self, request, workspaceName=None):  # noqa: N803
        body = WorkspaceWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        workspace = self._managed()
        workspace = workspace_services.workspace_update(
            workspace=workspace, actor=request.user, data=dict(body.validated_data)
        )
        return Response(WorkspaceSerializer(workspace).data)

    def destroy(self, request, workspaceName=None):  # noqa: N803
        workspace_services.workspace_delete(workspace=self._managed(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["Workspaces"])
@extend_schema_view(
    list=extend_schema(
        summary="List a workspace's members", responses={200: MembershipSerializer(many=True), **NOT_FOUND}
    ),
    update=extend_schema(
        summary="Give a user a role in the workspace",
        request=MembershipWriteSerializer,
        examples=[OpenApiExample("Operator", request_only=True, value={"role": "operator"})],
        responses={200: MembershipSerializer, 201: MembershipSerializer, **BAD_REQUEST, **AUTH_ERRORS, **NOT_FOUND},
    ),
    destroy=extend_schema(summary="Remove a member", responses={204: None, **AUTH_ERRORS, **NOT_FOUND}),
)
class MembershipViewSet(WorkspaceLookup):
    """`/api/workspaces/{workspaceName}/members[/{username}]`."""

    def _user(self) -> User:
        """The user of the URL, among those the caller may name (`accounts.selectors.user_to_add`).
        A superuser learns that a name is nobody's; anyone else gets one answer for a name that is
        nobody's and for an account they do not see, so it tells them nothing."""
        username, caller = self.kwargs["username"], self.request.user
        user = workspace_selectors.user_to_add(actor=caller, username=username, workspaces=self._visible())
        if user is not None:
            return user
        if workspace_selectors.acts_as_superuser(caller):
            raise NotFound(f"No user named “{username}”.")
        raise NotFound(f"No user “{username}” that you can add to this workspace.")

    def list(self, request, workspaceName=None):  # noqa: N803
        members = workspace_selectors.workspace_members(workspace=self._workspace())
        return Response(MembershipSerializer(members, many=True).data)

    def update(self, request, workspaceName=None, username=None):  # noqa: N803
        body = MembershipWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        workspace = self._managed()
        membership, created = workspace_services.membership_set(
            workspace=workspace, user=self._user(), role=body.validated_data["role"], actor=request.user
        )
        return Response(
            MembershipSerializer(membership).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    def destroy(self, request, workspaceName=None, username=None):  # noqa: N803
        workspace = self._managed()
        try:
            workspace_services.membership_remove(workspace=workspace, username=username or "", actor=request.user)
        except Membership.DoesNotExist:
            raise NotFound(f"“{username}” is not a member of this workspace.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)
