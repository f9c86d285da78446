"""The admin history the backend API leaves: changes naming their fields (never a secret), no
entry for a no-op patch, and an entry for a deletion."""

from django.contrib.admin.models import LogEntry

from providers.models import Provider
from tests.factories import ProviderFactory
from tests.providers.api_helpers import PROVIDERS, provider_body


def test_changes_leave_history_entries_naming_fields(operator_client, operator):
    operator_client.post(PROVIDERS, provider_body(), format="json")
    operator_client.patch(
        f"{PROVIDERS}/acme-gitlab",
        {"label": "New", "credentials": {"type": "token", "content": {"accessToken": "t-1"}}},
        format="json",
    )
    provider = Provider.objects.get(provider_id="acme-gitlab")

    entries = list(LogEntry.objects.filter(object_id=str(provider.pk)).order_by("id"))

    assert [entry.action_flag for entry in entries] == [1, 2]
    assert all(entry.user == operator for entry in entries)
    assert entries[1].get_change_message() == "Changed label and credentials."
    assert "t-1" not in entries[1].change_message


def test_noop_patch_writes_no_history(operator_client):
    operator_client.post(PROVIDERS, provider_body(), format="json")
    before = LogEntry.objects.count()

    operator_client.patch(f"{PROVIDERS}/acme-gitlab", {"label": "ACME GitLab"}, format="json")

    assert LogEntry.objects.count() == before


def test_provider_delete_leaves_history_entry(operator_client, operator):
    provider = ProviderFactory(provider_id="gh")

    operator_client.delete(f"{PROVIDERS}/gh")

    entry = LogEntry.objects.get(object_id=str(provider.pk))
    assert entry.is_deletion()
    assert entry.user == operator
