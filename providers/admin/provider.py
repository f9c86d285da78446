"""The providers admin: the provider form with its credentials, health and usage panels, and
the bulk actions."""

from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.debug import sensitive_post_parameters

from providers import selectors, services
from providers.catalog import (
    CAPABILITY_CHOICES,
    types_with_capability,
)
from providers.display import expiry_text
from providers.identity import selectors as identity_selectors
from providers.keys import UndecryptableSecret
from providers.models import Provider

from .common import (
    ServiceLoggedAdmin,
    WorkspaceColumns,
    WorkspaceOnAdd,
    WorkspaceSearch,
    confirm_bulk,
    managed_by_text,
)
from .paginator import EstimatedCountPaginator
from .provider_form import CREDENTIAL_FORM_FIELDS, ProviderAdminForm, provider_form_catalog

TEST_CONNECTION_MAX_BATCH = 20


USED_BY_SHOWN = 20  # projects listed on a provider's page


class CapabilityFilter(admin.SimpleListFilter):
    title = "capability"
    parameter_name = "capability"

    def lookups(self, request, model_admin):
        return CAPABILITY_CHOICES

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(type__in=types_with_capability(value)) if value else queryset


class CredentialExpiryFilter(admin.SimpleListFilter):
    title = "credential expiry"
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return [("expired", "Expired"), ("7", "Within 7 days"), ("30", "Within 30 days"), ("none", "No expiry set")]

    def queryset(self, request, queryset):
        value, now = self.value(), timezone.now()
        if value == "expired":
            return queryset.filter(credential__expires_at__lte=now)
        if value in ("7", "30"):
            return queryset.filter(
                credential__expires_at__gt=now, credential__expires_at__lte=now + timedelta(days=int(value))
            )
        if value == "none":
            return queryset.filter(credential__expires_at__isnull=True)
        return queryset


