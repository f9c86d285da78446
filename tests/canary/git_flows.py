"""The git-provider canary flows: canary credentials stored, rotated and sent in failing requests
through the backend API and through the admin, with every response kept for the leak search."""

import json
from dataclasses import dataclass, field
from uuid import uuid4

from django.urls import reverse

from providers.models import Credential, Project, Provider
from tests.bodies import git_provider_body
from tests.canary.search import admin_client, new_canary, response_text
from tests.conftest import client_for
from tests.factories import ProjectFactory

PROVIDERS = "/api/backend/providers"
PROJECTS = "/api/backend/projects"


def token_body(provider_id: str, token: str, **overrides) -> dict:
    body = git_provider_body(
        provider_id, label=f"Canary GitHub {provider_id}", urls={"baseUrl": "", "apiBase": ""}, token=token
    )
    return {**body, **overrides}


def user_pass_body(provider_id: str, password: str, **overrides) -> dict:
    gitlab = "https://gitlab.canary.test"
    body = git_provider_body(
        provider_id,
        label=f"Canary GitLab {provider_id}",
        type="gitlab",
        urls={"base": gitlab, "apiBase": f"{gitlab}/api/v4"},
        credentials={"type": "userPass", "content": {"userName": "svc-ci", "password": password}},
    )
    return {**body, **overrides}


@dataclass
class Flow:
    """What one run of the API flow stored and what every response looked like."""

    token_provider: str
    user_pass_provider: str
    project: str
    first_token: str
    password: str
    rotated_token: str
    rejected: list[str]
    surfaces: list[tuple[str, str]] = field(default_factory=list)

    @property
    def secrets(self) -> list[str]:
        return [self.first_token, self.password, self.rotated_token, *self.rejected]


