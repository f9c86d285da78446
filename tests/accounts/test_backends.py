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
