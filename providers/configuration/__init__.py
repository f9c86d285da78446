"""Configuration as code: a workspace exported to a file, the plan of a file against the database, and its apply."""
