"""References never cross workspaces: a project links only a git provider of its own workspace,
refused in the service (the model's `clean()`) and through the API, in the same words as a provider
that does not exist, and by the database itself (a trigger) for a write that goes past both."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Workspace
from providers import services
from providers.models import Project
from tests.factories import ProjectFactory, ProviderFactory

INVALID = "Choose an existing git provider."


@pytest.fixture
def acme(db):
    return Workspace.objects.create(name="acme", display_name="ACME")


def test_the_service_refuses_a_provider_of_another_workspace(operator, acme):
    other = ProviderFactory(provider_id="gh")  # the default workspace's
    project = ProjectFactory(project_id="shop", workspace=acme)

    with pytest.raises(ValidationError) as refused:
        services.project_update(project=project, actor=operator, data={"provider": other})

    assert refused.value.message_dict == {"provider": [INVALID]}
    assert Project.objects.get(pk=project.pk).provider is None


def test_a_provider_of_the_same_workspace_is_linked(operator, acme):
    own = ProviderFactory(provider_id="gh", workspace=acme)
    project = ProjectFactory(project_id="shop", workspace=acme)

    services.project_update(project=project, actor=operator, data={"provider": own})

    assert Project.objects.get(pk=project.pk).provider == own


def test_the_api_answers_as_for_a_provider_that_does_not_exist(operator_client, acme):
    ProviderFactory(provider_id="gh")
    ProjectFactory(project_id="shop", workspace=acme)

    response = operator_client.patch(
        "/api/workspaces/acme/backend/projects/shop", {"repository": {"providerId": "gh"}}, format="json"
    )

    assert response.status_code == 400  # the lookup is the workspace's: as for an id nobody has
    assert response.json() == {"repository.providerId": ["No provider with id “gh”."]}
    assert Project.objects.get(project_id="shop").provider is None


def test_the_database_refuses_a_provider_of_another_workspace_too(acme):
    other = ProviderFactory(provider_id="gh")  # the default workspace's
    own = ProviderFactory(provider_id="gl", workspace=acme)
    project = ProjectFactory(project_id="shop", workspace=acme, provider=own)

    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=project.pk).update(provider=other)  # past the service and the model
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.bulk_create([Project(project_id="cart", name="Cart", workspace=acme, provider=other)])

    assert Project.objects.get(pk=project.pk).provider == own
    assert not Project.objects.filter(project_id="cart").exists()
