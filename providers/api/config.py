"""`/api/workspaces/{workspaceName}/config` (and `/api/config` for the default workspace):
configuration as code over HTTP. `GET` exports the workspace (YAML, or JSON on request),
`POST …/plan` and `POST …/apply` take a configuration file as the body (YAML or JSON, streamed).
The same services as `manage.py config`; only the secret references differ: over the API they
may name only the environment variables and the directory the settings open
(`CONFIG_API_SECRET_ENV_PREFIX`, `CONFIG_API_SECRET_DIR`)."""

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import scoping
from accounts.models import Workspace
from providers import audit
from providers.api.scope import WorkspaceScoped
from providers.configuration import export as config_export
from providers.configuration.refs import RefPolicy
from providers.configuration.services import ConfigRefusedError, Plan, config_apply, config_plan

MODELS = ("provider", "identityprovider", "project")
FILE_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "application/json", "text/plain")


class YamlRenderer(BaseRenderer):
    """Lets content negotiation pick YAML (the default) or JSON; the views stream the file themselves."""

    media_type = "application/yaml"
    format = "yaml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)  # errors are JSON whatever was asked for


class ConfigPermission(BasePermission):
    """Reading the configuration needs the view permissions of what it holds; applying needs to add,
    change and delete each."""

    actions: tuple[str, ...] = ("view",)

    def has_permission(self, request, view) -> bool:
        wanted = [f"providers.{action}_{model}" for action in self.actions for model in MODELS]
        return bool(request.user and request.user.is_authenticated and request.user.has_perms(wanted))


class ConfigApplyPermission(ConfigPermission):
    actions = ("view", "add", "change", "delete")


def _errors(plan: Plan) -> list[dict[str, Any]]:
    return [{"line": error.line or None, "path": error.path, "message": error.message} for error in plan.errors]


class ConfigExportView(WorkspaceScoped, APIView):
    permission_classes = [IsAuthenticated, ConfigPermission]
    renderer_classes = [YamlRenderer, JSONRenderer]

    @extend_schema(
        tags=["Configuration"],
        summary="Export the workspace's configuration",
        parameters=[
            OpenApiParameter("format", str, enum=["yaml", "json"], description="Or `Accept: application/json`."),
            OpenApiParameter("secret_refs", str, enum=["env"], description="A reference for each secret."),
        ],
        responses={200: OpenApiResponse(OpenApiTypes.STR, description="The configuration file (docs/config.md).")},
    )
    def get(self, request, *args, **kwargs):
        fmt = config_export.JSON if request.accepted_renderer.format == "json" else config_export.YAML
        secret_refs = request.query_params.get("secret_refs") or None
        if secret_refs not in (None, config_export.ENV):
            return Response({"secret_refs": ["Not a valid choice (expected: env)."]}, status=400)
        workspace = Workspace.objects.get(pk=self.workspace_id)
        audit.record(action="export", actor=request.user, object_type="configuration", workspace_id=workspace.pk)
        pieces = config_export.export(
            workspace_id=workspace.pk, workspace_name=workspace.name, fmt=fmt, secret_refs=secret_refs
        )
        media = "application/json" if fmt == config_export.JSON else "application/yaml"
        response = StreamingHttpResponse(scoping.bound(pieces), content_type=f"{media}; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="{workspace.name}.{fmt}"'
        response["Cache-Control"] = "no-store"
        return response


class ConfigRunView(WorkspaceScoped, APIView):
    """`POST …/config/plan` and `POST …/config/apply`."""

    applying = False
    renderer_classes = [JSONRenderer]

    def get_permissions(self):
        return [IsAuthenticated(), ConfigApplyPermission() if self.applying else ConfigPermission()]

    def post(self, request, *args, **kwargs):
        media = (request.content_type or "").split(";")[0].strip().lower()
        if media not in FILE_TYPES:
            raise UnsupportedMediaType(media or "none", detail="Send the file as application/yaml or application/json.")
        options = {"workspace_id": self.workspace_id, "actor": request.user, "policy": RefPolicy.api()}
        try:
            if self.applying:
                plan = config_apply(
                    request.stream,
                    if_plan=request.query_params.get("if_plan") or None,
                    prune_unmanaged=request.query_params.get("prune_unmanaged") in ("true", "1"),
                    **options,
                )
            else:
                plan = config_plan(request.stream, **options)
        except ConfigRefusedError as exc:
            body = {**exc.plan.as_dict(), "errors": _errors(exc.plan)}
            if exc.mismatch:
                return Response({**body, "detail": exc.mismatch}, status=status.HTTP_412_PRECONDITION_FAILED)
            return self._refused(exc.plan, body)
        body = {**plan.as_dict(), "errors": _errors(plan)}
        if plan.errors or plan.unmanaged_deletions:
            return self._refused(plan, body)
        return Response(body)

    def _refused(self, plan: Plan, body: dict[str, Any]) -> Response:
        if plan.errors:
            return Response({**body, "detail": "The file has errors: nothing was written."}, status=400)
        count = len(plan.unmanaged_deletions)
        detail = f"{count} object(s) to delete are not managed by this file: apply with ?prune_unmanaged=true."
        return Response({**body, "detail": detail}, status=status.HTTP_409_CONFLICT)


FILE_BODY = {"application/yaml": OpenApiTypes.STR, "application/json": OpenApiTypes.OBJECT}
PLAN_RESPONSES = {
    200: OpenApiResponse(OpenApiTypes.OBJECT, description="The plan: `changes`, `summary`, `counts`, `hash`."),
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="`errors`, each with its `line`, `path` and `message`."),
    409: OpenApiResponse(OpenApiTypes.OBJECT, description="It would delete objects this file does not manage."),
}


class ConfigPlanView(ConfigRunView):
    @extend_schema(
        tags=["Configuration"], summary="Plan a configuration file", request=FILE_BODY, responses=PLAN_RESPONSES
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class ConfigApplyView(ConfigRunView):
    applying = True

    @extend_schema(
        tags=["Configuration"],
        summary="Apply a configuration file (all or nothing)",
        request=FILE_BODY,
        parameters=[
            OpenApiParameter("if_plan", str, description="Apply only if the plan's hash is still this one."),
            OpenApiParameter("prune_unmanaged", bool, description="Delete listed-absent objects it does not manage."),
        ],
        responses={
            **PLAN_RESPONSES,
            412: OpenApiResponse(OpenApiTypes.OBJECT, description="The plan is no longer `if_plan`."),
        },
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
