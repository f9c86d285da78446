"""The identity-provider admin form validates with the service's own rules on copies of the rows:
a refused form writes nothing (not even to roll it back) and names each problem once."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.models import IdentityProvider
from tests.factories import ProviderFactory

from .test_identity_admin import ADD, change_url, existing, form_data

WRITES = ("INSERT", "UPDATE", "DELETE")


def writes_of(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]


def test_a_refused_add_writes_nothing_and_names_the_problem_once(client, operator):
    client.force_login(operator)

    with CaptureQueriesContext(connection) as queries:
        response = client.post(ADD, form_data(issuer=""))

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("Give the issuer (to discover the endpoints) or the authorization and token URLs.") == 1
    assert [sql for sql in writes_of(queries) if "django_session" not in sql] == []
    assert not IdentityProvider.objects.exists()


def test_an_alias_taken_by_a_git_provider_is_an_error_on_the_alias(client, operator):
    ProviderFactory(provider_id="corp-oidc")
    client.force_login(operator)

    with CaptureQueriesContext(connection) as queries:
        response = client.post(ADD, form_data())

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["alias"] == ["An identity provider or provider with alias “corp-oidc” already exists."]
    assert [sql for sql in writes_of(queries) if "django_session" not in sql] == []
    assert not IdentityProvider.objects.exists()


def test_a_refused_change_leaves_the_rows_as_they_were(client, operator):
    identity = existing()
    client.force_login(operator)
    data = form_data(issuer="https://elsewhere.test/realms/main", client_secret="")
    data.pop("alias")
    data.pop("protocol")

    with CaptureQueriesContext(connection) as queries:
        response = client.post(change_url(identity), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["client_secret"] == [
        "Changing the token endpoint or issuer requires sending the client secret again."
    ]
    assert [sql for sql in writes_of(queries) if "django_session" not in sql] == []
    identity.refresh_from_db()
    assert identity.issuer == "https://sso.corp.test/realms/main"
    assert identity.client_secret == "stored-secret"
