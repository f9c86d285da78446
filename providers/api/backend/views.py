import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import scoping
from providers import audit, selectors, services
from providers.api.filters import ProjectFilter, ProviderFilter
from providers.api.pagination import ProjectPagination, ProviderPagination
from providers.api.permissions import ChangePermissions, ModelPermissions
from providers.api.schema import (
    AUTH_ERRORS,
    BAD_REQUEST,
    CONFLICT,
    ERROR,
    IF_MATCH,
    LIST_ERRORS,
    NOT_FOUND,
    UNSUPPORTED,
)
from providers.api.scope import WorkspaceScoped
from providers.concurrency import row_version_tag
from providers.models import ID_CHARACTERS, Project, Provider

from .serializers import (
    REFERENCE_PROVIDER_EXAMPLE,
    ConnectionTestSerializer,
    CredentialMetadataSerializer,
    CredentialVersionSerializer,
    ProjectSerializer,
    ProjectWriteSerializer,
    ProviderSerializer,
    ProviderWriteSerializer,
    RollbackSerializer,
)

LOOKUP = ID_CHARACTERS


@extend_schema(tags=["Providers"])
@extend_schema_view(
    list=extend_schema(
        summary="List providers", responses={200: ProviderSerializer(many=True), **AUTH_ERRORS, **LIST_ERRORS}
    ),
    retrieve=extend_schema(summary="Get a provider", responses={200: ProviderSerializer, **AUTH_ERRORS, **NOT_FOUND}),
    create=extend_schema(
        summary="Create a provider with its credentials",
        request=ProviderWriteSerializer,
        responses={
            201: ProviderSerializer,
            **BAD_REQUEST,
            **AUTH_ERRORS,
            **UNSUPPORTED,
            409: OpenApiResponse(CONFLICT, description="A provider with this id already exists."),
        },
    ),
    partial_update=extend_schema(
        summary="Edit a provider; `credentials`, when sent, replace the stored ones",
        request=ProviderWriteSerializer(partial=True),
        examples=[
            REFERENCE_PROVIDER_EXAMPLE,
            OpenApiExample("Change the label", request_only=True, value={"label": "Company GitHub"}),
            OpenApiExample(
                "Replace the token",
                request_only=True,
                value={
                    "credentials": {
                        "type": "token",
                        "content": {"accessToken": "github_pat_11ABCDEFG0123456789_new"},
                        "expiresAt": "2027-06-30T00:00:00Z",
                    }
                },
            ),
        ],
        parameters=[IF_MATCH],
        responses={200: ProviderSerializer, **BAD_REQUEST, **AUTH_ERRORS, **NOT_FOUND, **UNSUPPORTED},
    ),
    destroy=extend_schema(
        summary="Delete a provider",
        parameters=[IF_MATCH],
        responses={
            204: None,
            **AUTH_ERRORS,
            **NOT_FOUND,
            409: OpenApiResponse(CONFLICT, description="Projects still use the provider; they are listed."),
        },
    ),
)
class ProviderViewSet(
    WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Git and identity providers with their (write-only) credentials."""

    queryset = Provider.objects.none()
    serializer_class = ProviderSerializer
    permission_classes = [ModelPermissions]
    filterset_class = ProviderFilter
    pagination_class = ProviderPagination
    lookup_field = "provider_id"
    lookup_url_kwarg = "providerId"
    lookup_value_regex = LOOKUP

    def get_queryset(self):
        return selectors.provider_list()

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return ProviderWriteSerializer
        return ProviderSerializer

    def _read(self, provider_id: str) -> Response:
        """A provider's read and its ETag, from one row (no model instance)."""
        row = get_object_or_404(selectors.provider_rows(), provider_id=provider_id)
        return Response(ProviderSerializer().to_representation(row), headers={"ETag": row_version_tag(Provider, row)})

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(selectors.provider_rows()))
        serializer = ProviderSerializer()
        return self.get_paginated_response([serializer.to_representation(row) for row in page or []])

    def retrieve(self, request, *args, **kwargs):
        return self._read(kwargs[self.lookup_url_kwarg])

    def create(self, request, *args, **kwargs):
        serializer = ProviderWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        fields, credentials = serializer.to_service_data()
        provider = services.provider_create(actor=request.user, credentials=credentials, **fields)
        response = self._read(provider.provider_id)
        response.status_code = status.HTTP_201_CREATED
        response["Location"] = request.build_absolute_uri(f"{request.path.rstrip('/')}/{provider.provider_id}")
        return response

    def partial_update(self, request, *args, **kwargs):
        serializer = ProviderWriteSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        fields, credentials = serializer.to_service_data()
        provider = services.provider_update(  # finds the provider with its lock: 404 when there is none
            provider=kwargs[self.lookup_url_kwarg],
            actor=request.user,
            data=fields,
            credentials=credentials,
            if_match=request.headers.get("If-Match"),
        )
        return self._read(provider.provider_id)

    def perform_destroy(self, instance):
        services.provider_delete(
            provider=instance, actor=self.request.user, if_match=self.request.headers.get("If-Match")
        )

    @extend_schema(
        summary="Export every provider as newline-delimited JSON (metadata only, never a secret)",
        parameters=[],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(description="One provider read per line."),
            **AUTH_ERRORS,
        },
    )
    @action(detail=False, methods=["get"], url_path="export", pagination_class=None, filterset_class=None)
    def export(self, request):
        """Streams in keyset batches, so memory stays flat however many providers there are."""
        audit.record(action="export", actor=request.user, object_type="provider", detail="providers export")

        def rows():
            serializer = ProviderSerializer()
            last = ""
            while True:
                batch = list(selectors.provider_rows().filter(provider_id__gt=last).order_by("provider_id")[:500])
                if not batch:
                    return
                for row in batch:
                    yield json.dumps(serializer.to_representation(row), cls=DjangoJSONEncoder) + "\n"
                last = batch[-1]["provider_id"]

        # The body is read after the request's scope has ended: it keeps the request's workspace.
        response = StreamingHttpResponse(scoping.bound(rows()), content_type="application/x-ndjson")
        response["Content-Disposition"] = 'attachment; filename="providers.ndjson"'
        return response

    @extend_schema(
        summary="Credentials metadata and rotation history (never the secrets)",
        responses={
            200: inline_serializer(
                "CredentialHistory",
                {
                    "current": CredentialMetadataSerializer(allow_null=True),
                    "history": CredentialVersionSerializer(many=True),
                },
            ),
            **AUTH_ERRORS,
            **NOT_FOUND,
        },
    )
    @action(detail=True, methods=["get"], url_path="credentials")
    def credentials(self, request, providerId=None):  # noqa: N803
        provider = self.get_object()
        current = getattr(provider, "credential", None)
        versions = selectors.credential_versions(provider=provider)
        return Response(
            {
                "current": CredentialMetadataSerializer(current).data if current else None,
                "history": CredentialVersionSerializer(versions, many=True).data,
            }
        )

    @extend_schema(
        summary="Restore a replaced version of the credentials (within the rollback window)",
        request=RollbackSerializer,
        examples=[
            OpenApiExample(
                "Restore version 12",
                request_only=True,
                value={"version": 12},
                description="`version` is an `id` from `GET /api/backend/providers/{providerId}/credentials`.",
            )
        ],
        responses={200: ProviderSerializer, **BAD_REQUEST, **AUTH_ERRORS, **NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="credentials/rollback", permission_classes=[ChangePermissions])
    def rollback(self, request, providerId=None):  # noqa: N803
        provider = self.get_object()
        serializer = RollbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.credential_rollback(
            provider=provider, version_id=serializer.validated_data["version"], actor=request.user
        )
        return self._read(provider.provider_id)

    @extend_schema(
        summary="Test the connection with the stored credentials",
        description="Calls the provider's own “who am I” endpoint (git providers) or fetches its discovery "
        "document and keys (identity providers) and stores the outcome, shown as `lastTest` in reads. "
        "Answers 200 whether or not the test passed; `ok` tells. The secret is never echoed.",
        request=None,
        responses={200: ConnectionTestSerializer, **AUTH_ERRORS, **NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="test", permission_classes=[ChangePermissions])
    def test_connection(self, request, providerId=None):  # noqa: N803
        provider = self.get_object()
        result = services.provider_test_connection(provider=provider, actor=request.user)
        body = {
            "ok": result.ok,
            "status": result.status,
            "message": result.message,
            "identity": result.identity,
            "testedAt": provider.last_tested_at,
        }
        return Response(ConnectionTestSerializer(body).data)


@extend_schema(tags=["Projects"])
@extend_schema_view(
    list=extend_schema(
        summary="List projects (operators: all; project owners: their own)",
        responses={200: ProjectSerializer(many=True), **AUTH_ERRORS, **LIST_ERRORS},
    ),
    retrieve=extend_schema(summary="Get a project", responses={200: ProjectSerializer, **AUTH_ERRORS, **NOT_FOUND}),
    partial_update=extend_schema(
        summary="Edit a project, e.g. set its `providerId`",
        request=ProjectWriteSerializer,
        parameters=[IF_MATCH],
        responses={
            200: ProjectSerializer,
            **BAD_REQUEST,
            401: AUTH_ERRORS[401],
            403: OpenApiResponse(ERROR, description="Not allowed, or not allowed to change the named fields."),
            **NOT_FOUND,
        },
    ),
)
class ProjectViewSet(WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Projects and the provider hosting their repository."""

    queryset = Project.objects.none()
    serializer_class = ProjectSerializer
    permission_classes = [ModelPermissions]
    filterset_class = ProjectFilter
    pagination_class = ProjectPagination
    lookup_field = "project_id"
    lookup_url_kwarg = "projectId"
    lookup_value_regex = LOOKUP

    def get_queryset(self):
        return selectors.project_list(user=self.request.user)

    def get_serializer_class(self):
        return ProjectWriteSerializer if self.action == "partial_update" else ProjectSerializer

    def partial_update(self, request, *args, **kwargs):
        project = self.get_object()
        requested = ProjectWriteSerializer.requested_fields(request.data)
        services.project_check_fields(user=request.user, project=project, fields=requested)
        serializer = ProjectWriteSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        project = services.project_update(
            project=project,
            actor=request.user,
            data=serializer.to_service_data(),
            if_match=request.headers.get("If-Match"),
        )
        return self._read(project.project_id)

    def _read(self, project_id: str) -> Response:
        row = get_object_or_404(selectors.project_rows(user=self.request.user), project_id=project_id)
        (row,) = selectors.with_owners([row])
        return Response(ProjectSerializer().to_representation(row), headers={"ETag": row_version_tag(Project, row)})

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(selectors.project_rows(user=request.user)))
        rows = selectors.with_owners(list(page or []))
        serializer = ProjectSerializer()
        return self.get_paginated_response([serializer.to_representation(row) for row in rows])

    def retrieve(self, request, *args, **kwargs):
        return self._read(kwargs[self.lookup_url_kwarg])
