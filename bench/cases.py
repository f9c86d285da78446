"""What the harness measures (bench/run.py): the API's requests at one table size, next to the
floor's and the naive baseline's, the public list's revalidation, and the admin pages."""

import base64
import json
from dataclasses import dataclass


@dataclass
class Case:
    comparison: str
    variant: str  # product | floor | naive, or a table size when sizes are compared side by side
    request: object  # load.Request
    port: int | None = None  # another server than the main one


def cursor_at(position: str) -> str:
    """A DRF cursor pointing after `position` (the API's own format), for a page deep in the list."""
    return base64.b64encode(f"p={position}".encode()).decode()


def api_cases(size: str, token: str, providers: int, projects: int) -> list[Case]:
    from bench.load import Request
    from bench.seed import project_id, provider_id

    auth = {"Authorization": f"Bearer {token}"}
    write = {**auth, "Content-Type": "application/json"}
    some_provider = provider_id(providers // 2)
    deep = project_id(projects * 9 // 10)
    deep_page = projects * 9 // 10 // 50

    def create_body(variant: str):
        def body(n: int) -> bytes:
            new_id = f"bench-{variant}-{size.lower()}-{n}"
            credentials = {"type": "token", "content": {"accessToken": f"bench-token-{n}"}}
            if variant == "naive":
                return json.dumps(
                    {"provider_id": new_id, "label": "Created", "type": "github", "credentials": credentials}
                ).encode()
            return json.dumps({"id": new_id, "label": "Created", "type": "github", "credentials": credentials}).encode()

        return body

    def label_body(n: int) -> bytes:
        return json.dumps({"label": f"Label {n}"}).encode()

    def rotate_body(n: int) -> bytes:
        return json.dumps({"credentials": {"type": "token", "content": {"accessToken": f"bench-rotated-{n}"}}}).encode()

    cases = [
        ("providers list (page of 50)", "product", Request("GET", "/api/backend/providers?page_size=50", auth)),
        ("providers list (page of 50)", "floor", Request("GET", "/floor/providers")),
        ("providers list (page of 50)", "naive", Request("GET", "/naive/providers", auth)),
        ("provider detail", "product", Request("GET", f"/api/backend/providers/{some_provider}", auth)),
        ("provider detail", "floor", Request("GET", f"/floor/providers/{some_provider}")),
        ("provider detail", "naive", Request("GET", f"/naive/providers/{some_provider}", auth)),
        ("create with credentials", "product",
         Request("POST", "/api/backend/providers", write, create_body("product"), (201,))),
        ("create with credentials", "floor", Request("POST", "/floor/providers", write, create_body("floor"), (201,))),
        ("create with credentials", "naive",
         Request("POST", "/naive/providers", write, create_body("naive"), (201,))),
        ("PATCH label", "product", Request("PATCH", f"/api/backend/providers/{some_provider}", write, label_body)),
        ("PATCH label", "floor", Request("PATCH", f"/floor/providers/{some_provider}", write, label_body)),
        ("PATCH label", "naive", Request("PATCH", f"/naive/providers/{some_provider}", write, label_body)),
        # No naive variant: ModelSerializer's update would ignore the credentials, writing none of the rows.
        ("PATCH with credentials", "product",
         Request("PATCH", f"/api/backend/providers/{some_provider}", write, rotate_body)),
        ("PATCH with credentials", "floor", Request("PATCH", f"/floor/providers/{some_provider}", write, rotate_body)),
        ("projects list (page 1)", "product", Request("GET", "/api/backend/projects?page_size=50", auth)),
        ("projects list (page 1)", "floor", Request("GET", "/floor/projects")),
        ("projects list (page 1)", "naive", Request("GET", "/naive/projects", auth)),
        ("projects list (page at 90%)", "product",
         Request("GET", f"/api/backend/projects?page_size=50&cursor={cursor_at(deep)}", auth)),
        ("projects list (page at 90%)", "floor", Request("GET", f"/floor/projects?after={deep}")),
        ("projects list (page at 90%)", "naive", Request("GET", f"/naive/projects?page={deep_page}", auth)),
        ("public login list", "product", Request("GET", "/api/idps")),
        ("public login list", "floor", Request("GET", "/floor/idps")),
        ("public login list", "naive", Request("GET", "/naive/idps")),
        ("identity-provider detail", "product", Request("GET", "/api/identity-providers/idp-0003", auth)),
        ("identity-provider detail", "floor", Request("GET", "/floor/identity-providers/idp-0003")),
        ("identity-provider detail", "naive", Request("GET", "/naive/identity-providers/idp-0003", auth)),
        ("identity-provider mappers", "product", Request("GET", "/api/identity-providers/idp-0003/mappers", auth)),
        ("identity-provider mappers", "floor", Request("GET", "/floor/identity-providers/idp-0003/mappers")),
    ]  # fmt: skip
    return [Case(comparison, variant, request) for comparison, variant, request in cases]


def revalidation_case(port: int) -> Case:
    """The public list as a browser revalidates it: `If-None-Match` with the current ETag → 304."""
    import http.client

    from bench.load import Request

    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("GET", "/api/idps")
    response = connection.getresponse()
    response.read()
    etag = response.getheader("ETag")
    connection.close()
    return Case(
        "public login list", "product (304)", Request("GET", "/api/idps", {"If-None-Match": etag}, None, (304,))
    )


def admin_cases(session_key: str) -> list[Case]:
    from bench.load import Request
    from bench.seed import project_id
    from providers.models import Project

    cookie = {"Cookie": f"sessionid={session_key}"}
    project = Project.objects.get(project_id=project_id(100))
    autocomplete = "/admin/autocomplete/?app_label=providers&model_name=project&field_name=provider&term="
    pages = [
        ("admin: providers changelist", "/admin/providers/provider/"),
        ("admin: projects changelist", "/admin/providers/project/"),
        ("admin: project change form", f"/admin/providers/project/{project.pk}/change/"),
        # The start of an id, made of trigrams that are in nearly every id: the prefix range.
        ("admin: provider autocomplete", autocomplete + "git-00001"),
        # Inside an id, with a rare trigram ("777"): the trigram index, the same match at every size.
        ("admin: provider autocomplete, specific id", autocomplete + "0000777"),
        # Inside ids, every trigram common: the trigram index's worst case, which grows with the table.
        ("admin: provider autocomplete, common digits", autocomplete + "00001"),
    ]
    return [Case(name, "product", Request("GET", path, cookie)) for name, path in pages]


def admin_session() -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import User
    from bench import seed

    user = User.objects.get(username=seed.OPERATOR)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key
