"""The admin, the registry's CMS: one module per model admin, the site and its dashboard."""

from . import audit, identity, project, provider

__all__ = ["audit", "identity", "project", "provider"]
