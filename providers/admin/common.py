"""What the model admins share: the bulk-action confirmation page, secret inputs that never
render a value, bounded JSON inputs, the workspace columns and add-form choice, and history
written by the services instead of the admin."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_permission_codename
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms.fields import InvalidJSONInput
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from accounts import scoping
from accounts import selectors as workspace_selectors
from accounts.errors import ConflictError
from providers import selectors
from providers.validation import MAX_JSON_DEPTH, json_depth

CONFIRM_SHOWN = 20  # objects listed on a bulk action's confirmation page


def confirm_bulk(
    modeladmin: admin.ModelAdmin,
    request,
    queryset: QuerySet,
    *,
    action: str,
    title: str,
    summary: str,
    consequence: str = "",
    button: str,
    refusal: str = "",
) -> TemplateResponse | None:
    """The page where an operator confirms a bulk action before it runs; None once confirmed.
    The selection is posted back as it came (ids, or “all matching” with the list's filters in the
    URL). For “all matching”, the number shown comes back too: if the match has grown or shrunk
    meanwhile, the page is shown again with the new figures instead of acting on what was not shown.
    A refusal shows instead of the button."""
    total = queryset.count()
    confirmed = request.POST.get("confirmed") == "yes"
    select_across = request.POST.get("select_across") == "1"
    changed = confirmed and select_across and request.POST.get("confirmed_total") != str(total)
    if confirmed and not changed and not refusal:
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": title,
        "summary": summary,
        "consequence": consequence,
        "refusal": refusal,
        "button": button,
        "action": action,
        "total": total,
        "objects": [str(obj) for obj in queryset[:CONFIRM_SHOWN]],
        "more": max(total - CONFIRM_SHOWN, 0),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": select_across,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "changed": changed,
        "back_url": request.get_full_path(),
    }
    return TemplateResponse(request, "admin/providers/confirm_action.html", context)


class SecretTextarea(forms.Textarea):
    """A multi-line secret input (PEM private keys) that, like PasswordInput, never renders a value."""

    def format_value(self, value):
        return None


def secret_input(help_text: str) -> forms.CharField:
    return forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=f"{help_text} Never shown again after saving.",
    )


def plain_input(help_text: str) -> forms.CharField:
    return forms.CharField(required=False, widget=forms.TextInput(attrs={"autocomplete": "off"}), help_text=help_text)


class BoundedJSONFormField(forms.JSONField):
    """JSON no deeper than MAX_JSON_DEPTH: deeper documents would overflow the decoder (a 500)."""

    def to_python(self, value):
        too_deep = ValidationError(f"Nested at most {MAX_JSON_DEPTH} levels deep.", code="invalid")
        try:
            parsed = super().to_python(value)
        except RecursionError:
            raise too_deep from None
        if json_depth(parsed) > MAX_JSON_DEPTH:
            raise too_deep
        return parsed

    def bound_data(self, data, initial):
        """Re-rendering the refused input shows it as typed (Django would decode it again)."""
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return InvalidJSONInput(data)


JSON_FIELDS: dict[type[models.Field], dict[str, Any]] = {models.JSONField: {"form_class": BoundedJSONFormField}}


def managed_by_text(marker: str) -> str:
    """What the change form says of an object a configuration file manages."""
    if not marker:
        return "By hand (no configuration file)."
    return f"The configuration file “{marker}”: its next apply undoes changes made here (docs/config.md)."


class WorkspaceColumns:
    """For the changelists of workspace-owned rows: when the admin shows every workspace (the
    switcher's “All workspaces”), a workspace column and filter; one workspace needs neither."""

    workspace_lookup = "workspace"

    def _every_workspace(self) -> bool:
        enabled, value = scoping.active()
        return enabled and value is scoping.ALL

    def get_queryset(self, request):
        queryset = super().get_queryset(request)  # type: ignore[misc]
        return queryset.select_related(self.workspace_lookup) if self._every_workspace() else queryset

    @admin.display(description="Workspace")
    def workspace_column(self, obj) -> str:
        for name in self.workspace_lookup.split("__"):
            obj = getattr(obj, name)
        return obj.display_name or obj.name

    def get_list_display(self, request):
        shown = list(super().get_list_display(request))  # type: ignore[misc]
        return [*shown, "workspace_column"] if self._every_workspace() else shown

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))  # type: ignore[misc]
        return [*filters, self.workspace_lookup] if self._every_workspace() else filters


