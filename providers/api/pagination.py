from rest_framework.pagination import CursorPagination


class KeysetPagination(CursorPagination):
    """Cursor pagination on a unique key: page N costs the same as page 1 and no COUNT is run."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class ProviderPagination(KeysetPagination):
    ordering = "provider_id"


class ProjectPagination(KeysetPagination):
    ordering = "project_id"
