"""Reads are built by hand from `.values()` rows for speed; these hold each one equal to what DRF's
generic field walk over the model instance gives (the schema is generated from those fields)."""

from datetime import UTC, datetime

import pytest
from rest_framework import serializers

from providers import selectors
from providers.api.backend.serializers import ProjectSerializer, ProviderSerializer
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

    models = list(selectors.provider_list().order_by("provider_id"))
    rows = list(selectors.provider_rows().order_by("provider_id"))

    reads = [ProviderSerializer().to_representation(row) for row in rows]
    assert reads == [generic(ProviderSerializer, provider) for provider in models]
    assert [read["linkedProjects"] for read in reads] == [0, 1]
    assert reads[0]["credentials"] is None and reads[1]["credentials"]["expiresAt"] == "2027-01-02T03:04:05.678901Z"


@pytest.mark.django_db
def test_project_reads_equal_the_declared_fields():
    owners = [UserFactory(username="b-owner"), UserFactory(username="a-owner")]
    ProjectFactory(project_id="linked", provider=ProviderFactory(), owners=owners, description="x")
    ProjectFactory(project_id="unlinked", repository_path="")

    operator = OperatorFactory()
    models = list(selectors.project_list(user=operator).order_by("project_id"))
    rows = selectors.with_owners(list(selectors.project_rows(user=operator).order_by("project_id")))

    reads = [ProjectSerializer().to_representation(row) for row in rows]
    assert reads == [generic(ProjectSerializer, project) for project in models]
    assert reads[0]["owners"] == ["a-owner", "b-owner"]
