import copy
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.forms.fields import InvalidJSONInput
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince, timeuntil
from django.views.decorators.debug import sensitive_post_parameters

from . import identity_services, selectors, services
from .admin_paginator import EstimatedCountPaginator
from .catalog import (
    CAPABILITIES,
    CAPABILITY_CHOICES,
    CREDENTIAL_TYPE_CHOICES,
    CREDENTIAL_TYPES,
    OAUTH2,
    OIDC,
    PROVIDER_TYPES,
    SAML,
    types_with_capability,
)
from .keys import UndecryptableSecret
from .mappers import MAPPER_TYPES, mapper_config_validate
from .models import AuditEvent, IdentityProvider, IdentityProviderMapper, Project, Provider
from .validation import MAX_JSON_DEPTH, json_depth

TEST_CONNECTION_MAX_BATCH = 20
USED_BY_SHOWN = 20  # projects listed on a provider's page
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


def expiry_text(when) -> str:
    """“expires 2026-12-14 (in 12 days)”, flagged when past or within selectors.EXPIRY_WARNING_DAYS."""
    now = timezone.now()
    day = timezone.localtime(when).strftime("%Y-%m-%d")
    if when <= now:
        return format_html('<strong class="expiry-expired">✗ expired {} ({} ago)</strong>', day, timesince(when, now))
    if when <= now + timedelta(days=selectors.EXPIRY_WARNING_DAYS):
        return format_html('<strong class="expiry-soon">⚠ expires {} (in {})</strong>', day, timeuntil(when, now))
    return format_html("expires {} (in {})", day, timeuntil(when, now))


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


# Credential content field (as the API names it) → the admin form's input.
CREDENTIAL_FORM_FIELDS = {
    "accessToken": "access_token",
    "userName": "user_name",
    "password": "password",
    "tokenUrl": "token_url",
    "clientId": "client_id",
    "clientSecret": "client_secret",
    "scope": "scope",
    "appId": "app_id",
    "privateKey": "private_key",
    "installationId": "installation_id",
}


def provider_form_catalog(*, creating: bool, current_type: str = "") -> dict[str, Any]:
    """What the provider form's script needs to show only the inputs of the chosen provider type and
    credential type (providers/static/providers/provider_admin.js), read from the catalogue."""
    return {
        "creating": creating,
        "currentType": current_type,
        "types": {
            t.key: {
                "label": t.label,
                "capability": CAPABILITIES[t.capability],
                "credentialTypes": list(t.credential_types),
                "base_url": t.base_url,
                "api_base_url": t.api_base_url,
            }
            for t in PROVIDER_TYPES.values()
        },
        "credentialTypes": {
            c.key: {"label": c.label, "help": c.help, "inputs": [CREDENTIAL_FORM_FIELDS[name] for name in c.all_fields]}
            for c in CREDENTIAL_TYPES.values()
        },
    }


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


