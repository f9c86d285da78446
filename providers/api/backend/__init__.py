"""The backend API of the git-providers document: `/api/backend/providers`, projects and the audit log."""
