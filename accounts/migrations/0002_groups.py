"""Create the groups and give them their permissions. Permissions are normally created after all
migrations (post_migrate), so they are created here first for a fresh database."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "access_token_manager": [
        ("providers", "provider", ["add", "change", "delete", "view", "select"]),
        ("providers", "project", ["add", "change", "delete", "view", "manage_all"]),
        ("accounts", "apitoken", ["add", "change", "view"]),
    ],
    "project_owner": [
        ("providers", "provider", ["select"]),
        ("providers", "project", ["change", "view"]),
        ("accounts", "apitoken", ["add", "change", "view"]),
    ],
}


def codename(action: str, model: str) -> str:
    if action == "select":
        return "select_provider"
    if action == "manage_all":
        return "manage_all_projects"
    return f"{action}_{model}"


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, model, actions in grants:
            for action in actions:
                permission = Permission.objects.get(
                    content_type__app_label=app_label, codename=codename(action, model)
                )
                group.permissions.add(permission)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(GROUPS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("providers", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
