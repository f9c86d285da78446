"""How the backend API is reached and described: session authentication needs CSRF, a
superuser has full access, the OpenAPI schema describes every endpoint and error, and Swagger UI is
served offline."""

import json

from tests.conftest import client_for
from tests.providers.api_helpers import PROVIDERS, REFERENCE_CREATE, provider_body


def test_openapi_schema_describes_every_endpoint_and_error():
    from rest_framework.test import APIClient

    response = APIClient().get("/api/schema/?format=json")

    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    assert set(paths["/api/backend/providers"]) >= {"get", "post"}
    assert set(paths["/api/backend/providers/{providerId}"]) >= {"get", "patch", "delete"}
    assert set(paths["/api/backend/projects/{projectId}"]) >= {"get", "patch"}
    create = paths["/api/backend/providers"]["post"]
    assert {"201", "400", "401", "403", "409"} <= set(create["responses"])
    assert set(paths["/api/backend/providers/{providerId}"]["delete"]["responses"]) >= {"204", "404", "409"}
    examples = create["requestBody"]["content"]["application/json"]["examples"]
    assert any(example["value"] == REFERENCE_CREATE for example in examples.values())
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_swagger_ui_is_served_offline(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn." not in html and "unpkg" not in html


def test_session_auth_requires_csrf(client, operator):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(operator)

    refused = csrf_client.post(PROVIDERS, json.dumps(provider_body()), content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]

    csrf_client.get("/admin/")
    token = csrf_client.cookies["csrftoken"].value
    accepted = csrf_client.post(
        PROVIDERS, json.dumps(provider_body()), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 201


def test_superuser_has_full_access(superuser):
    client = client_for(superuser)

    assert client.post(PROVIDERS, provider_body(), format="json").status_code == 201
    assert client.get(PROVIDERS).status_code == 200