def run_api_flow(operator) -> Flow:
    """Create, rotate, fail and read through the API as an operator (bearer token)."""
    client = client_for(operator)
    suffix = uuid4().hex[:8]
    flow = Flow(
        token_provider=f"canary-gh-{suffix}",
        user_pass_provider=f"canary-gl-{suffix}",
        project=f"canary-project-{suffix}",
        first_token=new_canary("token"),
        password=new_canary("password"),
        rotated_token=new_canary("rotated"),
        rejected=[new_canary(f"rejected{n}") for n in range(12)],
    )
    surfaces = flow.surfaces
    rejected = iter(flow.rejected)

    def record(label: str, response, expected: int) -> None:
        assert response.status_code == expected, (label, response.status_code, response.content[:500])
        surfaces.append((label, response_text(response)))

    token_url = f"{PROVIDERS}/{flow.token_provider}"
    user_pass_url = f"{PROVIDERS}/{flow.user_pass_provider}"

    # Writes that succeed.
    record("POST provider (token)", client.post(PROVIDERS, token_body(flow.token_provider, flow.first_token)), 201)
    record(
        "POST provider (userPass)", client.post(PROVIDERS, user_pass_body(flow.user_pass_provider, flow.password)), 201
    )
    rotate = {
        "label": "Canary GitHub (rotated)",
        "credentials": {"type": "token", "content": {"accessToken": flow.rotated_token}},
    }
    record("PATCH provider (rotate credentials)", client.patch(token_url, rotate), 200)

    # Writes that fail while carrying a secret.
    record(
        "POST invalid URL",
        client.post(PROVIDERS, token_body("canary-bad-url", next(rejected), urls={"base": "not a url"})),
        400,
    )
    record("POST duplicate id", client.post(PROVIDERS, token_body(flow.token_provider, next(rejected))), 409)
    extra = token_body("canary-extra", "unused")
    extra["credentials"]["content"] = {"accessToken": next(rejected), "extra": "x"}
    record("POST unknown content field", client.post(PROVIDERS, extra), 400)
    wrong_type = token_body("canary-wrong-type", "unused")
    wrong_type["credentials"] = {"type": "userPass", "content": {"accessToken": next(rejected)}}
    record("POST content of another credential type", client.post(PROVIDERS, wrong_type), 400)
    not_string = token_body("canary-not-string", "unused")
    not_string["credentials"]["content"] = {"accessToken": [next(rejected)]}
    record("POST non-string secret", client.post(PROVIDERS, not_string), 400)
    not_object = token_body("canary-not-object", "unused")
    not_object["credentials"]["content"] = next(rejected)
    record("POST content not an object", client.post(PROVIDERS, not_object), 400)
    too_long = token_body("canary-too-long", next(rejected) + "x" * 16_400)
    record("POST over-long secret", client.post(PROVIDERS, too_long), 400)
    malformed = json.dumps(token_body("canary-malformed", next(rejected)))[:-2]
    record("POST malformed JSON", client.generic("POST", PROVIDERS, malformed, content_type="application/json"), 400)
    record(
        "PATCH new URLs + invalid credential type",
        client.patch(
            user_pass_url,
            {
                "urls": {"base": "https://gitlab.elsewhere.test", "apiBase": "https://gitlab.elsewhere.test/api/v4"},
                "credentials": {"type": "sshKey", "content": {"password": next(rejected)}},
            },
        ),
        400,
    )
    record(
        "PATCH id change + credentials",
        client.patch(
            token_url, {"id": "renamed", "credentials": {"type": "token", "content": {"accessToken": next(rejected)}}}
        ),
        400,
    )
    record(
        "PATCH invalid URL + credentials",
        client.patch(
            token_url,
            {
                "urls": {"apiBase": "ftp://x"},
                "credentials": {"type": "token", "content": {"accessToken": next(rejected)}},
            },
        ),
        400,
    )
    record(
        "PATCH unknown top-level field",
        client.patch(token_url, {"accessToken": next(rejected)}),
        400,
    )

    # A project linked to the token provider, then reads of everything.
    ProjectFactory(project_id=flow.project, owners=[operator])
    project_url = f"{PROJECTS}/{flow.project}"
    record(
        "PATCH project (link provider)",
        client.patch(project_url, {"repository": {"providerId": flow.token_provider, "path": "acme/canary"}}),
        200,
    )
    record("DELETE linked provider", client.delete(token_url), 409)

    for query in (
        "",
        "?type=github",
        "?type=gitlab",
        "?capability=git",
        "?enabled=true",
        "?search=canary",
        f"?search={flow.token_provider}",
        "?page_size=1",
    ):
        record(f"GET providers{query}", client.get(f"{PROVIDERS}{query}"), 200)
    record("GET provider detail (token)", client.get(token_url), 200)
    record("GET provider detail (userPass)", client.get(user_pass_url), 200)
    record("GET projects", client.get(PROJECTS), 200)
    record("GET projects?providerId", client.get(PROJECTS, {"providerId": flow.token_provider}), 200)
    record("GET project detail", client.get(project_url), 200)
    record("OPTIONS providers", client.options(PROVIDERS), 200)
    record("OPTIONS provider detail", client.options(token_url), 200)
    record("OPTIONS projects", client.options(PROJECTS), 200)
    record("OPTIONS project detail", client.options(project_url), 200)
    record("GET /api/schema/", client.get("/api/schema/"), 200)

    # Sanity: the secrets really are stored (the proof would be empty otherwise).
    stored = Credential.objects.get(provider__provider_id=flow.token_provider)
    assert json.loads(stored.secret) == {"accessToken": flow.rotated_token}
    stored = Credential.objects.get(provider__provider_id=flow.user_pass_provider)
    assert json.loads(stored.secret) == {"userName": "svc-ci", "password": flow.password}
    assert (
        not Provider.objects.filter(provider_id__startswith="canary-")
        .exclude(provider_id__in=[flow.token_provider, flow.user_pass_provider])
        .exists()
    )
    return flow


def admin_change_data(provider: Provider, **overrides) -> dict:
    data = {
        "label": provider.label,
        "description": provider.description,
        "type": provider.type,
        "enabled": "on",
        "base_url": provider.base_url,
        "api_base_url": provider.api_base_url,
        "credential_type": "",
        "access_token": "",
        "user_name": "",
        "password": "",
        "_save": "Save",
    }
    data.update(overrides)
    return data


@dataclass
class AdminRun:
    surfaces: list[tuple[str, str]]
    secrets: list[str]


