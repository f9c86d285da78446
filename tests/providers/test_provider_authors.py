"""A provider's `createdBy`/`updatedBy` once their user is gone: null in the read, and the
OpenAPI document says they may be."""

import yaml

from accounts.models import User
from tests.bodies import git_provider_body
from tests.factories import OperatorFactory

from ..conftest import client_for


def test_authors_of_a_provider_read_null_once_their_user_is_deleted(db, client):
    author = OperatorFactory(username="leaver")
    assert (
        client_for(author).post("/api/backend/providers", git_provider_body("gh", token="t"), format="json").status_code
        == 201
    )
    User.objects.filter(pk=author.pk).delete()
    reader = client_for(OperatorFactory(username="stayer"))

    read = reader.get("/api/backend/providers/gh").json()

    assert (read["createdBy"], read["updatedBy"]) == (None, None)
    schema = yaml.safe_load(client.get("/api/schema/").content)
    properties = schema["components"]["schemas"]["Provider"]["properties"]
    assert properties["createdBy"].get("nullable") is True
    assert properties["updatedBy"].get("nullable") is True
