"""`/api/workspaces/{workspaceName}/config` (and `/api/config` for the default workspace):
configuration as code over HTTP. `GET` exports the workspace (YAML, or JSON on request),
`POST …/plan` and `POST …/apply` take a configuration file as the body (YAML or JSON, streamed);
`GET /api/config/schema.json` is the file's JSON Schema, the same for every workspace and public
(derived from code, nothing secret: an editor fetching it has no token).
The same services as `manage.py config`; only the secret references differ: over the API they
may name only the environment variables and the directory the settings open
(`CONFIG_API_SECRET_ENV_PREFIX`, `CONFIG_API_SECRET_DIR`)."""

from functools import cache
from typing import Any

from django.http import HttpResponse, HttpResponseNotModified, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import scoping
from accounts.models import Workspace
from providers import audit
from providers.api.scope import WorkspaceScoped
from providers.concurrency import entity_tag, header_names_tag
from providers.configuration import export as config_export
from providers.configuration.refs import RefPolicy, api_env_prefix
from providers.configuration.schema import config_schema, dumps
from providers.configuration.services import UNMANAGED, ConfigRefusedError, Plan, config_apply, config_plan

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
    """Exporting the configuration needs the view permissions of what it holds; planning and
    applying a file need to add, change and delete each."""

    actions: tuple[str, ...] = ("view",)

    def has_permission(self, request, view) -> bool:
        wanted = [f"providers.{action}_{model}" for action in self.actions for model in MODELS]
        return bool(request.user and request.user.is_authenticated and request.user.has_perms(wanted))


class ConfigApplyPermission(ConfigPermission):
    actions = ("view", "add", "change", "delete")


class ConfigErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True, help_text="The file's line (1-based), when known.")
    path = serializers.CharField(help_text="The field's path, e.g. `identityProviders[3].oidc_config.issuer`.")
    message = serializers.CharField()


class ConfigFieldChangeSerializer(serializers.Serializer):
    path = serializers.CharField()
    old = serializers.JSONField(required=False, allow_null=True)
    new = serializers.JSONField(required=False, allow_null=True)
    secret = serializers.BooleanField(required=False, help_text="A secret: only its fingerprints are shown.")
    old_fingerprint = serializers.CharField(required=False, allow_null=True)
    new_fingerprint = serializers.CharField(required=False)
    change = serializers.CharField(required=False, help_text="What happens, e.g. “created (oidc-…)”.")


class ConfigChangeSerializer(serializers.Serializer):
    section = serializers.ChoiceField(choices=["providers", "identityProviders", "projects"])
    key = serializers.CharField()
    action = serializers.ChoiceField(choices=["create", "update", "delete"])
    unmanaged = serializers.BooleanField(help_text="A deletion of an object this file does not manage.")
    fields = ConfigFieldChangeSerializer(many=True)  # type: ignore[assignment]


class ConfigCountsSerializer(serializers.Serializer):
    create = serializers.IntegerField()  # type: ignore[assignment]
    update = serializers.IntegerField()  # type: ignore[assignment]
    delete = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class ConfigPlanSerializer(serializers.Serializer):
    """What a plan or an apply answers, refusals included."""

    changes = ConfigChangeSerializer(many=True)
    summary = serializers.CharField()
    counts = ConfigCountsSerializer()
    hash = serializers.CharField(help_text="For `if_plan`.")
    exit_code = serializers.IntegerField(help_text="As the command's: 0 no changes, 1 error, 2 changes, 3 unmanaged.")
    applied = serializers.BooleanField()
    errors = ConfigErrorSerializer(many=True)  # type: ignore[assignment]
    detail = serializers.CharField(required=False, help_text="Why it was refused.")


def _errors(plan: Plan) -> list[dict[str, Any]]:
    return [{"line": error.line or None, "path": error.path, "message": error.message} for error in plan.errors]


