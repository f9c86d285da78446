from django.urls import reverse

from providers.models import AuditEvent
from tests.conftest import client_for
from tests.factories import ProjectFactory, ProviderFactory, UserFactory

PROVIDERS = "/api/backend/providers"
AUDIT = "/api/backend/audit-events"
BODY = {
    "id": "gh",
    "label": "GitHub",
    "type": "github",
    "credentials": {"type": "token", "content": {"accessToken": "audit-canary-token"}},
}


def test_api_writes_are_audited_with_fields_source_and_address(operator_client, operator):
    operator_client.post(PROVIDERS, BODY, format="json")
    operator_client.patch(
        f"{PROVIDERS}/gh",
        {"label": "New", "credentials": {"type": "token", "content": {"accessToken": "audit-canary-2"}}},
        format="json",
    )
    operator_client.delete(f"{PROVIDERS}/gh")

    events = list(AuditEvent.objects.filter(object_id="gh").order_by("id"))

    assert [e.action for e in events] == ["create", "rotate", "update", "delete"]
    assert events[2].fields == ["label", "credentials"]
    assert all(e.actor == operator and e.source == "api" and e.ip == "127.0.0.1" and e.ok for e in events)
    assert "audit-canary" not in str(list(AuditEvent.objects.values()))


def test_admin_writes_are_audited_as_admin(client, operator):
    provider = ProviderFactory(provider_id="gh")
    client.force_login(operator)

    client.post(
        reverse("admin:providers_provider_changelist"),
        {"action": "disable_selected", "confirmed": "yes", "_selected_action": [provider.pk]},
    )

    event = AuditEvent.objects.get(object_id="gh")
    assert (event.action, event.source, event.fields) == ("update", "admin", ["enabled"])


def test_refused_attempts_are_audited(owner_client, owner, client):
    ProjectFactory(project_id="mine", owners=[owner])
    plain = UserFactory(username="plain")

    owner_client.patch("/api/backend/projects/mine", {"name": "x"}, format="json")
    client_for(plain).get(PROVIDERS)
    client.force_login(plain)
    client.get(reverse("admin:providers_provider_changelist"))

    denied = list(AuditEvent.objects.filter(action="denied").order_by("id"))
    assert [(e.actor_name, e.ok) for e in denied] == [("owner", False), ("plain", False), ("plain", False)]
    assert denied[0].fields == ["name"] and denied[0].object_id == "mine"
    assert denied[1].detail == "GET /api/backend/providers"
    assert denied[2].source == "admin"


def test_anonymous_requests_are_not_audited(client, db):
    client.get(PROVIDERS)

    assert not AuditEvent.objects.exists()


def test_audit_events_api_lists_and_filters(operator_client, owner_client):
    operator_client.post(PROVIDERS, BODY, format="json")
    operator_client.post(PROVIDERS, {**BODY, "id": "gl", "type": "gitlab"}, format="json")
    operator_client.patch(f"{PROVIDERS}/gl", {"label": "x"}, format="json")

    everything = operator_client.get(AUDIT).json()["results"]
    updates = operator_client.get(f"{AUDIT}?action=update").json()["results"]
    for_gl = operator_client.get(f"{AUDIT}?objectId=gl").json()["results"]

    assert [e["action"] for e in everything] == ["update", "create", "create"]
    assert [e["objectId"] for e in updates] == ["gl"]
    assert {e["action"] for e in for_gl} == {"create", "update"}
    assert set(everything[0]) == {
        "id",
        "at",
        "actor",
        "action",
        "objectType",
        "objectId",
        "objectRepr",
        "fields",
        "source",
        "ip",
        "ok",
        "detail",
    }
    assert operator_client.get(f"{AUDIT}?action=explode").status_code == 400
    assert owner_client.get(AUDIT).status_code == 403
    assert operator_client.post(AUDIT, {}, format="json").status_code == 403
    assert not AuditEvent.objects.filter(action="create", object_type="auditevent").exists()


def test_forwarded_for_is_trusted_only_from_configured_proxies(operator_client, settings):
    operator_client.post(PROVIDERS, BODY, format="json", HTTP_X_FORWARDED_FOR="203.0.113.9")
    settings.AUDIT_TRUSTED_PROXIES = ["127.0.0.1"]
    operator_client.patch(f"{PROVIDERS}/gh", {"label": "x"}, format="json", HTTP_X_FORWARDED_FOR="203.0.113.9")

    create, update = AuditEvent.objects.filter(object_id="gh").order_by("id")
    assert create.ip == "127.0.0.1"
    assert update.ip == "203.0.113.9"


def test_deletion_history_entries_render_in_the_admin_format(operator_client, operator):
    from django.contrib.admin.models import DELETION, LogEntry

    from tests.factories import ProviderFactory

    ProviderFactory(provider_id="gone")
    assert operator_client.delete("/api/backend/providers/gone").status_code == 204

    entry = LogEntry.objects.get(action_flag=DELETION, object_id__isnull=False)
    assert entry.get_change_message() == ""
    assert entry.object_repr.endswith("(gone)")