class WorkspaceSearch:
    """For the changelists (and the provider autocomplete) whose `search_fields` are the columns of a
    workspace search index (`selectors.SEARCH_COLUMNS[search_model]`, reached through
    `search_through`): within one workspace, the search reads that workspace's index entries only
    (`selectors.workspace_search`)."""

    search_model: type[models.Model] = models.Model
    search_through = ""

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)  # type: ignore[misc]
        if search_term:
            queryset = selectors.workspace_search(
                queryset, search_term, model=self.search_model, through=self.search_through
            )
        return queryset, may_have_duplicates


class WorkspaceOnAdd:
    """For the add forms of workspace-owned rows. When the admin shows every workspace (the
    switcher's “All workspaces”) a new row has no workspace to go to: the form asks for one, a
    required field offering the workspaces where the user may add such rows, and the whole
    request (the form's checks and the services' writes) acts within the chosen one. When one
    workspace is shown, the row is that workspace's, without asking. Admins put
    `workspace_fieldsets` first in their fieldsets."""

    def _asks_workspace(self, request, obj) -> bool:
        return obj is None and workspace_selectors.admin_shows_every_workspace(request)

    def _workspace_choices(self, request):
        opts = self.model._meta  # type: ignore[attr-defined]
        perm = f"{opts.app_label}.{get_permission_codename('add', opts)}"
        return workspace_selectors.workspaces_granting(user=request.user, perm=perm).order_by("name")

    def workspace_fieldsets(self, request, obj) -> list:
        if not self._asks_workspace(request, obj):
            return []
        return [("Workspace", {"fields": ["workspace"]})]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if self._asks_workspace(request, obj):
            field = forms.ModelChoiceField(
                queryset=self._workspace_choices(request),
                label="Workspace",
                help_text="The workspace it belongs to: “All workspaces” is shown, so choose one.",
            )
            base: type[forms.BaseForm] = kwargs.get("form") or self.form  # type: ignore[attr-defined]
            kwargs["form"] = type(base.__name__, (base,), {"workspace": field})
            # A form field, not the model's: the row is the chosen workspace's because the request
            # acts within it (`changeform_view`), as a row added showing one workspace is that one's.
            fieldsets = self.get_fieldsets(request, obj)  # type: ignore[attr-defined]
            kwargs["fields"] = [name for name in flatten_fieldsets(fieldsets) if name != "workspace"]
        return super().get_form(request, obj, change, **kwargs)  # type: ignore[misc]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        chosen = self._chosen_workspace(request) if object_id is None else None
        if chosen is None:
            return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        with scoping.within(chosen):
            return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]

    def _chosen_workspace(self, request) -> int | None:
        """The workspace an add posted in “All workspaces” names, when it is one of the choices
        (otherwise the form refuses it, naming the field, and nothing is written)."""
        value = request.POST.get("workspace", "") if request.method == "POST" else ""
        if not value.isdigit() or not self._asks_workspace(request, None):
            return None
        return self._workspace_choices(request).filter(pk=int(value)).values_list("pk", flat=True).first()


class ServiceLoggedAdmin(admin.ModelAdmin):
    """Writes go through the services, which write the history entries (for API and admin alike),
    so the admin's own are off. Deleting, one or in bulk, is `delete_through_service`. A write that
    a concurrent one beat to an id (the unique constraint's 409) goes back to the page with the
    reason instead of failing."""

    def delete_through_service(self, obj, actor) -> None:
        raise NotImplementedError

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ConflictError as exc:  # another writer took the id since the form validated
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.get_full_path())

    def delete_model(self, request, obj):
        self.delete_through_service(obj, request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_through_service(obj, request.user)

    def log_addition(self, request, obj, message):
        return None

    def log_change(self, request, obj, message):
        return None

    def log_deletions(self, request, queryset):
        return None
