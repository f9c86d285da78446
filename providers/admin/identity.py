"""The identity-providers admin: one form over the identity configuration and its provider row,
the mapper inline, the lifecycle buttons and bulk actions."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from providers import services
from providers.catalog import (
    OAUTH2,
    OIDC,
    SAML,
)
from providers.identity import catalogue
from providers.identity import selectors as identity_selectors
from providers.identity import services as identity_services
from providers.identity.discovery import certificate_blocks, certificate_info
from providers.identity.mappers import MAPPER_TYPES, Grantor, mapper_config_validate
from providers.identity.services import sp_keys
from providers.models import IdentityProvider, IdentityProviderMapper, Provider
from providers.selectors import provider_id_taken

from .common import JSON_FIELDS, ServiceLoggedAdmin, WorkspaceColumns, WorkspaceOnAdd, WorkspaceSearch, confirm_bulk

IDENTITY_FORM_NAMES = {"provider_id": "alias", "label": "display_name", "domains": "domain_names"}


class IdentityProviderAdminForm(forms.ModelForm):
    """The identity provider and its provider row in one form. The client secret input never shows
    a value; left blank, the stored secret stays. Validation is the identity service's own, on
    copies of the rows (`identity_provider_prepare_*`: the model's `clean()` and the rules that
    span the rows), so the admin enforces exactly the API's rules; saving runs the service."""

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
        fields = ["protocol", *identity_services.FORM_FIELDS]

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
        data = {name: cleaned[name] for name in identity_services.FORM_FIELDS if name in cleaned}
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

    def _update_arguments(self, arguments: dict) -> dict:
        return {
            "data": {**arguments["data"], "label": arguments["display_name"]},
            "client_secret": arguments["client_secret"],
            "domains": arguments["domains"],
        }

    def run_service(self, actor):
        arguments = self.service_arguments()
        if self.instance.pk:
            return identity_services.identity_provider_update(
                provider=self.instance.provider, actor=actor, **self._update_arguments(arguments)
            )
        return identity_services.identity_provider_create(actor=actor, **arguments)

    def clean(self):
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        arguments = self.service_arguments()
        try:
            if self.instance.pk:
                identity_services.identity_provider_prepare_update(
                    provider=Provider.objects.get(pk=self.instance.provider_id),
                    identity=IdentityProvider.objects.defer("client_secret").get(pk=self.instance.pk),
                    **self._update_arguments(arguments),
                )
            else:
                identity_services.identity_provider_prepare_create(actor=None, **arguments)
                if provider_id_taken(arguments["alias"]):
                    raise identity_services.alias_taken(arguments["alias"])
        except services.ConflictError as exc:
            self.add_error("alias", exc.message)
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                name = IDENTITY_FORM_NAMES.get(key, key)
                self.add_error(name if name in self.fields else None, errors)
        return cleaned

    def _post_clean(self):
        """Nothing more: `clean()` ran the model's validation, through the service's."""


