# A token may be limited to a role within its workspace (accounts.services.api_token_check_limits).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_workspaces'),
    ]

    operations = [
        migrations.AddField(
            model_name='apitoken',
            name='role',
            field=models.CharField(blank=True, choices=[('owner', 'owner'), ('operator', 'operator'), ('project_owner', 'project owner'), ('viewer', 'viewer')], help_text="At most this role's permissions, whatever its user may do; empty: its user's own. No higher than the user's role in the token's workspace.", max_length=20),
        ),
        migrations.AlterField(
            model_name='apitoken',
            name='workspace',
            field=models.ForeignKey(blank=True, help_text='The workspace the token is limited to (its un-prefixed API paths act on it); empty: every workspace its user belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to='accounts.workspace'),
        ),
    ]
