"""What the backend providers API tests (tests/providers/test_api_*.py) share: the endpoint, the
reference document's create example, and a valid create body."""

from providers.api.backend.serializers import REFERENCE_PROVIDER_EXAMPLE
from tests.bodies import git_provider_body

PROVIDERS = "/api/backend/providers"

# The reference document's example request (providers-api-git-providers.txt), with its braces
# restored: the portal's first example.
REFERENCE_CREATE = REFERENCE_PROVIDER_EXAMPLE.value


def provider_body(**overrides) -> dict:
    gitlab = "https://gitlab.acme.test"
    body = git_provider_body(
        "acme-gitlab",
        label="ACME GitLab",
        type="gitlab",
        urls={"base": gitlab, "apiBase": f"{gitlab}/api/v4"},
        credentials={"type": "userPass", "content": {"userName": "svc", "password": "pw-123"}},
    )
    return {**body, **overrides}
