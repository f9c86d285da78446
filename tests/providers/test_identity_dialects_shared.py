"""What the three identity-provider dialects (canonical `/api/identity-providers`, `/api/idps` and
JSON:API `/api/identity_providers`) do alike, each answering in its own shape and field names: an
unknown or malformed id is a 404 in the dialect's error shape, a missing field or a bad URL is a 400
naming the field as the dialect spells it, a taken name is a 409, updates keep the stored secret
unless a new one is sent, a delete removes everything, and nothing is served without a token.
The dialects themselves are described in `tests/providers/dialects.py`."""

import pytest
from rest_framework.test import APIClient

from providers.models import IdentityProvider, IdentityProviderDomain, IdentityProviderMapper, Provider

from .dialects import DIALECTS, Dialect


def each_dialect(cases=lambda dialect: [()], where=lambda dialect: True):
    """Parameters (dialect, *case) for each dialect and each of its cases, with ids `dialect-case`."""
    return [
        pytest.param(dialect, *case, id="-".join([dialect.name, *map(str, case)]))
        for dialect in DIALECTS
        if where(dialect)
        for case in cases(dialect)
    ]


def stored() -> IdentityProvider:
    return IdentityProvider.objects.select_related("provider").get()


@pytest.mark.parametrize(
    "dialect,resource_id,method",
    each_dialect(lambda d: [(rid, m) for rid in d.invalid_ids for m in ("get", d.update_method, "delete")]),
)
def test_unknown_or_malformed_id_is_a_404_in_the_dialects_shape(operator_client, dialect: Dialect, resource_id, method):
    dialect.create(operator_client)
    body = (
        dialect.update_body(resource_id, **{dialect.name_field: "Changed"}) if method == dialect.update_method else None
    )

    response = dialect.send(operator_client, method, f"/{resource_id}", body)

    errors = dialect.errors(response, 404)
    assert set(errors) == {""} and errors[""], errors
    assert IdentityProvider.objects.count() == 1
    assert stored().provider.label != "Changed"


@pytest.mark.parametrize("dialect,field", each_dialect(lambda d: [(field,) for field in d.required]))
def test_missing_required_field_is_a_400_naming_it(operator_client, dialect: Dialect, field):
    response = dialect.send(operator_client, "post", body=dialect.create_body(**{field: None}))

    assert set(dialect.errors(response, 400)) == {dialect.ref(field)}
    assert not Provider.objects.exists()


@pytest.mark.parametrize("dialect,field", each_dialect(lambda d: [(field,) for field in d.url_fields]))
def test_bad_url_is_a_400_naming_the_field_as_the_dialect_spells_it(operator_client, dialect: Dialect, field):
    response = dialect.send(operator_client, "post", body=dialect.create_body(**{field: "not a url"}))

    errors = dialect.errors(response, 400)
    assert set(errors) == {dialect.ref(field)}, errors
    assert "Enter a valid URL." in errors[dialect.ref(field)]
    assert not Provider.objects.exists()


@pytest.mark.parametrize("dialect", each_dialect(where=lambda d: d.duplicate_field))
def test_the_same_name_twice_is_a_409_naming_it(operator_client, dialect: Dialect):
    dialect.create(operator_client)

    response = dialect.send(operator_client, "post", body=dialect.create_body(**{dialect.name_field: "Again"}))

    errors = dialect.errors(response, 409)
    assert set(errors) == {"", dialect.ref(dialect.duplicate_field)}, errors
    assert "already exists" in errors[""]
    assert Provider.objects.count() == 1
    assert stored().provider.label != "Again"


