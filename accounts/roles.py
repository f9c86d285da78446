"""The groups the product relies on. Their permissions are created by migration
accounts/0002_groups; the admin and the API check the same permissions."""

OPERATORS = "access_token_manager"
PROJECT_OWNERS = "project_owner"
IDENTITY_VIEWERS = "identity_provider_viewer"
