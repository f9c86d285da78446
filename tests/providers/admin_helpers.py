"""What the admin tests (tests/providers/test_admin_*.py) share: the admin URLs, a secret token,
logging in, reading pages and form errors, and the admin history entries an object left."""

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

PROVIDERS_CHANGELIST = reverse("admin:providers_provider_changelist")
PROJECTS_CHANGELIST = reverse("admin:providers_project_changelist")
AUTOCOMPLETE = reverse("admin:autocomplete")
SECRET_TOKEN = "ghp_super_secret_value_0123456789"


def logged_in(client, user):
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def form_errors(response) -> dict:
    return response.context["adminform"].form.errors


def log_entries(obj, action_flag: int):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=str(obj.pk), action_flag=action_flag
    )
