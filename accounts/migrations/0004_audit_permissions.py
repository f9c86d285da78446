"""Operators may read the audit log (it is written only by the product itself)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="access_token_manager")
    group.permissions.add(Permission.objects.get(content_type__app_label="providers", codename="view_auditevent"))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="access_token_manager").first()
    if group:
        group.permissions.remove(*Permission.objects.filter(codename="view_auditevent"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_identity_provider_groups"),
        ("providers", "0004_credential_lifecycle_audit"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
