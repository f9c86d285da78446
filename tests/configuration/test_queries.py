"""A plan's queries are per batch of objects, not per object: the same for 3 objects of each kind
as for 30 (unchanged, changed ones are checked and written through the services)."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import scoping
from providers.identity.services import MapperInput, identity_provider_create
from providers.services import CredentialInput, project_create, provider_create

from .helpers import exported, plan, workspace

pytestmark = pytest.mark.django_db


def fill(ws, count: int) -> None:
    Group.objects.get_or_create(name="devs")  # a group mapper's check looks its group up
    with scoping.within(ws.pk):
        for n in range(count):
            provider = provider_create(
                actor=None,
                provider_id=f"git-{n:03d}",
                label=f"Git {n}",
                type="gitlab",
                credentials=CredentialInput(type="token", content={"accessToken": f"token-{n}"}),
            )
            identity_provider_create(
                actor=None,
                alias=f"idp-{n:03d}",
                display_name=f"IdP {n}",
                protocol="oidc",
                data={"issuer": f"https://sso{n}.acme.test", "client_id": "registry"},
                client_secret=f"secret-{n}",
                domains=[f"d{n}.acme.test"],
                mappers=[
                    MapperInput(
                        name="devs",
                        mapper_type="oidc-advanced-group-idp-mapper",
                        config={"claim": "groups", "claim_value": "devs", "group": "devs"},
                    ),
                    *(
                        MapperInput(
                            name=f"m{i}",
                            mapper_type="oidc-user-attribute-idp-mapper",
                            config={"claim": f"c{i}", "user_attribute": f"a{i}"},
                        )
                        for i in range(5)
                    ),
                ],
            )
            project_create(actor=None, project_id=f"project-{n:03d}", name=f"Project {n}", provider=provider)


def queries_of_a_no_change_plan(count: int) -> int:
    ws = workspace(f"workspace-{count}")
    fill(ws, count)
    text = exported(ws)
    with CaptureQueriesContext(connection) as captured:
        result = plan(ws, text)
    assert result.changes == [] and result.errors == []
    assert result.counts()["unchanged"] == 3 * count
    return len(captured)


def test_a_plan_reads_per_batch_not_per_object():
    small, large = queries_of_a_no_change_plan(3), queries_of_a_no_change_plan(30)
    assert small == large
    # git providers and which are identity providers; identity providers, their domains, mappers; the
    # projects' linked providers and which are identity providers; projects
    assert large == 8, large
