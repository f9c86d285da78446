import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import accounts.scoping

# Ids are chosen per workspace: two workspaces may each have a provider `okta` or a project
# `payments-api`. The unique index leads with the workspace, so it also serves every scoped lookup
# and list. New rows default to the workspace the request acts on (accounts.scoping).
# Reversing fails while two workspaces share an id, as it must.
#
# SQLite rebuilds a table to change its constraints, and the rebuild drops the table's triggers:
# and a rebuild of the providers table fails while the projects' triggers (which read it) exist:
# the same-workspace triggers of migration 0014 are dropped before the change and created again
# after it, either way.
same_workspace = importlib.import_module("providers.migrations.0014_project_provider_same_workspace")


def drop_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in same_workspace.SQLITE_REVERSE:
            schema_editor.execute(sql.replace("DROP TRIGGER", "DROP TRIGGER IF EXISTS"))


def create_sqlite_triggers(apps, schema_editor):
    drop_sqlite_triggers(apps, schema_editor)
    if schema_editor.connection.vendor == "sqlite":
        for sql in same_workspace.SQLITE:
            schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_workspaces'),
        ('providers', '0014_project_provider_same_workspace'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, create_sqlite_triggers),
        migrations.RemoveConstraint(
            model_name='project',
            name='project_id_unique',
        ),
        migrations.RemoveConstraint(
            model_name='provider',
            name='provider_id_unique',
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='workspace',
            field=models.ForeignKey(default=accounts.scoping.current_workspace_id, help_text='The workspace (tenant) it belongs to.', on_delete=django.db.models.deletion.CASCADE, related_name='audit_events', to='accounts.workspace'),
        ),
        migrations.AlterField(
            model_name='project',
            name='workspace',
            field=models.ForeignKey(default=accounts.scoping.current_workspace_id, help_text='The workspace (tenant) it belongs to.', on_delete=django.db.models.deletion.PROTECT, related_name='projects', to='accounts.workspace'),
        ),
        migrations.AlterField(
            model_name='provider',
            name='workspace',
            field=models.ForeignKey(default=accounts.scoping.current_workspace_id, help_text='The workspace (tenant) it belongs to.', on_delete=django.db.models.deletion.PROTECT, related_name='providers', to='accounts.workspace'),
        ),
        migrations.AddConstraint(
            model_name='project',
            constraint=models.UniqueConstraint(fields=('workspace', 'project_id'), name='project_id_unique'),
        ),
        migrations.AddConstraint(
            model_name='provider',
            constraint=models.UniqueConstraint(fields=('workspace', 'provider_id'), name='provider_id_unique'),
        ),
        migrations.RunPython(create_sqlite_triggers, drop_sqlite_triggers),
    ]