class ConfigExportView(WorkspaceScoped, APIView):
    permission_classes = [IsAuthenticated, ConfigPermission]
    renderer_classes = [YamlRenderer, JSONRenderer]

    @extend_schema(
        tags=["Configuration as code"],
        summary="Export the workspace's configuration",
        parameters=[
            OpenApiParameter("format", str, enum=["yaml", "json"], description="Or `Accept: application/json`."),
            OpenApiParameter("secret_refs", str, enum=["env"], description="A reference for each secret."),
        ],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="The configuration file (docs/config.md).")},
    )
    def get(self, request, *args, **kwargs):
        fmt = config_export.JSON if request.accepted_renderer.format == "json" else config_export.YAML
        secret_refs = request.query_params.get("secret_refs") or None
        if secret_refs not in (None, config_export.ENV):
            return Response({"secret_refs": ["Not a valid choice (expected: env)."]}, status=400)
        workspace = Workspace.objects.get(pk=self.workspace_id)
        audit.record(action="export", actor=request.user, object_type="configuration", workspace_id=workspace.pk)
        pieces = config_export.export(
            workspace_id=workspace.pk,
            workspace_name=workspace.name,
            fmt=fmt,
            secret_refs=secret_refs,
            env_prefix=api_env_prefix(workspace.name),  # the names this API accepts back
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
    # A plan resolves the file's secret references (to tell whether a secret changes): like an
    # apply, it needs the permissions to write what it reads.
    permission_classes = [IsAuthenticated, ConfigApplyPermission]

    def post(self, request, *args, **kwargs):
        media = (request.content_type or "").split(";")[0].strip().lower()
        if media not in FILE_TYPES:
            raise UnsupportedMediaType(media or "none", detail="Send the file as application/yaml or application/json.")
        workspace = Workspace.objects.only("name").get(pk=self.workspace_id)
        options = {"workspace_id": self.workspace_id, "actor": request.user, "policy": RefPolicy.api(workspace.name)}
        file = request.stream if request.stream is not None else ""  # None: an empty body
        try:
            if self.applying:
                plan = config_apply(
                    file,
                    if_plan=request.query_params.get("if_plan") or None,
                    prune_unmanaged=request.query_params.get("prune_unmanaged") in ("true", "1"),
                    **options,
                )
            else:
                plan = config_plan(file, **options)
        except ConfigRefusedError as exc:
            body = {**exc.plan.as_dict(), "errors": _errors(exc.plan)}
            if exc.mismatch:
                return Response({**body, "detail": exc.mismatch}, status=status.HTTP_412_PRECONDITION_FAILED)
            return self._refused(exc.plan, body)
        body = {**plan.as_dict(), "errors": _errors(plan)}
        if plan.errors or plan.exit_code == UNMANAGED:  # an apply with `prune_unmanaged` has deleted them
            return self._refused(plan, body)
        return Response(body)

    def _refused(self, plan: Plan, body: dict[str, Any]) -> Response:
        if plan.errors:
            return Response({**body, "detail": "The file has errors: nothing was written."}, status=400)
        count = len(plan.unmanaged_deletions)
        detail = f"{count} object(s) to delete are not managed by this file: apply with ?prune_unmanaged=true."
        return Response({**body, "detail": detail}, status=status.HTTP_409_CONFLICT)


FILE_BODY = {"application/yaml": OpenApiTypes.STR, "application/json": OpenApiTypes.OBJECT}
EXAMPLE_FILE = {
    "version": 1,
    "managedBy": "platform-prod",
    "projects": [
        {"id": "payments-api", "name": "Payments API", "repository": {"providerId": None, "path": "acme/pay"}}
    ],
}
FILE_EXAMPLES = [
    OpenApiExample(
        "A project (YAML)",
        request_only=True,
        media_type="application/yaml",
        value="version: 1\nmanagedBy: platform-prod\nprojects:\n- id: payments-api\n  name: Payments API\n"
        "  repository: {providerId: null, path: acme/pay}\n",
        description="Secrets are given by reference, e.g. `accessToken: {secretRef: {env: REGISTRY_SECRET_GITHUB}}` "
        "(docs/config.md).",
    ),
    OpenApiExample("The same (JSON)", request_only=True, media_type="application/json", value=EXAMPLE_FILE),
]
PLAN_RESPONSES = {
    200: OpenApiResponse(ConfigPlanSerializer, description="The plan: `changes`, `summary`, `counts`, `hash`."),
    400: OpenApiResponse(ConfigPlanSerializer, description="`errors`, each with its `line`, `path` and `message`."),
    409: OpenApiResponse(ConfigPlanSerializer, description="It would delete objects this file does not manage."),
}


class ConfigPlanView(ConfigRunView):
    @extend_schema(
        tags=["Configuration as code"],
        summary="Plan a configuration file",
        request=FILE_BODY,
        examples=FILE_EXAMPLES,
        responses=PLAN_RESPONSES,
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class ConfigApplyView(ConfigRunView):
    applying = True

    @extend_schema(
        tags=["Configuration as code"],
        summary="Apply a configuration file (all or nothing)",
        request=FILE_BODY,
        examples=FILE_EXAMPLES,
        parameters=[
            OpenApiParameter("if_plan", str, description="Apply only if the plan's hash is still this one."),
            OpenApiParameter("prune_unmanaged", bool, description="Delete listed-absent objects it does not manage."),
        ],
        responses={
            **PLAN_RESPONSES,
            412: OpenApiResponse(ConfigPlanSerializer, description="The plan is no longer `if_plan`."),
        },
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


SCHEMA_MAX_AGE = 3600


@cache
def schema_document() -> tuple[bytes, str]:
    """The schema's text and its ETag, built once per process: the catalogues do not change while it runs."""
    text = dumps(config_schema())
    return text.encode(), entity_tag(text)


class JsonSchemaRenderer(JSONRenderer):
    """JSON Schema's own media type; plain `application/json` is served to those who ask for it."""

    media_type = "application/schema+json"


@extend_schema(tags=["Configuration as code"])
class ConfigSchemaView(APIView):
    """The same document as `docs/config-schema.json`."""

    authentication_classes: list = []  # public: a stale token must not turn an editor's fetch into a 401
    permission_classes = [AllowAny]
    renderer_classes = [JsonSchemaRenderer, JSONRenderer]

    @extend_schema(
        operation_id="config_schema_retrieve",
        summary="JSON Schema of the configuration file (no authentication)",
        description=(
            "JSON Schema (draft 2020-12) of the file `config export` writes and `config plan` / `config apply` "
            "read, for editors to validate against. Answers with an `ETag` and `Cache-Control`; send the tag "
            "back in `If-None-Match` to get `304 Not Modified`."
        ),
        auth=[],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The JSON Schema."),
            304: OpenApiResponse(description="Not modified: `If-None-Match` names the current `ETag`."),
        },
    )
    def get(self, request):
        body, etag = schema_document()
        headers = {"ETag": etag, "Cache-Control": f"public, max-age={SCHEMA_MAX_AGE}"}
        if header_names_tag(request.headers.get("If-None-Match"), etag):
            return HttpResponseNotModified(headers=headers)
        return HttpResponse(body, content_type=request.accepted_renderer.media_type, headers=headers)
