import threading

import pytest
from django.db import connection

from providers.models import Provider
from tests.conftest import client_for
from tests.factories import OperatorFactory, ProjectFactory, ProviderFactory

PROVIDERS = "/api/backend/providers"


def test_detail_reads_carry_an_etag_that_changes_with_the_row(operator_client):
    ProviderFactory(provider_id="gh")

    first = operator_client.get(f"{PROVIDERS}/gh")
    patched = operator_client.patch(f"{PROVIDERS}/gh", {"label": "New"}, format="json", HTTP_IF_MATCH=first["ETag"])
    second = operator_client.get(f"{PROVIDERS}/gh")

    assert first["ETag"].startswith('"') and len(first["ETag"]) == 34
    assert patched.status_code == 200
    assert patched["ETag"] == second["ETag"] != first["ETag"]


def test_stale_if_match_is_412_and_changes_nothing(operator_client):
    ProviderFactory(provider_id="gh", label="Original")
    stale = operator_client.get(f"{PROVIDERS}/gh")["ETag"]
    operator_client.patch(f"{PROVIDERS}/gh", {"label": "Someone else"}, format="json")

    refused = operator_client.patch(f"{PROVIDERS}/gh", {"label": "Mine"}, format="json", HTTP_IF_MATCH=stale)
    deleted = operator_client.delete(f"{PROVIDERS}/gh", HTTP_IF_MATCH=stale)

    assert refused.status_code == 412
    assert "If-Match" in refused.json()["detail"]
    assert deleted.status_code == 412
    assert Provider.objects.get(provider_id="gh").label == "Someone else"


def test_if_match_compares_strongly_a_weak_tag_never_matches_and_star_always_does(operator_client):
    ProviderFactory(provider_id="gh", label="Original")
    tag = operator_client.get(f"{PROVIDERS}/gh")["ETag"]

    weak = operator_client.patch(f"{PROVIDERS}/gh", {"label": "weak"}, format="json", HTTP_IF_MATCH=f"W/{tag}")
    weak_delete = operator_client.delete(f"{PROVIDERS}/gh", HTTP_IF_MATCH=f"W/{tag}")
    assert (weak.status_code, weak_delete.status_code) == (412, 412)
    assert Provider.objects.get(provider_id="gh").label == "Original"

    listed = operator_client.patch(
        f"{PROVIDERS}/gh", {"label": "listed"}, format="json", HTTP_IF_MATCH=f'"other", W/"x", {tag}'
    )
    star = operator_client.patch(f"{PROVIDERS}/gh", {"label": "star"}, format="json", HTTP_IF_MATCH="*")

    assert (listed.status_code, star.status_code) == (200, 200)
    assert Provider.objects.get(provider_id="gh").label == "star"


def test_projects_and_identity_providers_honour_if_match(owner_client, owner, operator_client):
    ProjectFactory(project_id="mine", owners=[owner])
    project_tag = owner_client.get("/api/backend/projects/mine")["ETag"]
    owner_client.patch("/api/backend/projects/mine", {"description": "1"}, format="json")
    operator_client.post(
        "/api/identity-providers",
        {"alias": "idp", "display_name": "IdP", "provider_id": "oidc", "oidc_config": {"issuer": "https://i.test"}},
        format="json",
    )
    idp_tag = operator_client.get("/api/identity-providers/idp")["ETag"]
    operator_client.patch("/api/identity-providers/idp", {"display_name": "Changed"}, format="json")

    stale_project = owner_client.patch(
        "/api/backend/projects/mine", {"description": "2"}, format="json", HTTP_IF_MATCH=project_tag
    )
    stale_idp = operator_client.patch(
        "/api/identity-providers/idp", {"display_name": "Mine"}, format="json", HTTP_IF_MATCH=idp_tag
    )

    assert stale_project.status_code == 412
    assert stale_idp.status_code == 412


def run_in_threads(count: int, work) -> list[int]:
    barrier = threading.Barrier(count)
    statuses: list[int] = []

    def target(index: int) -> None:
        try:
            barrier.wait()
            statuses.append(work(index))
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