@pytest.mark.parametrize(
    "dialect,secret_sent",
    each_dialect(lambda d: [("nothing",)] + ([("the-mask",)] if d.secret_shown else [])),
)
def test_an_update_keeps_the_stored_secret(operator_client, dialect: Dialect, secret_sent):
    resource_id = dialect.create(operator_client)
    fields = {dialect.name_field: "Renamed"}
    if secret_sent == "the-mask":  # what reads show, sent back as it is
        fields[dialect.secret_field] = dialect.secret_shown

    response = dialect.send(
        operator_client, dialect.update_method, f"/{resource_id}", dialect.update_body(resource_id, **fields)
    )

    assert response.status_code == 200, response.content
    if dialect.update_reply is None:
        assert dialect.value(response, dialect.name_field) == "Renamed"
        assert dialect.value(response, dialect.secret_field) == dialect.secret_shown
    else:
        assert response.json() == dialect.update_reply
    identity = stored()
    assert identity.provider.label == "Renamed"
    assert identity.client_secret == dialect.secret
    read = dialect.send(operator_client, "get", f"/{resource_id}")
    assert dialect.value(read, dialect.name_field) == "Renamed"
    if dialect.secret_shown is None:
        with pytest.raises(KeyError):
            dialect.value(read, dialect.secret_field)
    else:
        assert dialect.value(read, dialect.secret_field) == dialect.secret_shown
    assert dialect.secret not in response.content.decode() + read.content.decode()


@pytest.mark.parametrize("dialect", each_dialect())
def test_a_new_secret_replaces_the_stored_one(operator_client, dialect: Dialect):
    resource_id = dialect.create(operator_client)
    body = dialect.update_body(resource_id, **{dialect.secret_field: "rotated"})

    response = dialect.send(operator_client, dialect.update_method, f"/{resource_id}", body)

    assert response.status_code == 200, response.content
    assert "rotated" not in response.content.decode()
    assert stored().client_secret == "rotated"


@pytest.mark.parametrize("dialect", each_dialect())
def test_delete_removes_the_configuration_its_domains_and_mappers(operator_client, dialect: Dialect):
    resource_id = dialect.create(operator_client)
    identity = stored()
    IdentityProviderDomain.objects.get_or_create(identity=identity, domain="corp.test")
    IdentityProviderMapper.objects.create(identity=identity, name="email", mapper_type="oidc-user-attribute-idp-mapper")
    status, reply = dialect.delete_reply

    response = dialect.send(operator_client, "delete", f"/{resource_id}")

    assert response.status_code == status, response.content
    if reply is None:
        assert not response.content
    else:
        assert response.json() == reply
    assert not Provider.objects.exists()
    assert not IdentityProvider.objects.exists()
    assert not IdentityProviderDomain.objects.exists() and not IdentityProviderMapper.objects.exists()
    dialect.errors(dialect.send(operator_client, "get", f"/{resource_id}"), 404)


def anonymous_requests(dialect: Dialect):
    requests = [("create", "post", "", "other"), ("detail", "get", "/{id}", None)]
    requests += [("update", dialect.update_method, "/{id}", "Changed"), ("delete", "delete", "/{id}", None)]
    if dialect.name != "idps":  # the /api/idps list is the public login list
        requests.insert(0, ("list", "get", "", None))
    return requests


@pytest.mark.parametrize("dialect,request_name,method,path,name", each_dialect(lambda d: anonymous_requests(d)))
def test_without_a_token_it_is_401_in_the_dialects_shape(
    operator_client, dialect: Dialect, request_name, method, path, name
):
    resource_id = dialect.create(operator_client)
    label = stored().provider.label
    body = None
    if request_name == "create":
        body = dialect.create_body(**{"alias" if dialect.name == "canonical" else dialect.name_field: name})
    elif request_name == "update":
        body = dialect.update_body(resource_id, **{dialect.name_field: name})

    response = dialect.send(APIClient(), method, path.format(id=resource_id), body)

    errors = dialect.errors(response, 401)
    assert set(errors) == {""} and errors[""], errors
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert dialect.secret not in response.content.decode()
    identity = stored()
    assert identity.provider.label == label
    assert identity.client_secret == dialect.secret
