"""Operators may see the accounts users linked at identity providers and unlink one; those who
view identity providers may see them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "access_token_manager": ["view_federatedidentity", "delete_federatedidentity"],
    "identity_provider_viewer": ["view_federatedidentity"],
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
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="providers", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group:
            group.permissions.remove(*Permission.objects.filter(codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_user_attributes"),
        ("providers", "0017_federated_identities"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
