"""The admin's floor: Django's own admin, untouched (a plain AdminSite and ModelAdmin), listing
the same identity providers with the same columns (the mapper count as an annotation, as Django's
documentation counts), filters and search as the product's changelist (`providers.admin.identity`).
Mounted at /floor/admin/ in the bench server only; the same session signs in to both."""

from django.contrib import admin
from django.db.models import Count

from providers.models import IdentityProvider

site = admin.AdminSite(name="floor_admin")


@admin.register(IdentityProvider, site=site)
class IdentityProviderFloorAdmin(admin.ModelAdmin):
    list_display = ["alias", "display_name", "protocol", "known_provider", "status", "enabled", "mapper_count",
                    "certificate_expires_at"]  # fmt: skip
    list_filter = ["protocol", "status", "provider__enabled", "known_provider"]
    list_select_related = ["provider"]
    search_fields = ["provider__provider_id", "provider__label"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(mapper_count=Count("mappers"))

    @admin.display(ordering="mapper_count")
    def mapper_count(self, obj):
        return obj.mapper_count

    @admin.display(ordering="provider__provider_id")
    def alias(self, obj):
        return obj.provider.provider_id

    @admin.display(ordering="provider__label")
    def display_name(self, obj):
        return obj.provider.label

    @admin.display(boolean=True, ordering="provider__enabled")
    def enabled(self, obj):
        return obj.provider.enabled
