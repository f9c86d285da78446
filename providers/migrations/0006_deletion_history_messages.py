from django.db import migrations


def fix_deletion_messages(apps, schema_editor):
    """Deletion entries were written as [{"deleted": {}}], which Django's history rendering
    reads as an inline deletion and fails on (no "name"); the admin's own deletions have no message."""
    LogEntry = apps.get_model("admin", "LogEntry")
    LogEntry.objects.filter(action_flag=3, change_message='[{"deleted": {}}]').update(change_message="")


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0005_credential_types"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [migrations.RunPython(fix_deletion_messages, migrations.RunPython.noop)]
