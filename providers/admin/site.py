import re

from django.contrib import admin, messages
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.db.models import QuerySet
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from accounts import scoping
from accounts import selectors as workspace_selectors
from providers import selectors
from providers.models import ID_CHARACTERS, Project

from .dashboard import admin_dashboard
from .paginator import LookaheadPaginator

ID_PREFIX = re.compile(ID_CHARACTERS)


class PrefixFirst:
    """The provider autocomplete's matches: the providers whose id starts with the term first (in
    byte order of the id), then the other matches (by id). A page is read from the prefix range of
    an index, flat however many providers there are, and the substring search runs only for what
    the prefix matches leave of the page. Through the trigram index alone, a term such as
    "git-00001", whose trigrams are in nearly every id, cost 6 ms at 100k providers against 1 ms
    at 1k (docs/benchmarks.md); a term typed as the start of an id is the common case."""

    def __init__(self, choices: QuerySet, searched: QuerySet, term: str):
        self.prefixed = selectors.providers_with_id_prefix(choices, term)
        self.others = selectors.providers_without_id_prefix(searched, term)

    def count(self) -> int:
        """Only for `page=last`: the autocomplete's own pages never count."""
        return self.prefixed.count() + self.others.count()

    def __getitem__(self, window: slice) -> list:
        start, stop = window.start or 0, window.stop
        head = list(self.prefixed[start:stop])
        if len(head) == stop - start:
            return head
        # The prefix matches end in or before this window: the rest continues with the others.
        prefixed = start + len(head) if head or start == 0 else self.prefixed.count()
        skip = max(start - prefixed, 0)
        return head + list(self.others[skip : skip + (stop - start - len(head))])


class ProviderAutocompleteJsonView(AutocompleteJsonView):
    """Autocomplete for the project form without opening the whole related admin: project owners
    pick a provider with `select_provider` (id and label only, never credentials), and operators
    pick project owners with `manage_all_projects` (user names only)."""

    def get_paginator(self, *args, **kwargs):
        return LookaheadPaginator(*args, **kwargs)

    def get_queryset(self):
        """The lean provider queryset for the provider field; the default for the others."""
        if self.source_field is Project._meta.get_field("owners"):
            return workspace_selectors.users_of(super().get_queryset(), scoping.current_single_workspace())
        if self.source_field is not Project._meta.get_field("provider"):
            return super().get_queryset()
        choices = selectors.provider_choices().complex_filter(self.source_field.get_limit_choices_to())
        searched, distinct = self.model_admin.get_search_results(self.request, choices, self.term)
        searched = searched.distinct() if distinct else searched
        # Only a term made of id characters can start an id (no spaces, no other characters).
        return PrefixFirst(choices, searched, self.term) if ID_PREFIX.fullmatch(self.term) else searched

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
        extra_context = {**(extra_context or {}), "dashboard": admin_dashboard(user=request.user)}
        return super().index(request, extra_context)

    def each_context(self, request):
        """Every admin page's header shows the workspace switcher (when there is a choice), set to
        the session's choice (an add in “All workspaces” runs within the workspace it names)."""
        context = super().each_context(request)
        every = workspace_selectors.admin_shows_every_workspace(request)
        current = scoping.ALL if every else scoping.active()[1]
        context["workspace_choices"] = workspace_selectors.admin_workspace_choices(user=request.user, current=current)
        return context

    def get_urls(self):
        switch = path("workspace/", self.admin_view(self.switch_workspace), name="switch_workspace")
        return [switch, *super().get_urls()]

    def switch_workspace(self, request):
        """The switcher's form: the workspace the admin shows and writes into from now on, kept in
        the session (`accounts.selectors.admin_scope`); back to the page it was sent from."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        value = request.POST.get("workspace", "")
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
            back = reverse("admin:index")
        if not workspace_selectors.admin_choice_allowed(user=request.user, value=value):
            messages.error(request, "That workspace is not one of yours.")
            return HttpResponseRedirect(back)
        request.session[workspace_selectors.ADMIN_WORKSPACE_KEY] = int(value) if value else ""
        return HttpResponseRedirect(back)

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


registry_site = RegistryAdminSite()


def get_registry_site() -> RegistryAdminSite:
    """What `admin.site` resolves to (`RegistryAdminConfig.default_site`): always the same instance.
    Resolving it imports this package, whose model admins register on `admin.site` while it is
    being resolved; a second instance would lose those registrations."""
    return registry_site
