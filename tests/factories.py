import json

import factory
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import OPERATORS, PROJECT_OWNERS
from providers.models import Credential, Project, Provider
from providers.services import credential_fingerprint


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    password = factory.django.Password("pw-for-tests-1")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        for name in extracted or []:
            self.groups.add(Group.objects.get(name=name))


class OperatorFactory(UserFactory):
    """A member of `access_token_manager`."""

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        self.groups.add(Group.objects.get(name=OPERATORS))


class ProjectOwnerFactory(UserFactory):
    """A member of `project_owner` (owning projects is set on each project)."""

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        self.groups.add(Group.objects.get(name=PROJECT_OWNERS))


class ProviderFactory(factory.django.DjangoModelFactory):
    """A git provider with a token, written straight to the tables (services have their own tests)."""

    class Meta:
        model = Provider
        skip_postgeneration_save = True

    provider_id = factory.Sequence(lambda n: f"provider-{n:05d}")
    label = factory.Sequence(lambda n: f"Provider {n}")
    type = "github"
    base_url = "https://github.com"
    api_base_url = "https://api.github.com"

    @factory.post_generation
    def credential(self, create, extracted, **kwargs):
        if extracted is False:
            return
        CredentialFactory(provider=self, **kwargs)


class CredentialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Credential
        exclude = ["content"]

    provider = factory.SubFactory(ProviderFactory, credential=False)
    type = "token"
    content = factory.Sequence(lambda n: {"accessToken": f"factory-token-{n}"})
    secret = factory.LazyAttribute(lambda c: json.dumps(c.content))
    fingerprint = factory.LazyAttribute(lambda c: credential_fingerprint(c.content))


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    project_id = factory.Sequence(lambda n: f"project-{n:05d}")
    name = factory.Sequence(lambda n: f"Project {n}")
    repository_path = factory.LazyAttribute(lambda p: f"acme/{p.project_id}")

    @factory.post_generation
    def owners(self, create, extracted, **kwargs):
        if extracted:
            self.owners.set(extracted)