class ProviderAdminForm(forms.ModelForm):
    """The provider form plus its credentials. Secret inputs never render a value; left blank
    on edit, the stored credentials stay as they are."""

    credential_type = forms.ChoiceField(
        choices=[("", "—"), *CREDENTIAL_TYPE_CHOICES],
        required=False,
        help_text="How the registry signs in to the provider, e.g. “Access token” for a GitHub token. On edit, "
        "choose a type only to replace the stored credentials (the replaced ones stay restorable for a while).",
    )
    access_token = secret_input("Access token, e.g. a GitHub fine-grained token “github_pat_…”.")
    user_name = plain_input("Service account's user name, e.g. “svc-ci”.")
    password = secret_input("Service account's password, or an app password, e.g. a Bitbucket app password.")
    token_url = plain_input(
        "OAuth 2.0 token endpoint, e.g. https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token."
    )
    client_id = plain_input("OAuth 2.0 client id, e.g. “6731de76-14a6-49ae-97bc-6eba6914391e”.")
    client_secret = secret_input("OAuth 2.0 client secret, e.g. the value of an Entra ID app's client secret.")
    scope = plain_input("Optional OAuth 2.0 scope, e.g. “499b84ac-1321-427f-aa17-267ca6975798/.default”.")
    app_id = plain_input("GitHub App id (a number), e.g. “123456”.")
    private_key = forms.CharField(
        required=False,
        strip=False,
        widget=SecretTextarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text="GitHub App private key (PEM), e.g. the downloaded .pem file's “-----BEGIN RSA PRIVATE KEY-----…”. "
        "Never shown again after saving.",
    )
    installation_id = plain_input("GitHub App installation id (a number), e.g. “7890123”.")
    credential_expires_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="When the provider stops accepting these credentials, e.g. the token's expiry date (optional; "
        "used by expiry reports and the dashboard).",
        label="Credentials expire at",
    )

    class Meta:
        model = Provider
        fields = ["provider_id", "label", "description", "type", "enabled", "base_url", "api_base_url"]

    def credential_input(self) -> services.CredentialInput | None:
        """The credentials typed into the form, or None when every credential input is blank."""
        ctype = self.cleaned_data.get("credential_type")
        values = {api: self.cleaned_data.get(form_name) for api, form_name in CREDENTIAL_FORM_FIELDS.items()}
        if not ctype and not any(values.values()):
            return None
        if not ctype:
            raise ValidationError({"credential_type": "Choose the credential type."})
        fields = CREDENTIAL_TYPES[ctype].all_fields
        return services.CredentialInput(
            type=ctype,
            content={name: values[name] for name in fields if values[name]},
            expires_at=self.cleaned_data.get("credential_expires_at"),
        )

    def clean(self):
        cleaned = super().clean() or {}
        creating = self.instance.pk is None
        try:
            credentials = self.credential_input()
            provider = copy.copy(self.instance)
            data = {name: cleaned[name] for name in services.PROVIDER_EDITABLE_FIELDS if name in cleaned}
            changed = services.provider_apply_changes(provider=provider, data=data)
            services.provider_validate(provider=provider, changed=changed, credentials=credentials, creating=creating)
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                field = CREDENTIAL_FORM_FIELDS.get(key.rsplit(".", 1)[-1], "credential_type")
                self.add_error(field if field in self.fields else None, errors)
        return cleaned


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


class ServiceLoggedAdmin(admin.ModelAdmin):
    """The services write the history entries (for API and admin alike), so the admin's own are off."""

    def log_addition(self, request, obj, message):
        return None

    def log_change(self, request, obj, message):
        return None

    def log_deletions(self, request, queryset):
        return None


