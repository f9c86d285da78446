from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView

from . import selectors
from .admin_paginator import LookaheadPaginator
from .models import Project


class ProviderAutocompleteJsonView(AutocompleteJsonView):
    """Autocomplete for the project form without opening the whole related admin: project owners
    pick a provider with `select_provider` (id and label only, never credentials), and operators
    pick project owners with `manage_all_projects` (user names only)."""

    def get_paginator(self, *args, **kwargs):
        return LookaheadPaginator(*args, **kwargs)

    def get_queryset(self):
        """The lean provider queryset for the provider field; the default for the others."""
        if self.source_field is not Project._meta.get_field("provider"):
            return super().get_queryset()
        queryset = selectors.provider_choices().complex_filter(self.source_field.get_limit_choices_to())
        queryset, distinct = self.model_admin.get_search_results(self.request, queryset, self.term)
        return queryset.distinct() if distinct else queryset

    def has_perm(self, request, obj=None):
        field, user = self.source_field, request.user
        if field is Project._meta.get_field("provider") and user.has_perm("providers.select_provider"):
            return True
        if field is Project._meta.get_field("owners") and user.has_perm("providers.manage_all_projects"):
            return True
        return super().has_perm(request, obj)


class RegistryAdminSite(admin.AdminSite):
    site_header = "Provider registry"
    site_title = "Provider registry"
    index_title = "Providers, projects and access"
    site_url = "/api/docs/"

    def index(self, request, extra_context=None):
        """The home page, with the operators' dashboard above the list of sections."""
        extra_context = {**(extra_context or {}), "dashboard": selectors.admin_dashboard(user=request.user)}
        return super().index(request, extra_context)

    def autocomplete_view(self, request):
        return ProviderAutocompleteJsonView.as_view(admin_site=self)(request)

    def get_app_list(self, request, app_label=None):
        """Show projects in a "Projects" section of their own, as people look for them there."""
        app_list = super().get_app_list(request, app_label)
        result = []
        for app in app_list:
            if app["app_label"] != "providers":
                result.append(app)
                continue
            projects = [m for m in app["models"] if m["object_name"] == "Project"]
            others = [m for m in app["models"] if m["object_name"] != "Project"]
            if others:
                result.append({**app, "models": others})
            if projects:
                result.append({**app, "name": "Projects", "models": projects})
        return result
