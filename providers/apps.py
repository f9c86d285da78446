from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = "Providers"
    default = True

    def ready(self) -> None:
        from django.core import checks

        from accounts import audit as accounts_audit

        from . import audit
        from . import checks as provider_checks

        # The accounts services' writes (workspaces, memberships) go to this app's audit log.
        accounts_audit.install(audit.record)

        # Not tagged `database`: those only run with `check --database`, and these must stop
        # runserver/migrate (and so `make serve`) at start-up. The second reads at most
        # SAMPLE_SIZE rows per encrypted field.
        checks.register(provider_checks.check_fernet_keys_not_secret_key)
        checks.register(provider_checks.check_stored_secrets_decrypt)


class RegistryAdminConfig(admin_apps.AdminConfig):
    """The stock admin with the registry's site (Projects section, provider autocomplete)."""

    default = False
    default_site = "providers.admin.site.get_registry_site"
