"""Workspaces (tenants) and memberships; the `default` workspace that existing rows move into."""

import accounts.models
import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.core.management.color import no_style
from django.db import migrations, models

DEFAULT_WORKSPACE_ID = 1  # accounts.models.DEFAULT_WORKSPACE_ID, as it is when this migration is written


def create_default_workspace(apps, schema_editor):
    """The workspace every existing row moves into (providers.0013), with the id the providers'
    foreign keys take by default; the id sequence is moved past it."""
    Workspace = apps.get_model("accounts", "Workspace")
    Workspace.objects.create(id=DEFAULT_WORKSPACE_ID, name="default", display_name="Default", public_id="org_default")
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Workspace]):
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_audit_permissions"),
    ]

    operations = [
        migrations.CreateModel(
            name="Workspace",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "name",
                    models.CharField(
                        help_text="The workspace's URL name, e.g. “acme”; cannot be changed later.",
                        max_length=63,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$",
                                "3–63 lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
                            )
                        ],
                    ),
                ),
                (
                    "display_name",
                    models.CharField(help_text="What people see, e.g. “ACME Corporation”.", max_length=200),
                ),
                (
                    "public_id",
                    models.CharField(
                        default=accounts.models.generate_public_id,
                        editable=False,
                        help_text="The id other systems refer to it by (JSON:API's `organization`), e.g. “org_76gsfs5gd”.",
                        max_length=16,
                        unique=True,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "ordering": ["name"],
                "constraints": [
                    models.UniqueConstraint(fields=("name",), name="workspace_name_unique"),
                    models.CheckConstraint(
                        condition=models.Q(("name__regex", "^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")),
                        name="workspace_name_slug",
                    ),
                ],
            },
        ),
        migrations.RunPython(create_default_workspace, migrations.RunPython.noop),
        migrations.AddField(
            model_name="apitoken",
            name="workspace",
            field=models.ForeignKey(
                blank=True,
                help_text="The workspace the token is limited to; empty: every workspace its user belongs to. Not enforced yet: the API is not scoped by workspace so far.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="api_tokens",
                to="accounts.workspace",
            ),
        ),
        migrations.CreateModel(
            name="Membership",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("owner", "owner"),
                            ("operator", "operator"),
                            ("project_owner", "project owner"),
                            ("viewer", "viewer"),
                        ],
                        max_length=20,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "workspace",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="memberships", to="accounts.workspace"
                    ),
                ),
            ],
            options={
                "ordering": ["workspace__name", "user__username"],
                "constraints": [models.UniqueConstraint(fields=("workspace", "user"), name="membership_unique")],
            },
        ),
    ]
