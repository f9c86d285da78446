"""Configuration as code: a workspace's providers, identity providers and projects exported to a file, the
plan of a file against the database, and its apply (docs/config.md)."""
