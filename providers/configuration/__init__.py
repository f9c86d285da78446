"""Configuration as code: a workspace's providers, identity providers and projects kept in a file."""
