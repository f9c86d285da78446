"""Identity-provider permissions: operators manage them; `identity_provider_viewer` may read
their configuration (secrets are never readable by anyone)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "access_token_manager": ["add_identityprovider", "change_identityprovider", "delete_identityprovider",
                             "view_identityprovider"],
    "identity_provider_viewer": ["view_identityprovider"],
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="providers", codename__in=codenames))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Group.objects.filter(name="identity_provider_viewer").delete()
    operators = Group.objects.filter(name="access_token_manager").first()
    if operators:
        operators.permissions.remove(*Permission.objects.filter(codename__in=GRANTS["access_token_manager"]))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_groups"),
        ("providers", "0002_identity_providers"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
