"""Federated identities (the accounts users linked at identity providers): read-only, never the
stored tokens; an operator may unlink one (even a user's last way to sign in), through the service
(audited)."""

from django.contrib import admin

from providers.identity.services.federation import federated_identity_unlink
from providers.models import FederatedIdentity, IdentityProvider

from .common import WorkspaceColumns

SHOWN = ("user", "identity", "subject", "username", "email", "token_readable", "first_login_at", "last_login_at")


@admin.register(FederatedIdentity)
class FederatedIdentityAdmin(WorkspaceColumns, admin.ModelAdmin):
    workspace_lookup = "identity__provider__workspace"
    list_display = ["user", "identity_alias", "subject", "email", "first_login_at", "last_login_at"]
    list_filter = ["identity__provider__provider_id"]
    search_fields = ["user__username", "subject", "email", "username"]
    list_select_related = ["user", "identity__provider"]
    readonly_fields = SHOWN

    def get_fields(self, request, obj=None):
        return SHOWN

    show_full_result_count = False

    @admin.display(description="identity provider", ordering="identity__provider__provider_id")
    def identity_alias(self, obj: FederatedIdentity) -> str:
        return obj.identity.provider.provider_id

    def get_queryset(self, request):
        secrets = (f"identity__{name}" for name in IdentityProvider.SECRET_COLUMNS)
        return super().get_queryset(request).defer("token", *secrets)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        federated_identity_unlink(federated=obj, actor=request.user, allow_last=True)

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("user", "identity__provider"):
            self.delete_model(request, obj)