@admin.register(Provider)
class ProviderAdmin(ServiceLoggedAdmin):
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
    ]

    def get_fieldsets(self, request, obj=None):
        credentials = ["credential_type", *CREDENTIAL_FORM_FIELDS.values(), "credential_expires_at"]
        if obj is not None:
            credentials = ["credential_status", "credential_history", *credentials]
        fieldsets = [
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
                ("History", {"fields": ["created_at", "created_by", "updated_at", "updated_by"]}),
            ]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["provider_id", *self.readonly_fields]

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
        identity = selectors.provider_certificate(provider=obj)
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

    def delete_model(self, request, obj):
        services.provider_delete(provider=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for provider in queryset:
            services.provider_delete(provider=provider, actor=request.user)

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


@admin.register(Project)
class ProjectAdmin(ServiceLoggedAdmin):
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

    def get_queryset(self, request) -> QuerySet[Project]:
        return selectors.project_list(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        editable = services.project_editable_fields(user=request.user, project=obj)
        readonly = [name for name in ("project_id", *services.PROJECT_FIELDS) if name not in editable]
        return readonly

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

    def delete_model(self, request, obj):
        services.project_delete(project=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for project in queryset:
            services.project_delete(project=project, actor=request.user)


class _DryRunError(Exception):
    """Raised inside a transaction to roll back a validation-only run of a service."""


IDENTITY_FORM_NAMES = {"provider_id": "alias", "label": "display_name", "domains": "domain_names"}


class IdentityProviderAdminForm(forms.ModelForm):
    """The identity provider and its provider row in one form. The client secret input never shows
    a value; left blank, the stored secret stays. Validation runs the identity service itself in a
    rolled-back transaction, so the admin enforces exactly the API's rules."""

    alias = forms.SlugField(
        max_length=64, help_text="Unique, URL-safe id used in the API, e.g. “okta-corp”. Cannot be changed later."
    )
    display_name = forms.CharField(max_length=200, help_text="What the login page shows, e.g. “Sign in with Okta”.")
    enabled = forms.BooleanField(
        required=False, initial=True, help_text="Disabled providers are left out of the public login list."
    )
    client_secret = forms.CharField(
        required=False,
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="The OAuth 2.0 client secret issued with the client id, e.g. the value Okta shows once. "
        "Never shown again after saving; leave blank to keep the stored secret.",
    )
    domain_names = forms.CharField(
        label="Domains",
        required=False,
        max_length=5000,
        help_text="Comma-separated, e.g. “acme.com, eu.acme.com”. With domains the provider stays pending "
        "until their DNS TXT record is verified.",
    )

    class Meta:
        model = IdentityProvider
        fields = ["protocol", *identity_services.IDENTITY_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            provider = self.instance.provider
            for name in ("alias", "protocol"):
                if name in self.fields:
                    self.fields[name].disabled = True
            self.initial.update(
                alias=provider.provider_id,
                display_name=provider.label,
                enabled=provider.enabled,
                domain_names=", ".join(row.domain for row in self.instance.domains.all()),
            )

    def service_arguments(self) -> dict:
        cleaned = self.cleaned_data
        data = {name: cleaned[name] for name in identity_services.IDENTITY_FIELDS if name in cleaned}
        data["enabled"] = cleaned.get("enabled", False)
        domains = [part.strip() for part in (cleaned.get("domain_names") or "").split(",") if part.strip()]
        return {
            "alias": cleaned.get("alias"),
            "display_name": cleaned.get("display_name"),
            "protocol": cleaned.get("protocol") or self.instance.protocol,
            "data": data,
            "client_secret": cleaned.get("client_secret") or None,
            "domains": domains,
        }

    def run_service(self, actor):
        arguments = self.service_arguments()
        if self.instance.pk:
            data = {**arguments["data"], "label": arguments["display_name"], "domains": arguments["domains"]}
            if arguments["client_secret"]:
                data["client_secret"] = arguments["client_secret"]
            return identity_services.identity_provider_update(provider=self.instance.provider, actor=actor, data=data)
        return identity_services.identity_provider_create(actor=actor, **arguments)

    def clean(self):
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                self.run_service(actor=None)
                raise _DryRunError
        except _DryRunError:
            pass
        except services.ConflictError as exc:
            self.add_error("alias", exc.message)
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                name = IDENTITY_FORM_NAMES.get(key, key)
                self.add_error(name if name in self.fields else None, errors)
        return cleaned


class MapperInlineForm(forms.ModelForm):
    mapper_type = forms.ChoiceField(choices=[(t.key, t.label) for t in MAPPER_TYPES.values()])

    class Meta:
        model = IdentityProviderMapper
        fields = ["name", "mapper_type", "sync_mode", "config"]

    def clean(self):
        cleaned = super().clean() or {}
        if self.errors or cleaned.get("DELETE"):
            return cleaned
        try:
            cleaned["config"] = mapper_config_validate(
                mapper_type=cleaned["mapper_type"],
                config=cleaned.get("config"),
                protocol=self.instance.identity.protocol,
            )
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                self.add_error("mapper_type" if key == "identity_provider_mapper" else "config", errors)
        return cleaned


class MapperInline(admin.TabularInline):
    model = IdentityProviderMapper
    form = MapperInlineForm
    formfield_overrides = JSON_FIELDS
    extra = 0
    fields = ["name", "mapper_type", "sync_mode", "config"]
    verbose_name_plural = "mappers (config fields per type: see /api/identity-providers/mapper-types)"

    # Mappers are part of the identity provider's configuration: the same permissions as the API.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("providers.view_identityprovider")

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("providers.change_identityprovider")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("providers.change_identityprovider")

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("providers.change_identityprovider")


@admin.register(IdentityProvider)
class IdentityProviderAdmin(ServiceLoggedAdmin):
    form = IdentityProviderAdminForm
    formfield_overrides = JSON_FIELDS
    # The declared password field replaces the model field, so the stored secret is never loaded.
    exclude = ["client_secret"]
    change_form_template = "admin/providers/identityprovider/change_form.html"
    list_display = [
        "alias",
        "display_name",
        "protocol",
        "known_provider",
        "status",
        "is_enabled",
        "mapper_count",
        "certificate_expires_at",
    ]
    list_filter = ["protocol", "status", "provider__enabled", "known_provider"]
    search_fields = ["provider__provider_id", "provider__label"]
    show_full_result_count = False
    actions = ["verify_domains", "enable_selected", "disable_selected"]
    readonly_fields = [
        "status",
        "txt_record",
        "domain_status",
        "certificate_expires_at",
        "secret_status",
        "internal_id",
    ]

    class Media:
        js = ["providers/identity_admin.js"]

    def get_inlines(self, request, obj):
        return [MapperInline] if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        """Only the sections of the provider's protocol. The secret input is offered only to users who
        may change it: a read-only field would render the decrypted value."""
        protocol = obj.protocol if obj is not None else None
        may_edit = self.has_change_permission(request, obj) if obj is not None else True
        identity = ["alias", "display_name", "protocol", "known_provider", "enabled"]
        if obj is not None:
            identity += ["internal_id", "status"]
        oidc = ["client_id", "client_secret", *identity_services.OIDC_FIELDS[1:], "sync_mode"]
        if obj is not None:
            oidc.insert(2, "secret_status")
        if not may_edit:
            oidc.remove("client_secret")
        saml = list(identity_services.SAML_FIELDS)
        if obj is not None:
            saml.insert(5, "certificate_expires_at")
        sets = [("Identity provider", {"fields": identity})]
        if protocol in (None, OIDC, OAUTH2):
            sets.append(("OpenID Connect / OAuth 2.0", {"fields": oidc, "classes": ["protocol-oidc"]}))
        if protocol in (None, SAML):
            sets.append(("SAML 2.0", {"fields": saml, "classes": ["protocol-saml"]}))
        sets += [
            (
                "Broker options",
                {"fields": list(identity_services.BROKER_FIELDS)},
            ),
            (
                "Domains and lifecycle",
                {
                    "fields": [
                        "domain_names",
                        *(["txt_record", "domain_status"] if obj else []),
                        *identity_services.LIFECYCLE_FIELDS,
                    ]
                },
            ),
        ]
        return sets

    def get_queryset(self, request):
        return selectors.identity_admin_list()

    @admin.display(description="alias", ordering="provider__provider_id")
    def alias(self, obj: IdentityProvider) -> str:
        return obj.provider.provider_id

    @admin.display(description="display name", ordering="provider__label")
    def display_name(self, obj: IdentityProvider) -> str:
        return obj.provider.label

    @admin.display(description="enabled", boolean=True, ordering="provider__enabled")
    def is_enabled(self, obj: IdentityProvider) -> bool:
        return obj.provider.enabled

    @admin.display(description="enabled", boolean=True)
    def enabled(self, obj: IdentityProvider) -> bool:
        return obj.provider.enabled

    @admin.display(description="domains")
    def domain_names(self, obj: IdentityProvider) -> str:
        return ", ".join(row.domain for row in obj.domains.all())

    @admin.display(description="mappers", ordering="mapper_count")
    def mapper_count(self, obj: IdentityProvider) -> int:
        return getattr(obj, "mapper_count", 0)

    @admin.display(description="stored client secret")
    def secret_status(self, obj: IdentityProvider) -> str:
        if not obj.client_secret_updated_at:
            return "not set"
        return f"set · updated at {timezone.localtime(obj.client_secret_updated_at):%Y-%m-%d %H:%M %Z}"

    @admin.display(description="domain verification")
    def domain_status(self, obj: IdentityProvider) -> str:
        rows = [
            f"{row.domain}: {'verified ' + f'{row.verified_at:%Y-%m-%d}' if row.verified_at else 'not verified'}"
            for row in obj.domains.all()
        ]
        return "; ".join(rows) or "—"

    @method_decorator(sensitive_post_parameters())
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "lifecycle_buttons": [("verify", "Verify domains"), ("enable", "Enable"), ("disable", "Disable")],
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        provider = form.run_service(actor=request.user)
        saved = IdentityProvider.objects.defer("client_secret").get(provider=provider)
        obj.pk = saved.pk
        obj.provider = provider
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        """Mapper rows go through the identity services (validation and history)."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        provider = form.instance.provider
        for inline_form in formset.forms:
            if not inline_form.has_changed() or not inline_form.cleaned_data:
                continue
            mapper = inline_form.instance
            if inline_form.cleaned_data.get("DELETE"):
                if mapper.pk:
                    identity_services.mapper_delete(mapper=mapper, actor=request.user)
                continue
            values = identity_services.MapperInput(
                name=inline_form.cleaned_data["name"],
                mapper_type=inline_form.cleaned_data["mapper_type"],
                config=inline_form.cleaned_data["config"],
                sync_mode=inline_form.cleaned_data["sync_mode"],
            )
            if mapper.pk:
                identity_services.mapper_update(
                    mapper=IdentityProviderMapper.objects.get(pk=mapper.pk),
                    actor=request.user,
                    data={
                        "name": values.name,
                        "mapper_type": values.mapper_type,
                        "config": values.config,
                        "sync_mode": values.sync_mode,
                    },
                )
            else:
                identity_services.mapper_create(provider=provider, actor=request.user, mapper=values)

    def delete_model(self, request, obj):
        services.provider_delete(provider=obj.provider, actor=request.user)

    def delete_queryset(self, request, queryset):
        for identity in queryset:
            services.provider_delete(provider=identity.provider, actor=request.user)

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/lifecycle/<str:operation>/",
                self.admin_site.admin_view(self.lifecycle_view),
                name="providers_identityprovider_lifecycle",
            )
        ]
        return urls + super().get_urls()

    def lifecycle_view(self, request, object_id: str, operation: str):
        """POST-only buttons of the change page: verify domains, enable, disable."""
        obj = self.get_object(request, object_id)
        if obj is None or request.method != "POST" or not self.has_change_permission(request, obj):
            raise PermissionDenied
        queryset = IdentityProvider.objects.filter(pk=obj.pk)
        # The page's own buttons act on this one provider at once: no confirmation page.
        operations = {
            "verify": self._verify_domains,
            "enable": lambda request, queryset: self._set_enabled(request, queryset, True),
            "disable": lambda request, queryset: self._set_enabled(request, queryset, False),
        }
        if operation not in operations:
            raise PermissionDenied
        operations[operation](request, queryset)
        return HttpResponseRedirect(reverse("admin:providers_identityprovider_change", args=[obj.pk]))

    @admin.action(description="Verify domains (DNS TXT) of selected identity providers", permissions=["change"])
    def verify_domains(self, request, queryset):
        page = confirm_bulk(
            self,
            request,
            queryset,
            action="verify_domains",
            title="Verify domains",
            summary=f"The registry will look up the DNS TXT record of each domain of the selected identity "
            f"providers ({queryset.count()}). Providers whose domains all carry their record become active.",
            button=f"Yes, verify {queryset.count()}",
        )
        if page is None:
            self._verify_domains(request, queryset)
        return page

    def _verify_domains(self, request, queryset) -> None:
        for identity in queryset.select_related("provider"):
            checks = identity_services.identity_provider_verify_domains(provider=identity.provider, actor=request.user)
            if not checks:
                self.message_user(request, f"{identity.provider.provider_id}: no domains to verify.", messages.INFO)
            for check in checks:
                level = messages.SUCCESS if check.verified else messages.WARNING
                self.message_user(request, f"{identity.provider.provider_id} · {check.domain}: {check.detail}", level)

    def _set_enabled(self, request, queryset, enabled: bool) -> None:
        count = 0
        for identity in queryset.exclude(provider__enabled=enabled).select_related("provider"):
            identity_services.identity_provider_set_enabled(
                provider=identity.provider, actor=request.user, enabled=enabled
            )
            count += 1
        self.message_user(request, f"{count} identity provider(s) {'enabled' if enabled else 'disabled'}.")

    def _confirm_enabled(self, request, queryset, enabled: bool):
        verb = "enable" if enabled else "disable"
        changing = queryset.exclude(provider__enabled=enabled).count()
        page = confirm_bulk(
            self,
            request,
            queryset,
            action=f"{verb}_selected",
            title=f"{verb.capitalize()} identity providers",
            summary=f"{changing} of the selected identity providers will be {verb}d"
            + ("; the others already are and stay as they are." if changing < queryset.count() else "."),
            consequence="Enabled providers whose domains are verified appear in the public login list."
            if enabled
            else "Disabled providers leave the public login list at once; users can no longer sign in with them.",
            button=f"Yes, {verb} {changing}",
        )
        if page is None:
            self._set_enabled(request, queryset, enabled)
        return page

    @admin.action(description="Enable selected identity providers", permissions=["change"])
    def enable_selected(self, request, queryset):
        return self._confirm_enabled(request, queryset, True)

    @admin.action(description="Disable selected identity providers", permissions=["change"])
    def disable_selected(self, request, queryset):
        return self._confirm_enabled(request, queryset, False)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
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
