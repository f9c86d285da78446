import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.backends import RegistryModelBackend
from accounts.models import User
from tests.factories import OperatorFactory, ProjectOwnerFactory, UserFactory


@pytest.mark.django_db
def test_permissions_are_django_s_own_in_one_query():
    direct = UserFactory(username="direct")
    direct.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    owner_with_extra = ProjectOwnerFactory(username="owner-extra")
    owner_with_extra.user_permissions.add(Permission.objects.get(codename="view_project"))  # also from the group
    users = [
        OperatorFactory(),
        ProjectOwnerFactory(),
        owner_with_extra,
        direct,
        UserFactory(),
        UserFactory(is_superuser=True),
        UserFactory(is_active=False, is_superuser=True),
    ]

    for user in users:
        expected = ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))
        fresh = User.objects.get(pk=user.pk)
        with CaptureQueriesContext(connection) as ctx:
            assert RegistryModelBackend().get_all_permissions(fresh) == expected
            assert RegistryModelBackend().get_all_permissions(fresh) == expected  # cached on the user
        assert len(ctx.captured_queries) == (1 if fresh.is_active else 0)
    assert RegistryModelBackend().get_all_permissions(users[0], obj=users[1]) == set()


@pytest.mark.django_db
def test_token_lookup_brings_the_user_and_its_permissions_in_one_query():
    from accounts.backends import api_token_with_permissions
    from accounts.models import hash_token
    from accounts.services import api_token_create

    direct = UserFactory(username="direct-token")
    direct.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    owner_with_extra = ProjectOwnerFactory(username="owner-token")
    owner_with_extra.user_permissions.add(Permission.objects.get(codename="view_project"))
    users = [OperatorFactory(), owner_with_extra, direct, UserFactory(), UserFactory(is_superuser=True)]

    for user in users:
        token, raw = api_token_create(user=user, name="t")
        with CaptureQueriesContext(connection) as ctx:
            found = api_token_with_permissions(hash_token(raw))
            assert found is not None
            permissions = found.user.get_all_permissions()
            may_view = found.user.has_perm("providers.view_provider")
        assert may_view == User.objects.get(pk=user.pk).has_perm("providers.view_provider")
        assert len(ctx.captured_queries) == (1 if not user.is_superuser else 2)  # superusers: every permission
        stored = User.objects.get(pk=user.pk)
        assert permissions == ModelBackend().get_all_permissions(stored)
        assert {f.attname: getattr(found.user, f.attname) for f in User._meta.concrete_fields} == {
            f.attname: getattr(stored, f.attname) for f in User._meta.concrete_fields
        }
        assert (found.pk, found.user_id, found.revoked_at, found.expires_at) == (token.pk, user.pk, None, None)
    assert api_token_with_permissions(hash_token("prt_unknown")) is None


@pytest.mark.django_db
def test_an_api_read_with_a_token_costs_two_queries(settings):
    from rest_framework.test import APIClient

    from accounts.services import api_token_create
    from tests.factories import ProviderFactory

    settings.API_TOKEN_LAST_USED_RESOLUTION = 60
    ProviderFactory(provider_id="gh-counted")
    _, raw = api_token_create(user=OperatorFactory(), name="t")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/backend/providers/gh-counted").status_code == 200  # records last use

    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/backend/providers/gh-counted")

    assert response.status_code == 200
    queries = [query["sql"][:120] for query in ctx.captured_queries]
    assert len(queries) == 2, queries  # the token with its user and permissions, then the row
