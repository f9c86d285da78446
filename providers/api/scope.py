"""The workspace an API request acts on: from `/api/workspaces/{workspaceName}/…`, or for the
un-prefixed paths the token's only workspace or the default one (`accounts.selectors.api_workspace`).
Resolved once the caller is authenticated and before any permission is checked, so that workspace
roles apply and every query of the request is scoped to it (`accounts.scoping`)."""

from rest_framework.exceptions import NotFound

from accounts import scoping
from accounts.selectors import api_workspace


class WorkspaceScoped:
    """Mixed into every viewset of workspace-owned resources (first among its bases)."""

    workspace_name: str | None = None
    workspace_id: int

    def dispatch(self, request, *args, **kwargs):
        self.workspace_name = kwargs.pop("workspaceName", None)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    def perform_authentication(self, request):
        super().perform_authentication(request)  # type: ignore[misc]
        self._act_in(request, self.workspace_name)

    def _act_in(self, request, name: str | None) -> None:
        workspace_id = api_workspace(user=request.user, token=request.auth, name=name)
        if workspace_id is None:
            raise NotFound(f"No workspace “{name}”.")
        self.workspace_id = workspace_id
        scoping.activate(workspace_id)

    def switch_workspace(self, request, name: str) -> None:
        """Act in workspace `name` from here on (a body that names its workspace), refused as the
        URL's workspace would be: 404 if the caller does not see it, 403 without the permission."""
        self.workspace_name = name
        self._act_in(request, name)
        self.check_permissions(request)  # type: ignore[attr-defined]

    def workspace_path(self) -> str:
        """The API's path prefix for the request's workspace: `/api/workspaces/{name}` or `/api`."""
        return f"/api/workspaces/{self.workspace_name}" if self.workspace_name else "/api"
