"""The admin, the registry's CMS: one module per model admin, the site and its dashboard."""

from . import audit, federation, identity, project, provider

__all__ = ["audit", "federation", "identity", "project", "provider"]
