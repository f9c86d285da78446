"""Everything about identity providers that is not HTTP: the field catalogue, services,
selectors, mappers, discovery and metadata import, domain verification."""
