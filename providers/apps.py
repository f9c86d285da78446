from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = "Providers"
    default = True


class RegistryAdminConfig(admin_apps.AdminConfig):
    """The stock admin with the registry's site (Projects section, provider autocomplete)."""

    default = False
    default_site = "providers.admin_site.RegistryAdminSite"
