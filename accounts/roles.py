"""The groups the product relies on. Their permissions are created by migration
accounts/0002_groups; the admin and the API check the same permissions."""

OPERATORS = "access_token_manager"
PROJECT_OWNERS = "project_owner"
IDENTITY_VIEWERS = "identity_provider_viewer"

# What each workspace role may do inside its workspace: the permissions of the group whose members
# hold that role in every workspace (the viewer: only the operators' `view_*` ones). Owners also
# manage the workspace itself (accounts.selectors.can_manage_workspace).
ROLE_GROUPS = {"owner": OPERATORS, "operator": OPERATORS, "project_owner": PROJECT_OWNERS, "viewer": OPERATORS}
READ_ONLY_ROLES = frozenset({"viewer"})
