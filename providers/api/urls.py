from django.urls import URLPattern, URLResolver, include, path, re_path
from rest_framework.routers import SimpleRouter

from providers.models import ID_CHARACTERS

from .account import LinkedIdentitiesView, LinkedIdentityTokenView
from .backend.audit import AuditEventViewSet
from .backend.views import ProjectViewSet, ProviderViewSet
from .config import ConfigApplyView, ConfigExportView, ConfigPlanView, ConfigSchemaView
from .identity.views import IdentityProviderViewSet, MapperViewSet
from .idps import IdpViewSet
from .jsonapi import JsonApiIdentityProviderViewSet
from .workspaces import USERNAME, WORKSPACE_NAME, MembershipViewSet, WorkspaceViewSet


class OptionalSlashRouter(SimpleRouter):
    """Serves `/providers` and `/providers/` alike: clients copy paths from documents either way."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


backend = OptionalSlashRouter()
backend.register("providers", ProviderViewSet, basename="provider")
backend.register("projects", ProjectViewSet, basename="project")
backend.register("audit-events", AuditEventViewSet, basename="audit-event")

workspaces = OptionalSlashRouter()
workspaces.register("workspaces", WorkspaceViewSet, basename="workspace")
WORKSPACE = rf"(?P<workspaceName>{WORKSPACE_NAME})"
members = MembershipViewSet.as_view({"get": "list"})
member = MembershipViewSet.as_view({"put": "update", "delete": "destroy"})

identity = OptionalSlashRouter()
identity.register("identity-providers", IdentityProviderViewSet, basename="identity-provider")

ALIAS = rf"(?P<alias>{ID_CHARACTERS})"
mappers = MapperViewSet.as_view({"get": "list", "post": "create"})
mapper = MapperViewSet.as_view({"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"})
dry_run = MapperViewSet.as_view({"post": "dry_run"})

idps = IdpViewSet.as_view({"get": "list", "post": "create"})
idp = IdpViewSet.as_view({"get": "retrieve", "put": "update", "patch": "update", "delete": "destroy"})

JSONAPI_ID = r"(?P<resource_id>[A-Za-z0-9-]{1,64})"
jsonapi_list = JsonApiIdentityProviderViewSet.as_view({"get": "list", "post": "create"})
jsonapi_item = JsonApiIdentityProviderViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
)
jsonapi_user = JsonApiIdentityProviderViewSet.as_view({"get": "user"})

# The resources of a workspace: at `/api/…` (the default workspace, or a limited token's own) and
# at `/api/workspaces/{workspaceName}/…` (providers.api.scope). A name reverses to the prefixed
# path when given `workspaceName`.
resources: list[URLPattern | URLResolver] = [
    re_path(r"^identity_providers/?$", jsonapi_list, name="jsonapi-identity-providers"),
    re_path(rf"^identity_providers/{JSONAPI_ID}/?$", jsonapi_item, name="jsonapi-identity-provider"),
    re_path(rf"^identity_providers/{JSONAPI_ID}/(?:relationships/)?user/?$", jsonapi_user, name="jsonapi-idp-user"),
    re_path(r"^idps/?$", idps, name="idps"),
    re_path(r"^idps/(?P<idp_id>[A-Za-z0-9-]{1,64})/?$", idp, name="idp"),
    path("backend/", include(backend.urls)),
    re_path(r"^config/?$", ConfigExportView.as_view(), name="config"),
    re_path(r"^config/plan/?$", ConfigPlanView.as_view(), name="config-plan"),
    re_path(r"^config/apply/?$", ConfigApplyView.as_view(), name="config-apply"),
    re_path(rf"^identity-providers/{ALIAS}/mappers/?$", mappers, name="identity-provider-mappers"),
    re_path(rf"^identity-providers/{ALIAS}/mappers/dry-run/?$", dry_run, name="identity-provider-dry-run"),
    re_path(rf"^identity-providers/{ALIAS}/mappers/(?P<mapper_id>[0-9]{{1,18}})/?$", mapper, name="identity-mapper"),
    path("", include(identity.urls)),
]

urlpatterns = [
    *resources,
    re_path(r"^config/schema\.json$", ConfigSchemaView.as_view(), name="config-schema"),
    re_path(r"^account/identities/?$", LinkedIdentitiesView.as_view(), name="account-identities"),
    re_path(
        rf"^account/identities/{WORKSPACE}/{ALIAS}/token/?$", LinkedIdentityTokenView.as_view(), name="account-token"
    ),
    re_path(rf"^workspaces/{WORKSPACE}/members/?$", members, name="workspace-members"),
    re_path(rf"^workspaces/{WORKSPACE}/members/(?P<username>{USERNAME})/?$", member, name="workspace-member"),
    re_path(rf"^workspaces/{WORKSPACE}/", include(resources)),
    path("", include(workspaces.urls)),
]