class CredentialTypeFilter(admin.ChoicesFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "credential type"


@admin.register(Provider)
class ProviderAdmin(WorkspaceColumns, WorkspaceOnAdd, WorkspaceSearch, ServiceLoggedAdmin):
    search_model = Provider
    paginator = EstimatedCountPaginator
    form = ProviderAdminForm
    list_display = [
        "provider_id",
        "label",
        "type",
        "capability_display",
        "enabled",
        "credential_type",
        "linked_projects",
        "last_test",
    ]
    list_filter = [
        "type",
        CapabilityFilter,
        "enabled",
        ("credential__type", CredentialTypeFilter),
        CredentialExpiryFilter,
    ]
    search_fields = ["provider_id", "label"]
    show_full_result_count = False
    list_per_page = 50
    actions = ["enable_selected", "disable_selected", "test_connection"]
    readonly_fields = [
        "credential_status",
        "credential_history",
        "used_by",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "last_test_result",
        "credential_expiry",
        "certificate_expiry",
        "managed_by_file",
    ]

    def get_fieldsets(self, request, obj=None):
        credentials = ["credential_type", *CREDENTIAL_FORM_FIELDS.values(), "credential_expires_at"]
        if obj is not None:
            credentials = ["credential_status", "credential_history", *credentials]
        fieldsets = [
            *self.workspace_fieldsets(request, obj),
            ("Provider", {"fields": ["provider_id", "label", "description", "type", "enabled"]}),
            (
                "URLs",
                {
                    "fields": ["base_url", "api_base_url"],
                    "description": "Changing a URL requires entering the credentials again.",
                },
            ),
            ("Credentials", {"fields": credentials}),
        ]
        if obj is not None:
            fieldsets += [
                ("Health", {"fields": ["last_test_result", "credential_expiry", "certificate_expiry"]}),
                ("Where it is used", {"fields": ["used_by"]}),
                ("History", {"fields": ["created_at", "created_by", "updated_at", "updated_by", "managed_by_file"]}),
            ]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["provider_id", *self.readonly_fields]

    @admin.display(description="managed by")
    def managed_by_file(self, obj: Provider) -> str:
        return managed_by_text(obj.managed_by)

    def get_queryset(self, request) -> QuerySet[Provider]:
        return selectors.provider_list()

    class Media:
        js = ["providers/provider_admin.js"]

    @method_decorator(sensitive_post_parameters())
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["provider_form_catalog"] = provider_form_catalog(
            creating=obj is None, current_type=obj.type if obj is not None else ""
        )
        if obj is not None:
            context["rollback_version_ids"] = list(
                selectors.credential_versions(provider=obj).values_list("pk", flat=True)[:10]
            )
            # The read-only panels (where it is used, health) show what this viewer may see.
            obj.viewer = request.user
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/test-connection/",
                self.admin_site.admin_view(self.test_connection_view),
                name="providers_provider_test_connection",
            ),
            path(
                "<path:object_id>/credentials/rollback/<int:version_id>/",
                self.admin_site.admin_view(self.rollback_view),
                name="providers_provider_rollback",
            ),
            *super().get_urls(),
        ]

    def test_connection_view(self, request, object_id: str):
        """POST-only button of the provider's page: test the connection now and record the result."""
        provider = self.get_object(request, object_id)
        if provider is None or request.method != "POST" or not self.has_change_permission(request, provider):
            raise PermissionDenied
        self._test_one(request, provider)
        return HttpResponseRedirect(reverse("admin:providers_provider_change", args=[provider.pk]))

    def _test_one(self, request, provider: Provider) -> None:
        try:
            result = services.provider_test_connection(provider=provider, actor=request.user)
        except UndecryptableSecret as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        level = messages.SUCCESS if result.ok else messages.WARNING
        self.message_user(request, f"{provider}: {result.message}", level)

    def rollback_view(self, request, object_id: str, version_id: int):
        """POST-only: restore a replaced version of the credentials (the API's rollback)."""
        provider = self.get_object(request, object_id)
        if provider is None or request.method != "POST" or not self.has_change_permission(request, provider):
            raise PermissionDenied
        try:
            services.credential_rollback(provider=provider, version_id=version_id, actor=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        except UndecryptableSecret as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, "Credentials restored; the replaced ones can be restored in turn.")
        return HttpResponseRedirect(reverse("admin:providers_provider_change", args=[provider.pk]))

    @admin.display(description="capability")
    def capability_display(self, obj: Provider) -> str:
        return obj.capability_label

    @admin.display(description="credential type", ordering="credential__type")
    def credential_type(self, obj: Provider) -> str:
        credential = getattr(obj, "credential", None)
        return credential.get_type_display() if credential else "—"

    @admin.display(description="linked projects", ordering="linked_projects")
    def linked_projects(self, obj: Provider) -> int:
        return getattr(obj, "linked_projects", 0)

    @admin.display(description="projects")
    def used_by(self, obj: Provider) -> str:
        """The projects using it as their git provider, linked, and a link to all of them."""
        total = getattr(obj, "linked_projects", 0)
        if not total:
            return "Not used by any project."
        viewer = getattr(obj, "viewer", None)
        shown = selectors.provider_projects(provider=obj, user=viewer, limit=USED_BY_SHOWN) if viewer else []
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a> · {}</li>',
            (
                (reverse("admin:providers_project_change", args=[project.pk]), project.project_id, project.name)
                for project in shown
            ),
        )
        everything = reverse("admin:providers_project_changelist") + f"?provider__exact={obj.pk}"
        return format_html(
            "<p>Used by {} project(s) as their git provider; deleting it is refused while they do.</p>"
            '<ul>{}</ul><a href="{}">{}</a>',
            total,
            items,
            everything,
            f"All {total} projects" if total > USED_BY_SHOWN else "Show them in the projects list",
        )

    @admin.display(description="credential expiry")
    def credential_expiry(self, obj: Provider) -> str:
        credential = getattr(obj, "credential", None)
        if credential is None:
            return "no credentials stored"
        return expiry_text(credential.expires_at) if credential.expires_at else "no expiry set"

    @admin.display(description="certificate expiry")
    def certificate_expiry(self, obj: Provider) -> str:
        identity = identity_selectors.provider_certificate(provider=obj)
        if identity is None:
            return "— (no identity configuration)"
        viewer = getattr(obj, "viewer", None)
        if viewer is None or not viewer.has_perm("providers.view_identityprovider"):
            return expiry_text(identity["certificate_expires_at"]) if identity["certificate_expires_at"] else "—"
        link = reverse("admin:providers_identityprovider_change", args=[identity["pk"]])
        if not identity["certificate_expires_at"]:
            return format_html('no signing certificate · <a href="{}">identity configuration</a>', link)
        return format_html(
            'signing certificate {} · <a href="{}">identity configuration</a>',
            expiry_text(identity["certificate_expires_at"]),
            link,
        )

    @admin.display(description="rotation history")
    def credential_history(self, obj: Provider) -> str:
        """Replaced credentials (metadata only), each with a restore button while restorable."""
        versions = list(selectors.credential_versions(provider=obj)[:10])
        if not versions:
            return "—"
        rows = []
        now = timezone.now()
        for version in versions:
            deadline = services.credential_rollback_deadline(version)
            restore = (
                format_html('<button type="submit" form="rollback-{}" class="button">Restore</button>', version.pk)
                if deadline > now
                else ""
            )
            rows.append(
                format_html(
                    "<li>{} · <code>{}</code> · replaced {} by {} {}</li>",
                    version.get_type_display(),
                    version.fingerprint,
                    timezone.localtime(version.replaced_at).strftime("%Y-%m-%d %H:%M"),
                    version.replaced_by or "—",
                    restore,
                )
            )
        return format_html("<ul>{}</ul>", mark_safe("".join(rows)))  # each row was built by format_html

    @admin.display(description="stored credentials")
    def credential_status(self, obj: Provider) -> str:
        credential = getattr(obj, "credential", None)
        if credential is None:
            return "not set"
        updated = timezone.localtime(credential.updated_at).strftime("%Y-%m-%d %H:%M %Z")
        return format_html(
            "{} · set · updated at {} · <code>{}</code>", credential.get_type_display(), updated, credential.fingerprint
        )

    def save_model(self, request, obj, form, change):
        credentials = form.credential_input()
        if change:
            data = {
                name: form.cleaned_data[name] for name in form.changed_data if name in services.PROVIDER_EDITABLE_FIELDS
            }
            services.provider_update(provider=obj, actor=request.user, data=data, credentials=credentials)
        else:
            fields = {name: form.cleaned_data[name] for name in ProviderAdminForm.Meta.fields}
            created = services.provider_create(actor=request.user, credentials=credentials, **fields)
            obj.pk = created.pk
            obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        return None

    def delete_through_service(self, obj, actor) -> None:
        services.provider_delete(provider=obj, actor=actor)

    def _set_enabled(self, request, queryset, enabled: bool):
        state = "enabled" if enabled else "disabled"
        to_change = queryset.exclude(enabled=enabled)
        changing = to_change.count()
        page = confirm_bulk(
            self,
            request,
            queryset,
            action="enable_selected" if enabled else "disable_selected",
            title=f"{'Enable' if enabled else 'Disable'} providers",
            summary=f"{changing} of the selected providers will be {state}"
            + ("; the others already are and stay as they are." if changing < queryset.count() else ".")
            + " Each change is recorded in the audit log.",
            consequence=""
            if enabled
            else "Disabled providers stay registered with their credentials and projects keep their link, but "
            "they are not offered to projects, and identity providers leave the public login list.",
            button=f"Yes, {'enable' if enabled else 'disable'} {changing}",
        )
        if page is not None:
            return page
        count = 0
        for provider in to_change:
            services.provider_update(provider=provider, actor=request.user, data={"enabled": enabled})
            count += 1
        self.message_user(request, f"{count} provider(s) {state}.", messages.SUCCESS)
        return None

    @admin.action(description="Enable selected providers", permissions=["change"])
    def enable_selected(self, request, queryset):
        return self._set_enabled(request, queryset, True)

    @admin.action(description="Disable selected providers", permissions=["change"])
    def disable_selected(self, request, queryset):
        return self._set_enabled(request, queryset, False)

    @admin.action(description="Test connection of selected providers", permissions=["change"])
    def test_connection(self, request, queryset):
        total = queryset.count()
        # Each test may wait for a slow provider; a bounded batch keeps the request within the
        # server's worker timeout.
        page = confirm_bulk(
            self,
            request,
            queryset,
            action="test_connection",
            title="Test provider connections",
            summary=f"The registry will call the API of each selected provider ({total}) with its stored "
            "credentials, one after the other, and record each result on the provider's page. Nothing is changed "
            "at the providers.",
            button=f"Yes, test {total}",
            refusal=f"Select at most {TEST_CONNECTION_MAX_BATCH} providers to test at once."
            if total > TEST_CONNECTION_MAX_BATCH
            else "",
        )
        if page is not None:
            return page
        for provider in queryset:
            self._test_one(request, provider)
        return None

    @admin.display(description="last test", ordering="last_tested_at")
    def last_test(self, obj: Provider) -> str:
        if obj.last_tested_at is None:
            return "—"
        mark = "✓" if obj.last_test_ok else "✗"
        when = timezone.localtime(obj.last_tested_at).strftime("%Y-%m-%d %H:%M")
        return format_html('<span title="{}">{} {}</span>', obj.last_test_message, mark, when)

    @admin.display(description="last connection test")
    def last_test_result(self, obj: Provider) -> str:
        if obj.last_tested_at is None:
            return "never tested"
        outcome = "passed" if obj.last_test_ok else "failed"
        when = timezone.localtime(obj.last_tested_at).strftime("%Y-%m-%d %H:%M %Z")
        return f"{outcome} at {when} · {obj.last_test_message}"
