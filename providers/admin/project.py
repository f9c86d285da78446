"""The projects admin: operators change everything, project owners their own projects' description
and repository."""

from django.contrib import admin
from django.db.models import QuerySet

from providers import selectors, services
from providers.models import Project

from .common import ServiceLoggedAdmin, WorkspaceColumns, WorkspaceOnAdd, WorkspaceSearch, managed_by_text
from .paginator import EstimatedCountPaginator


@admin.register(Project)
class ProjectAdmin(WorkspaceColumns, WorkspaceOnAdd, WorkspaceSearch, ServiceLoggedAdmin):
    search_model = Project
    paginator = EstimatedCountPaginator
    list_display = ["project_id", "name", "provider_link", "repository_path"]
    list_filter = ["provider__type"]
    search_fields = ["project_id", "name"]
    autocomplete_fields = ["provider", "owners"]
    show_full_result_count = False
    list_per_page = 50
    fieldsets = [
        ("Project", {"fields": ["project_id", "name", "description", "owners"]}),
        (
            "Repository",
            {
                "fields": ["provider", "repository_path"],
                "description": "The git provider hosting the repository (its providerId) and the path there.",
            },
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [*self.workspace_fieldsets(request, obj), *super().get_fieldsets(request, obj)]
        if obj is not None:
            fieldsets.append(("Configuration", {"fields": ["managed_by_file"]}))
        return fieldsets

    def get_queryset(self, request) -> QuerySet[Project]:
        return selectors.project_list(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        editable = services.project_editable_fields(user=request.user, project=obj)
        readonly = [name for name in ("project_id", *services.PROJECT_FIELDS) if name not in editable]
        return [*readonly, "managed_by_file"]

    @admin.display(description="managed by")
    def managed_by_file(self, obj: Project) -> str:
        return managed_by_text(obj.managed_by)

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or bool(services.project_editable_fields(user=request.user, project=obj))

    @admin.display(description="provider", ordering="provider__provider_id")
    def provider_link(self, obj: Project) -> str:
        return obj.provider.provider_id if obj.provider else "—"

    def save_model(self, request, obj, form, change):
        if change:
            data = {name: form.cleaned_data[name] for name in form.changed_data if name in services.PROJECT_FIELDS}
            services.project_update(project=obj, actor=request.user, data=data)
        else:
            fields = {name: form.cleaned_data.get(name) for name in ("project_id", *services.PROJECT_FIELDS)}
            fields["owners"] = list(fields["owners"] or [])
            created = services.project_create(actor=request.user, **fields)
            obj.pk = created.pk
            obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        return None

    def delete_through_service(self, obj, actor) -> None:
        services.project_delete(project=obj, actor=actor)
