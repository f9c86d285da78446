"""The audit log, read-only."""

from django.contrib import admin

from providers.models import AuditEvent

from .common import WorkspaceColumns
from .paginator import EstimatedCountPaginator


@admin.register(AuditEvent)
class AuditEventAdmin(WorkspaceColumns, admin.ModelAdmin):
    """The audit log, read-only: written by the product itself, never edited."""

    paginator = EstimatedCountPaginator
    list_display = ["at", "actor_name", "action", "object_type", "object_id", "fields_display", "source", "ip", "ok"]
    list_filter = ["action", "source", "ok", "object_type"]
    search_fields = ["object_id", "actor_name", "object_repr"]
    date_hierarchy = "at"
    show_full_result_count = False

    @admin.display(description="fields")
    def fields_display(self, obj: AuditEvent) -> str:
        return ", ".join(obj.fields)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
