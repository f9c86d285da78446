"""Every write of git providers, their credentials and projects, one module per part:
`providers`, `credentials`, `projects`, and `common` (what every write shares). The API and the
admin both call these, so both enforce the same rules. Import from here."""

from accounts.errors import ConflictError, violates

from .common import FieldPermissionDenied, actor_user, provider_touch
from .credentials import (
    CredentialInput,
    credential_content,
    credential_fingerprint,
    credential_rollback,
    credential_rollback_deadline,
    credential_validate,
)
from .projects import (
    PROJECT_FIELDS,
    PROJECT_OWNER_FIELDS,
    project_check_fields,
    project_create,
    project_delete,
    project_editable_fields,
    project_update,
)
from .providers import (
    PROVIDER_EDITABLE_FIELDS,
    RESERVED_PROVIDER_IDS,
    URL_FIELDS,
    provider_apply_changes,
    provider_clean,
    provider_create,
    provider_delete,
    provider_id_check,
    provider_test_connection,
    provider_update,
    provider_validate,
)

__all__ = [
    "PROJECT_FIELDS",
    "PROJECT_OWNER_FIELDS",
    "PROVIDER_EDITABLE_FIELDS",
    "RESERVED_PROVIDER_IDS",
    "URL_FIELDS",
    "ConflictError",
    "CredentialInput",
    "FieldPermissionDenied",
    "actor_user",
    "credential_content",
    "credential_fingerprint",
    "credential_rollback",
    "credential_rollback_deadline",
    "credential_validate",
    "project_check_fields",
    "project_create",
    "project_delete",
    "project_editable_fields",
    "project_update",
    "provider_apply_changes",
    "provider_clean",
    "provider_create",
    "provider_delete",
    "provider_id_check",
    "provider_test_connection",
    "provider_touch",
    "provider_update",
    "provider_validate",
    "violates",
]