class MapperInlineForm(forms.ModelForm):
    mapper_type = forms.ChoiceField(choices=[(t.key, t.label) for t in MAPPER_TYPES.values()])
    actor: Any = None  # the signed-in user (MapperInline.get_formset): who may grant a global group

    class Meta:
        model = IdentityProviderMapper
        fields = ["name", "mapper_type", "sync_mode", "config"]

    def clean(self):
        cleaned = super().clean() or {}
        if self.errors or cleaned.get("DELETE"):
            return cleaned
        try:
            identity = self.instance.identity
            cleaned["config"] = mapper_config_validate(
                mapper_type=cleaned["mapper_type"],
                config=cleaned.get("config"),
                protocol=identity.protocol,
                grantor=Grantor(self.actor, identity.provider.workspace_id),
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

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = type(MapperInlineForm.__name__, (MapperInlineForm,), {"actor": request.user})
        return super().get_formset(request, obj, **kwargs)

    # Mappers are part of the identity provider's configuration: the same permissions as the API.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("providers.view_identityprovider")

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("providers.change_identityprovider")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("providers.change_identityprovider")

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("providers.change_identityprovider")


# What the changelist's rows show (`IdentityProviderAdmin.list_display`): a page of 100 loaded with
# every column (the identity configuration's ~40, JSON ones decoded) spent ~15 ms more building
# rows, of ~90 ms, in the 10,000-identity-provider workspace of bench.workspaces.
LISTED_COLUMNS = [
    "protocol",
    "known_provider",
    "status",
    "certificate_expires_at",
    "provider__provider_id",
    "provider__label",
    "provider__enabled",
]


class IdentityProviderChangeList(ChangeList):
    """The changelist's page loads the listed columns alone; the count, the actions' querysets
    and the change pages load what they always did."""

    def get_results(self, request):
        columns = [*LISTED_COLUMNS]
        if isinstance(self.model_admin, WorkspaceColumns) and self.model_admin._every_workspace():
            columns += ["provider__workspace__name", "provider__workspace__display_name"]
        self.queryset = self.queryset.only(*columns)
        super().get_results(request)


@admin.register(IdentityProvider)
class IdentityProviderAdmin(WorkspaceColumns, WorkspaceOnAdd, WorkspaceSearch, ServiceLoggedAdmin):
    search_model = Provider
    search_through = "provider__"
    workspace_lookup = "provider__workspace"
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
        "enabled",
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
        oidc = ["client_id", "client_secret", *(n for n in catalogue.OIDC_FIELDS if n != "client_id"), "sync_mode"]
        if obj is not None:
            oidc.insert(oidc.index("client_secret") + 1, "secret_status")
        if not may_edit:
            oidc.remove("client_secret")
        saml = list(catalogue.SAML_FIELDS)
        if obj is not None:
            saml.insert(saml.index("signing_certificate") + 1, "certificate_expires_at")
        sets = [*self.workspace_fieldsets(request, obj), ("Identity provider", {"fields": identity})]
        if protocol in (None, OIDC, OAUTH2):
            sets.append(("OpenID Connect / OAuth 2.0", {"fields": oidc, "classes": ["protocol-oidc"]}))
        if protocol in (None, SAML):
            sets.append(("SAML 2.0", {"fields": saml, "classes": ["protocol-saml"]}))
        sets += [
            (
                "Broker options",
                {"fields": list(catalogue.BROKER_FIELDS)},
            ),
            (
                "Domains and lifecycle",
                {
                    "fields": [
                        "domain_names",
                        *(["txt_record", "domain_status"] if obj else []),
                        *catalogue.LIFECYCLE_FIELDS,
                    ]
                },
            ),
        ]
        return sets

    def get_queryset(self, request):
        return identity_selectors.identity_admin_list()

    def get_changelist(self, request, **kwargs):
        return IdentityProviderChangeList

    @admin.display(description="alias", ordering="provider__provider_id")
    def alias(self, obj: IdentityProvider) -> str:
        return obj.provider.provider_id

    @admin.display(description="display name", ordering="provider__label")
    def display_name(self, obj: IdentityProvider) -> str:
        return obj.provider.label

    @admin.display(description="enabled", boolean=True, ordering="provider__enabled")
    def enabled(self, obj: IdentityProvider) -> bool:
        """The list's column, and the read-only form's field for viewers (the flag is the provider's)."""
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

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.protocol in (OIDC, OAUTH2):
            path = identity_selectors.redirect_path(provider=obj.provider)
            context["redirect_uri"] = request.build_absolute_uri(path)
        if obj is not None and obj.protocol == SAML:
            context["saml"] = {
                "acs": request.build_absolute_uri(identity_selectors.saml_acs_path(obj)),
                "metadata": request.build_absolute_uri(identity_selectors.saml_metadata_path(obj)),
                "entity_id": identity_selectors.saml_sp_entity_id(obj, request),
                "certificate": certificate_info(obj.sp_certificate) if obj.sp_certificate else None,
                "next_certificate": certificate_info(obj.sp_next_certificate) if obj.sp_next_certificate else None,
                "previous_certificate": (
                    certificate_info(obj.sp_previous_certificate) if obj.sp_previous_certificate else None
                ),
            }
            buttons = [("sp-key", "Publish the next SP key" if obj.sp_certificate else "Generate the SP key")]
            if obj.sp_next_certificate:
                buttons = [("sp-key-activate", "Sign with the next SP key")]
            if obj.sp_previous_certificate:
                buttons.append(("sp-key-forget-previous", "Forget the previous SP key"))
            if obj.metadata_url:
                buttons.append(("refresh-metadata", "Refresh metadata"))
                # Removing is for a rollover's end: only when there is a certificate to spare.
                if len(certificate_blocks(obj.signing_certificate)) > 1:
                    buttons.append(("refresh-metadata-remove", "Refresh metadata, removing unlisted certificates"))
            context["lifecycle_buttons"] = [*context.get("lifecycle_buttons", []), *buttons]
        return super().render_change_form(request, context, add, change, form_url, obj)

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

    def delete_through_service(self, obj, actor) -> None:
        services.provider_delete(provider=obj.provider, actor=actor)

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
        """POST-only buttons of the change page: verify domains, enable, disable; SAML: the SP key
        (generate, activate the next, forget the previous), metadata refresh."""
        obj = self.get_object(request, object_id)
        if obj is None or request.method != "POST" or not self.has_change_permission(request, obj):
            raise PermissionDenied
        queryset = IdentityProvider.objects.filter(pk=obj.pk)
        # The page's own buttons act on this one provider at once: no confirmation page.
        operations: dict[str, Any] = {
            "sp-key": None,
            "sp-key-activate": None,
            "sp-key-forget-previous": None,
            "refresh-metadata": lambda request, queryset: self._refresh_metadata(request, obj, remove_missing=False),
            "refresh-metadata-remove": lambda request, queryset: self._refresh_metadata(
                request, obj, remove_missing=True
            ),
            "verify": self._verify_domains,
            "enable": lambda request, queryset: self._set_enabled(request, queryset, True),
            "disable": lambda request, queryset: self._set_enabled(request, queryset, False),
        }
        if operation not in operations:
            raise PermissionDenied
        if operation.startswith("sp-key"):
            self._sp_key(request, obj, operation=operation)
        else:
            operations[operation](request, queryset)
        return HttpResponseRedirect(reverse("admin:providers_identityprovider_change", args=[obj.pk]))

    def _sp_key(self, request, identity: IdentityProvider, *, operation: str) -> None:
        """The SAML service provider's key: the first, the next (published before it signs), the next
        made the one that signs (the replaced one kept to decrypt), or the kept one forgotten."""
        try:
            if operation == "sp-key-activate":
                sp_keys.sp_key_activate_next(identity=identity, actor=request.user)
                self.message_user(
                    request,
                    "The next SP key signs from now on. The previous one is unpublished but still decrypts "
                    "assertions encrypted for it: forget it once the provider encrypts for the new certificate.",
                )
            elif operation == "sp-key-forget-previous":
                sp_keys.sp_key_forget_previous(identity=identity, actor=request.user)
                self.message_user(
                    request, "The previous SP key is deleted: an assertion encrypted for it is refused from now on."
                )
            else:
                which = sp_keys.sp_key_generate(identity=identity, actor=request.user)
                self.message_user(
                    request,
                    "The SP key is generated and in the metadata."
                    if which == "current"
                    else "The next SP key is in the metadata: once the provider has it, sign with it.",
                )
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)

    def _refresh_metadata(self, request, identity: IdentityProvider, *, remove_missing: bool) -> None:
        """The refresh's report as messages: what changed, and the certificates the metadata no
        longer lists that stay trusted until the operator removes them."""
        try:
            report = identity_services.identity_provider_refresh_metadata(
                identity=identity, actor=request.user, remove_missing=remove_missing
            )
        except ValidationError as exc:
            self.message_user(request, "Metadata refresh failed: " + " ".join(exc.messages), messages.ERROR)
            return
        details = [f"added {', '.join(report.added)}"] if report.added else []
        details += [f"removed {', '.join(report.removed)}"] if report.removed else []
        details += [f"{change.field.replace('_', ' ')}: {change.new}" for change in report.changed_urls]
        text = f"Metadata refreshed: {report.summary}" + (f" ({'; '.join(details)})." if details else ".")
        self.message_user(request, text, messages.SUCCESS if report.changed else messages.INFO)
        if report.kept:
            self.message_user(
                request,
                f"Still trusted though the metadata no longer lists them: {', '.join(report.kept)}. Once the "
                "provider signs with its new certificate, remove them with “Refresh metadata, removing unlisted "
                "certificates”.",
                messages.WARNING,
            )

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
