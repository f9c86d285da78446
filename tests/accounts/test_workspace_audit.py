"""Workspace and membership writes are in the audit log, from the API and the admin alike: a
workspace's create and rename in its own log, its deletion in the default workspace's (its own log
goes with it), a member's arrival, role change and removal in the workspace's log. Field names
only: a membership's event names the `role` field, never the role."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import DEFAULT_WORKSPACE_ID, Membership, Workspace
from providers.models import AuditEvent
from tests.conftest import client_for
from tests.factories import ProviderFactory, UserFactory

WORKSPACES = "/api/workspaces"


@pytest.fixture
def acme(db):
    return Workspace.objects.create(name="acme", display_name="ACME")


def events(workspace_id: int, object_type: str) -> list[tuple]:
    rows = AuditEvent.objects.filter(workspace_id=workspace_id, object_type=object_type).order_by("id")
    return list(rows.values_list("action", "object_id", "object_repr", "fields", "actor_name", "source", "ok"))


def test_creating_and_renaming_a_workspace_through_the_api_is_audited_in_it(superuser):
    client = client_for(superuser)

    created = client.post(WORKSPACES, {"name": "globex", "display_name": "Globex"}, format="json")
    renamed = client.patch(f"{WORKSPACES}/globex", {"display_name": "Globex Corp"}, format="json")
    unchanged = client.patch(f"{WORKSPACES}/globex", {"display_name": "Globex Corp"}, format="json")

    assert (created.status_code, renamed.status_code, unchanged.status_code) == (201, 200, 200)
    globex = Workspace.objects.get(name="globex")
    assert events(globex.pk, "workspace") == [
        ("create", "globex", "Globex", [], "root", "api", True),
        ("update", "globex", "Globex Corp", ["display_name"], "root", "api", True),
    ]  # the unchanged rename changed nothing: no event


def test_a_workspace_deletion_is_audited_in_the_default_workspaces_log(superuser, acme):
    response = client_for(superuser).delete(f"{WORKSPACES}/acme")

    assert response.status_code == 204
    assert events(DEFAULT_WORKSPACE_ID, "workspace") == [("delete", "acme", "ACME", [], "root", "api", True)]


def test_refused_workspace_writes_record_nothing(superuser, acme):
    ProviderFactory(provider_id="gh", workspace=acme)
    client = client_for(superuser)

    taken = client.post(WORKSPACES, {"name": "acme", "display_name": "Again"}, format="json")
    held = client.delete(f"{WORKSPACES}/acme")
    renamed = client.patch(f"{WORKSPACES}/acme", {"name": "acme-two"}, format="json")

    assert (taken.status_code, held.status_code, renamed.status_code) == (409, 409, 400)
    assert not AuditEvent.objects.filter(object_type="workspace").exists()


def test_membership_writes_through_the_api_are_audited_in_the_workspace(superuser, acme):
    client = client_for(superuser)
    UserFactory(username="bob")
    url = f"{WORKSPACES}/acme/members/bob"

    statuses = [
        client.put(url, {"role": "operator"}, format="json").status_code,
        client.put(url, {"role": "operator"}, format="json").status_code,  # no change: no event
        client.put(url, {"role": "viewer"}, format="json").status_code,
        client.put(url, {"role": "admin"}, format="json").status_code,  # refused: no event
        client.delete(url).status_code,
    ]

    assert statuses == [201, 200, 200, 400, 204]
    assert events(acme.pk, "membership") == [
        ("create", "bob", "bob in acme", ["role"], "root", "api", True),
        ("update", "bob", "bob in acme", ["role"], "root", "api", True),
        ("delete", "bob", "bob in acme", [], "root", "api", True),
    ]
    assert not AuditEvent.objects.exclude(workspace=acme).filter(object_type="membership").exists()


def test_an_owner_reads_the_membership_events_in_the_workspaces_audit_log(acme):
    olga = UserFactory(username="olga")
    Membership.objects.create(workspace=acme, user=olga, role=Membership.Role.OWNER)
    owner = client_for(olga)
    Membership.objects.create(workspace=acme, user=UserFactory(username="bob"), role=Membership.Role.VIEWER)

    assert owner.put(f"{WORKSPACES}/acme/members/bob", {"role": "operator"}, format="json").status_code == 200
    log = owner.get(f"{WORKSPACES}/acme/backend/audit-events?objectType=membership")

    assert log.status_code == 200
    assert [(e["action"], e["objectId"], e["fields"], e["actor"]) for e in log.json()["results"]] == [
        ("update", "bob", ["role"], "olga")
    ]


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_workspace_and_member_writes_in_the_admin_are_audited(superuser, operator):
    client = admin_client(superuser)
    bob = UserFactory(username="bob")
    added = client.post(
        reverse("admin:accounts_workspace_add"),
        {
            "name": "acme",
            "display_name": "ACME",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": operator.username,
            "memberships-0-role": "operator",
        },
    )
    acme = Workspace.objects.get(name="acme")
    existing = Membership.objects.get(workspace=acme)
    changed = client.post(
        reverse("admin:accounts_workspace_change", args=[acme.pk]),
        {
            "display_name": "ACME Inc.",
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": existing.pk,
            "memberships-0-workspace": acme.pk,
            "memberships-0-user": "someone-else",  # a membership's user stays: the field is disabled
            "memberships-0-role": "viewer",
            "memberships-1-workspace": acme.pk,
            "memberships-1-user": "bob",
            "memberships-1-role": "owner",
        },
    )
    removed = client.post(
        reverse("admin:accounts_workspace_change", args=[acme.pk]),
        {
            "display_name": "ACME Inc.",
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "2",
            "memberships-0-id": Membership.objects.get(user=bob).pk,
            "memberships-0-workspace": acme.pk,
            "memberships-0-role": "owner",
            "memberships-0-DELETE": "on",
            "memberships-1-id": existing.pk,
            "memberships-1-workspace": acme.pk,
            "memberships-1-role": "viewer",
        },
    )
    logged = AuditEvent.objects.filter(object_type__in=["workspace", "membership"]).order_by("id")
    shown = ("workspace_id", "action", "object_type", "object_id", "fields", "source")
    before = list(logged.values_list(*shown))
    assert Membership.objects.get(pk=existing.pk).user == operator  # the disabled user field changed nothing
    deleted = client.post(reverse("admin:accounts_workspace_delete", args=[acme.pk]), {"post": "yes"})

    assert [added.status_code, changed.status_code, removed.status_code, deleted.status_code] == [302] * 4
    assert before == [
        (acme.pk, "create", "workspace", "acme", [], "admin"),
        (acme.pk, "create", "membership", "operator", ["role"], "admin"),
        (acme.pk, "update", "workspace", "acme", ["display_name"], "admin"),
        (acme.pk, "update", "membership", "operator", ["role"], "admin"),
        (acme.pk, "create", "membership", "bob", ["role"], "admin"),
        (acme.pk, "delete", "membership", "bob", [], "admin"),
    ]
    # The workspace's own log went with it (although nobody may delete audit events one by one);
    # its deletion is in the default workspace's.
    assert not Workspace.objects.filter(name="acme").exists()
    assert list(logged.values_list(*shown)) == [(DEFAULT_WORKSPACE_ID, "delete", "workspace", "acme", [], "admin")]
