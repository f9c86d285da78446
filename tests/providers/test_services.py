import json

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.models import Membership
from providers import services
from providers.models import Credential, Project, Provider
from tests.factories import OperatorFactory, ProjectFactory, ProviderFactory

TOKEN = services.CredentialInput("token", {"accessToken": "t-1"})


@pytest.mark.django_db
def test_provider_create_fills_public_default_urls_per_type():
    actor = OperatorFactory()
    expected = {
        "github": ("https://github.com", "https://api.github.com"),
        "gitlab": ("https://gitlab.com", "https://gitlab.com/api/v4"),
        "bitbucket": ("https://bitbucket.org", "https://api.bitbucket.org/2.0"),
        "azure-devops": ("https://dev.azure.com", "https://dev.azure.com"),
        "oidc": ("", ""),
    }

    for ptype, urls in expected.items():
        provider = services.provider_create(actor=actor, provider_id=ptype, label=ptype, type=ptype, credentials=TOKEN)
        assert (provider.base_url, provider.api_base_url) == urls


@pytest.mark.django_db
def test_provider_create_is_all_or_nothing():
    actor = OperatorFactory()

    with pytest.raises(ValidationError) as excinfo:
        services.provider_create(
            actor=actor,
            provider_id="gh",
            label="GH",
            type="github",
            credentials=services.CredentialInput("token", {"accessToken": "t", "bogus": "x"}),
        )

    assert "credentials.content.bogus" in excinfo.value.message_dict
    assert Provider.objects.count() == 0
    assert Credential.objects.count() == 0


@pytest.mark.django_db
def test_database_refuses_a_duplicate_provider_id_even_past_the_service():
    ProviderFactory(provider_id="gh")

    with pytest.raises(IntegrityError):
        Provider.objects.create(provider_id="gh", label="x", type="github")


@pytest.mark.django_db
def test_database_refuses_unsafe_ids_and_unknown_types():
    from django.db import transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Provider.objects.create(provider_id="a b", label="x", type="github")
    with pytest.raises(IntegrityError), transaction.atomic():
        Provider.objects.create(provider_id="ok", label="x", type="svn")


def test_fingerprint_is_keyed_and_stable():
    first = services.credential_fingerprint({"accessToken": "abc"})

    assert first == services.credential_fingerprint({"accessToken": "abc"})
    assert first != services.credential_fingerprint({"accessToken": "abd"})
    import hashlib

    assert hashlib.sha256(b'{"accessToken":"abc"}').hexdigest()[:16] not in first


@pytest.mark.django_db
def test_credential_replacement_keeps_one_row_and_changes_ciphertext():
    actor = OperatorFactory()
    provider = services.provider_create(actor=actor, provider_id="gh", label="GH", type="github", credentials=TOKEN)
    before = raw_secret()
    services.provider_update(
        provider=provider,
        actor=actor,
        data={},
        credentials=services.CredentialInput("token", {"accessToken": "t-2"}),
    )

    assert Credential.objects.count() == 1
    assert raw_secret() != before
    assert json.loads(Credential.objects.get().secret) == {"accessToken": "t-2"}


def raw_secret() -> bytes:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM providers_credential")
        return bytes(cursor.fetchone()[0])


@pytest.mark.django_db
def test_changing_type_moves_the_default_urls_so_credentials_are_needed_again():
    actor = OperatorFactory()
    provider = services.provider_create(actor=actor, provider_id="gh", label="GH", type="github", credentials=TOKEN)

    with pytest.raises(ValidationError) as excinfo:
        services.provider_update(
            provider=provider, actor=actor, data={"type": "gitlab", "base_url": "", "api_base_url": ""}
        )

    assert "credentials" in excinfo.value.message_dict
    provider.refresh_from_db()
    assert provider.type == "github"


@pytest.mark.django_db
def test_a_stored_empty_url_means_the_default_so_editing_the_label_needs_no_credentials():
    actor = OperatorFactory()
    provider = services.provider_create(actor=actor, provider_id="gh", label="GH", type="github", credentials=TOKEN)
    Provider.objects.filter(pk=provider.pk).update(base_url="", api_base_url="")  # e.g. rows imported in bulk
    provider.refresh_from_db()

    services.provider_update(provider=provider, actor=actor, data={"label": "Renamed"})

    provider.refresh_from_db()
    assert (provider.label, provider.base_url, provider.api_base_url) == (
        "Renamed",
        "https://github.com",
        "https://api.github.com",
    )
    with pytest.raises(ValidationError) as excinfo:
        services.provider_update(provider=provider, actor=actor, data={"api_base_url": "https://elsewhere.test"})
    assert "credentials" in excinfo.value.message_dict


@pytest.mark.django_db
def test_provider_delete_refuses_while_projects_use_it():
    actor = OperatorFactory()
    provider = ProviderFactory(provider_id="gh")
    ProjectFactory(project_id="p1", provider=provider)

    with pytest.raises(services.ConflictError) as excinfo:
        services.provider_delete(provider=provider, actor=actor)

    assert excinfo.value.related == ["p1"]
    assert Provider.objects.filter(pk=provider.pk).exists()


@pytest.mark.django_db
def test_project_editable_fields_by_role(owner, other_owner, operator, plain_user):
    project = ProjectFactory(owners=[owner])

    assert services.project_editable_fields(user=operator, project=project) == frozenset(services.PROJECT_FIELDS)
    assert services.project_editable_fields(user=owner, project=project) == services.PROJECT_OWNER_FIELDS
    assert services.project_editable_fields(user=other_owner, project=project) == frozenset()
    assert services.project_editable_fields(user=plain_user, project=project) == frozenset()


@pytest.mark.django_db
def test_project_update_refuses_forbidden_fields_without_writing(owner):
    project = ProjectFactory(owners=[owner], name="Before")

    with pytest.raises(services.FieldPermissionDenied) as excinfo:
        services.project_update(project=project, actor=owner, data={"name": "After", "description": "d"})

    assert excinfo.value.fields == ["name"]
    project.refresh_from_db()
    assert (project.name, project.description) == ("Before", "")


@pytest.mark.django_db
def test_demo_data_command_is_idempotent():
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    default = Provider.objects.filter(workspace__name="default")
    assert default.count() == 4
    assert set(default.values_list("type", flat=True)) == {"github", "gitlab", "bitbucket", "okta"}
    for name in ("acme", "globex"):  # the same ids in each, an operator of that workspace only
        assert sorted(Provider.objects.filter(workspace__name=name).values_list("provider_id", flat=True)) == [
            "github-cloud",
            "gitlab-onprem",
        ]
        assert Project.objects.get(workspace__name=name).provider.workspace.name == name
        assert Membership.objects.get(user__username=f"{name}-operator").workspace.name == name
    assert Credential.objects.count() == 8
