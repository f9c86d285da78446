"""Reads are built by hand for speed; these hold each hand-built read equal to what DRF's generic
field walk over the same declared fields gives (the schema is generated from those fields)."""

from datetime import UTC, datetime

import pytest
from rest_framework import serializers

from providers import selectors
from providers.api.serializers import ProjectSerializer, ProviderSerializer
from providers.models import Credential, Provider
from tests.factories import OperatorFactory, ProjectFactory, ProviderFactory, UserFactory


def generic(serializer_class, instance) -> dict:
    return serializers.ModelSerializer.to_representation(serializer_class(), instance)


@pytest.mark.django_db
def test_provider_reads_equal_the_declared_fields():
    operator = OperatorFactory(username="creator")
    full = ProviderFactory(provider_id="full", description="Team GitHub", created_by=operator, updated_by=operator)
    Credential.objects.filter(provider=full).update(expires_at=datetime(2027, 1, 2, 3, 4, 5, 678901, tzinfo=UTC))
    Provider.objects.filter(pk=full.pk).update(
        last_tested_at=datetime(2026, 5, 6, tzinfo=UTC), last_test_ok=False, last_test_message="401 from GitHub"
    )
    ProviderFactory(provider_id="bare", credential=False, type="okta", base_url="", api_base_url="", enabled=False)
    ProjectFactory(provider=full)

    rows = list(selectors.provider_list().order_by("provider_id"))

    for provider in rows:
        assert ProviderSerializer().to_representation(provider) == generic(ProviderSerializer, provider)
    assert [ProviderSerializer().to_representation(p)["linkedProjects"] for p in rows] == [0, 1]


@pytest.mark.django_db
def test_project_reads_equal_the_declared_fields():
    owners = [UserFactory(username="b-owner"), UserFactory(username="a-owner")]
    ProjectFactory(project_id="linked", provider=ProviderFactory(), owners=owners, description="x")
    ProjectFactory(project_id="unlinked", repository_path="")

    for project in selectors.project_list(user=OperatorFactory()):
        assert ProjectSerializer().to_representation(project) == generic(ProjectSerializer, project)