def run_admin_flow(operator, flow: Flow) -> AdminRun:
    """Failed and successful admin writes with canaries, then every admin page for the data."""
    client = admin_client(operator)
    surfaces: list[tuple[str, str]] = []
    token_provider = Provider.objects.get(provider_id=flow.token_provider)
    user_pass_provider = Provider.objects.get(provider_id=flow.user_pass_provider)
    project = Project.objects.get(project_id=flow.project)
    failed_token, failed_password, failed_add, saved_token = (new_canary(f"admin{n}") for n in range(4))

    def get(label: str, url: str, **params):
        response = client.get(url, params)
        assert response.status_code == 200, (label, response.status_code)
        surfaces.append((label, response_text(response)))
        return response

    # Writes through the admin form.
    change_url = reverse("admin:providers_provider_change", args=[user_pass_provider.pk])
    response = client.post(
        change_url,
        admin_change_data(user_pass_provider, base_url="not a url", credential_type="token", access_token=failed_token),
    )
    assert response.status_code == 200 and response.context["adminform"].form.errors, "the form should fail"
    surfaces.append(("admin change POST (invalid URL + token)", response_text(response)))
    response = client.post(
        change_url, admin_change_data(user_pass_provider, credential_type="userPass", password=failed_password)
    )
    assert response.status_code == 200 and response.context["adminform"].form.errors, "the form should fail"
    surfaces.append(("admin change POST (password without user name)", response_text(response)))
    add_data = admin_change_data(
        user_pass_provider,
        api_base_url="javascript:alert(1)",
        credential_type="token",
        access_token=failed_add,
    )
    add_data["provider_id"] = "canary-admin-add"
    response = client.post(reverse("admin:providers_provider_add"), add_data)
    assert response.status_code == 200 and response.context["adminform"].form.errors, "the form should fail"
    surfaces.append(("admin add POST (invalid API URL + token)", response_text(response)))
    assert not Provider.objects.filter(provider_id="canary-admin-add").exists()

    token_change_url = reverse("admin:providers_provider_change", args=[token_provider.pk])
    response = client.post(
        token_change_url, admin_change_data(token_provider, credential_type="token", access_token=saved_token)
    )
    assert response.status_code == 302, response.content[:2000]
    assert json.loads(Credential.objects.get(provider=token_provider).secret) == {"accessToken": saved_token}
    response = client.get(response["Location"])  # the changelist with the success message
    surfaces.append(("admin changelist after save", response_text(response)))

    # Every page showing the data.
    index = get("admin index (recent actions)", reverse("admin:index"))
    assert flow.token_provider in index.content.decode(), "the recent actions should list the API's changes"
    get("admin providers app index", reverse("admin:app_list", args=["providers"]))
    changelist = reverse("admin:providers_provider_changelist")
    get("admin provider changelist", changelist)
    get("admin provider changelist (search by id)", changelist, q=flow.token_provider)
    get("admin provider changelist (filtered)", changelist, credential__type__exact="token")
    for provider in (token_provider, user_pass_provider):
        get(
            f"admin provider change {provider.provider_id}",
            reverse("admin:providers_provider_change", args=[provider.pk]),
        )
        get(
            f"admin provider history {provider.provider_id}",
            reverse("admin:providers_provider_history", args=[provider.pk]),
        )
        get(
            f"admin provider delete {provider.provider_id}",
            reverse("admin:providers_provider_delete", args=[provider.pk]),
        )
    get("admin provider add", reverse("admin:providers_provider_add"))
    get("admin project changelist", reverse("admin:providers_project_changelist"))
    get("admin project change", reverse("admin:providers_project_change", args=[project.pk]))
    get("admin project history", reverse("admin:providers_project_history", args=[project.pk]))
    get("admin project delete", reverse("admin:providers_project_delete", args=[project.pk]))
    get(
        "admin provider autocomplete",
        reverse("admin:autocomplete"),
        term="canary",
        app_label="providers",
        model_name="project",
        field_name="provider",
    )
    get("admin API token changelist", reverse("admin:accounts_apitoken_changelist"))

    return AdminRun(surfaces=surfaces, secrets=[*flow.secrets, failed_token, failed_password, failed_add, saved_token])
