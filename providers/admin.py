import copy

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters

from . import selectors, services
from .catalog import CAPABILITY_CHOICES, CREDENTIAL_TYPE_CHOICES, CREDENTIAL_TYPES, types_with_capability
from .models import Project, Provider

CREDENTIAL_FORM_FIELDS = {"accessToken": "access_token", "userName": "user_name", "password": "password"}


class ProviderAdminForm(forms.ModelForm):
    """The provider form plus its credentials. Secret inputs never render a value; left blank
    on edit, the stored credentials stay as they are."""

    credential_type = forms.ChoiceField(
        choices=[("", "—"), *CREDENTIAL_TYPE_CHOICES],
        required=False,
        help_text="“Access token” needs the token; “User name and password” needs both. "
        "On edit, choose a type only to replace the stored credentials.",
    )
    access_token = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="e.g. a GitHub fine-grained token “github_pat_…”. Never shown again after saving.",
    )
    user_name = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="Service account's user name (for “User name and password”).",
    )
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Service account's password or app password. Never shown again after saving.",
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
        fields = CREDENTIAL_TYPES[ctype].fields
        return services.CredentialInput(type=ctype, content={name: values[name] or "" for name in fields})

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
    form = ProviderAdminForm
    list_display = [
        "provider_id",
        "label",
        "type",
        "capability_display",
        "enabled",
        "credential_type",
        "linked_projects",
    ]
    list_filter = ["type", CapabilityFilter, "enabled", ("credential__type", CredentialTypeFilter)]
    search_fields = ["provider_id", "label"]
    show_full_result_count = False
    list_per_page = 50
    actions = ["enable_selected", "disable_selected"]
    readonly_fields = ["credential_status", "linked_projects", "created_at", "created_by", "updated_at", "updated_by"]

    def get_fieldsets(self, request, obj=None):
        credentials = ["credential_type", "access_token", "user_name", "password"]
        if obj is not None:
            credentials = ["credential_status", *credentials]
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
            fieldsets.append(
                (
                    "Usage and history",
                    {"fields": ["linked_projects", "created_at", "created_by", "updated_at", "updated_by"]},
                )
            )
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["provider_id", *self.readonly_fields]

    def get_queryset(self, request) -> QuerySet[Provider]:
        return selectors.provider_list()

    @method_decorator(sensitive_post_parameters())
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

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

    def _set_enabled(self, request, queryset, enabled: bool) -> None:
        count = 0
        for provider in queryset:
            if provider.enabled != enabled:
                services.provider_update(provider=provider, actor=request.user, data={"enabled": enabled})
                count += 1
        state = "enabled" if enabled else "disabled"
        self.message_user(request, f"{count} provider(s) {state}.", messages.SUCCESS)

    @admin.action(description="Enable selected providers", permissions=["change"])
    def enable_selected(self, request, queryset):
        self._set_enabled(request, queryset, True)

    @admin.action(description="Disable selected providers", permissions=["change"])
    def disable_selected(self, request, queryset):
        self._set_enabled(request, queryset, False)


@admin.register(Project)
class ProjectAdmin(ServiceLoggedAdmin):
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
