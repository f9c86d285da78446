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
# Roles from least to most; a token's role may not rank above its user's (accounts.services).
ROLE_RANK = {"viewer": 0, "project_owner": 1, "operator": 2, "owner": 3}
# The role a member of a global group holds in every workspace.
GROUP_ROLES = {IDENTITY_VIEWERS: "viewer", PROJECT_OWNERS: "project_owner", OPERATORS: "operator"}