# On both databases: PostgreSQL locks the row (SELECT … FOR UPDATE); SQLite's writers queue for the
# database's write lock (BEGIN IMMEDIATE, busy timeout), so neither answers 503.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_updates_with_the_same_if_match_never_both_win():
    operator = OperatorFactory()
    ProviderFactory(provider_id="gh")
    clients = [client_for(operator) for _ in range(4)]
    tag = clients[0].get(f"{PROVIDERS}/gh")["ETag"]

    statuses = run_in_threads(
        4,
        lambda n: (
            clients[n].patch(f"{PROVIDERS}/gh", {"label": f"writer {n}"}, format="json", HTTP_IF_MATCH=tag).status_code
        ),
    )

    assert statuses == [200, 412, 412, 412]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_creates_of_one_id_give_one_201_and_409s():
    operator = OperatorFactory()
    clients = [client_for(operator) for _ in range(8)]
    body = {
        "id": "race",
        "label": "R",
        "type": "github",
        "credentials": {"type": "token", "content": {"accessToken": "t"}},
    }

    statuses = run_in_threads(8, lambda n: clients[n].post(PROVIDERS, body, format="json").status_code)

    assert statuses == [201] + [409] * 7
    assert Provider.objects.filter(provider_id="race").count() == 1


EMAIL_MAPPER = {
    "name": "email",
    "identity_provider_mapper": "oidc-user-attribute-idp-mapper",
    "config": {"claim": "email", "user_attribute": "email"},
}


def create_identity_provider(operator_client) -> str:
    body = {"alias": "idp", "display_name": "IdP", "provider_id": "oidc", "oidc_config": {"issuer": "https://i.test"}}
    assert operator_client.post("/api/identity-providers", body, format="json").status_code == 201
    return "/api/identity-providers/idp"


def test_adding_a_mapper_changes_the_identity_providers_etag(operator_client):
    idp = create_identity_provider(operator_client)
    stale = operator_client.get(idp)["ETag"]
    mapper = EMAIL_MAPPER
    assert operator_client.post(f"{idp}/mappers", mapper, format="json").status_code == 201

    wipe = operator_client.patch(idp, {"mappers": []}, format="json", HTTP_IF_MATCH=stale)

    assert wipe.status_code == 412
    assert operator_client.get(f"{idp}/mappers").json()[0]["name"] == "email"
    assert operator_client.get(idp)["ETag"] != stale


def test_mappers_carry_an_etag_and_honour_if_match(operator_client):
    idp = create_identity_provider(operator_client)
    mapper = EMAIL_MAPPER
    created = operator_client.post(f"{idp}/mappers", mapper, format="json")
    path = f"{idp}/mappers/{created.json()['id']}"
    stale = created["ETag"]
    assert operator_client.get(path)["ETag"] == stale
    changed = operator_client.patch(path, {"config": {"claim": "mail", "user_attribute": "email"}}, format="json")

    refused = operator_client.patch(path, {"name": "mine"}, format="json", HTTP_IF_MATCH=stale)
    refused_delete = operator_client.delete(path, HTTP_IF_MATCH=stale)

    assert changed["ETag"] != stale
    assert (refused.status_code, refused_delete.status_code) == (412, 412)
    assert operator_client.get(path).json()["name"] == "email"
    assert operator_client.delete(path, HTTP_IF_MATCH=changed["ETag"]).status_code == 204


def test_credential_rollback_changes_the_providers_etag(operator_client):
    body = {
        "id": "gh",
        "label": "GH",
        "type": "github",
        "credentials": {"type": "token", "content": {"accessToken": "a"}},
    }
    operator_client.post(PROVIDERS, body, format="json")
    second = {"credentials": {"type": "token", "content": {"accessToken": "b"}}}
    operator_client.patch(f"{PROVIDERS}/gh", second, format="json")
    stale = operator_client.get(f"{PROVIDERS}/gh")["ETag"]
    version = operator_client.get(f"{PROVIDERS}/gh/credentials").json()["history"][0]["id"]

    rolled_back = operator_client.post(f"{PROVIDERS}/gh/credentials/rollback", {"version": version}, format="json")

    assert rolled_back.status_code == 200
    assert rolled_back["ETag"] != stale
    assert (
        operator_client.patch(f"{PROVIDERS}/gh", {"label": "x"}, format="json", HTTP_IF_MATCH=stale).status_code == 412
    )
