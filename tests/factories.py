import json
import secrets

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import User
from accounts.roles import OPERATORS, PROJECT_OWNERS
from providers.api.identity.examples import EXAMPLE_CERTIFICATE
from providers.catalog import OIDC, SAML, identity_provider_type
from providers.identity.discovery import certificates_expire_at
from providers.models import (
    Credential,
    IdentityProvider,
    IdentityProviderDomain,
    IdentityProviderMapper,
    Project,
    Provider,
)
from providers.services import credential_fingerprint


class ModelFactory(factory.django.DjangoModelFactory):
    """The factories' base: what a post-generation hook changes, it saves itself."""

    class Meta:
        abstract = True
        skip_postgeneration_save = True


class UserFactory(ModelFactory):
    class Meta:
        model = User

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


class ProviderFactory(ModelFactory):
    """A git provider with a token, written straight to the tables (services have their own tests)."""

    class Meta:
        model = Provider

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


class CredentialFactory(ModelFactory):
    class Meta:
        model = Credential
        exclude = ["content"]

    provider = factory.SubFactory(ProviderFactory, credential=False)
    type = "token"
    content = factory.Sequence(lambda n: {"accessToken": f"factory-token-{n}"})
    secret = factory.LazyAttribute(lambda c: json.dumps(c.content))
    fingerprint = factory.LazyAttribute(lambda c: credential_fingerprint(c.content))


class ProjectFactory(ModelFactory):
    class Meta:
        model = Project

    project_id = factory.Sequence(lambda n: f"project-{n:05d}")
    name = factory.Sequence(lambda n: f"Project {n}")
    repository_path = factory.LazyAttribute(lambda p: f"acme/{p.project_id}")

    @factory.post_generation
    def owners(self, create, extracted, **kwargs):
        if extracted:
            self.owners.set(extracted)


class IdentityProviderFactory(ModelFactory):
    """An identity provider: the provider row (alias, display name, the type its protocol and preset
    give) and its configuration, written straight to the tables (the create service and the dialects'
    create endpoints have their own tests). By default an OIDC provider with a client id, a client
    secret, an issuer and its endpoints; `saml=True` for a SAML one with a real signing certificate.

    `domains=[...]` adds unverified domains (the provider is then `pending`); `mappers=[{...}, ...]`
    adds mappers with `IdentityProviderMapperFactory`'s defaults for what each dict leaves out."""

    class Meta:
        model = IdentityProvider

    class Params:
        alias = factory.Sequence(lambda n: f"idp-{n:05d}")
        display_name = factory.LazyAttribute(lambda o: o.alias)
        enabled = True
        base = "https://sso.corp.test/realms/main"
        saml = factory.Trait(
            protocol=SAML,
            client_id="",
            client_secret=None,
            issuer="",
            authorization_url="",
            token_url="",
            entity_id="https://idp.corp.test/metadata",
            single_sign_on_service_url="https://idp.corp.test/sso",
            signing_certificate=EXAMPLE_CERTIFICATE,
        )

    provider = factory.SubFactory(
        ProviderFactory,
        credential=False,
        provider_id=factory.SelfAttribute("..alias"),
        label=factory.SelfAttribute("..display_name"),
        enabled=factory.SelfAttribute("..enabled"),
        type=factory.LazyAttribute(
            lambda p: identity_provider_type(
                protocol=p.factory_parent.protocol, known_provider=p.factory_parent.known_provider or None
            )
        ),
        base_url="",
        api_base_url="",
    )
    protocol = OIDC
    known_provider = ""
    client_id = "registry"
    client_secret = factory.Sequence(lambda n: f"idp-client-secret-{n}")
    client_secret_updated_at = factory.LazyAttribute(lambda o: timezone.now() if o.client_secret else None)
    issuer = factory.SelfAttribute("base")
    authorization_url = factory.LazyAttribute(lambda o: f"{o.base}/auth")
    token_url = factory.LazyAttribute(lambda o: f"{o.base}/token")
    signing_certificate = ""
    certificate_expires_at = factory.LazyAttribute(
        lambda o: certificates_expire_at(o.signing_certificate) if o.signing_certificate else None
    )
    disabled_at = factory.LazyAttribute(lambda o: None if o.enabled else timezone.now())
    verification_token = factory.LazyFunction(lambda: secrets.token_urlsafe(12))

    @factory.post_generation
    def domains(self, create, extracted, **kwargs):
        if not extracted:
            return
        IdentityProviderDomain.objects.bulk_create(
            [IdentityProviderDomain(identity=self, domain=domain) for domain in extracted]
        )
        self.status = IdentityProvider.Status.PENDING
        self.save(update_fields=["status"])

    @factory.post_generation
    def mappers(self, create, extracted, **kwargs):
        for fields in extracted or []:
            IdentityProviderMapperFactory(identity=self, **fields)


class IdentityProviderMapperFactory(ModelFactory):
    """A mapper copying the `email` claim into the user's e-mail; `identity` defaults to a new OIDC provider."""

    class Meta:
        model = IdentityProviderMapper

    identity = factory.SubFactory(IdentityProviderFactory)
    name = factory.Sequence(lambda n: f"mapper-{n}")
    mapper_type = "oidc-user-attribute-idp-mapper"
    config = factory.LazyFunction(lambda: {"claim": "email", "user_attribute": "email"})
