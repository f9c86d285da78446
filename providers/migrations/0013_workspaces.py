"""Every provider, project and audit event belongs to a workspace: the existing ones to `default`
(id 1, created by accounts.0005), through the column default. Reversible: backwards the column goes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_workspaces"),
        ("providers", "0012_prompt_login_hint"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="workspace",
            field=models.ForeignKey(
                default=1,
                help_text="The workspace (tenant) it belongs to.",
                on_delete=django.db.models.deletion.CASCADE,
                related_name="audit_events",
                to="accounts.workspace",
            ),
        ),
        migrations.AddField(
            model_name="project",
            name="workspace",
            field=models.ForeignKey(
                default=1,
                help_text="The workspace (tenant) it belongs to.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="projects",
                to="accounts.workspace",
            ),
        ),
        migrations.AddField(
            model_name="provider",
            name="workspace",
            field=models.ForeignKey(
                default=1,
                help_text="The workspace (tenant) it belongs to.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="providers",
                to="accounts.workspace",
            ),
        ),
    ]
