from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import DEFAULT_WORKSPACE_ID, Membership, User, Workspace
from accounts.roles import OPERATORS, PROJECT_OWNERS
from accounts.scoping import within
from providers import services
from providers.models import Project, Provider

USERS = [
    # username, password, superuser, group
    ("admin", "admin-demo-pass", True, None),
    ("operator", "operator-demo-pass", False, OPERATORS),
    ("owner", "owner-demo-pass", False, PROJECT_OWNERS),
    ("owner2", "owner2-demo-pass", False, PROJECT_OWNERS),
]

PROVIDERS: list[dict[str, Any]] = [
    {
        "provider_id": "github-cloud",
        "label": "Company GitHub",
        "type": "github",
        "credentials": services.CredentialInput("token", {"accessToken": "demo-github-token-not-real"}),
    },
    {
        "provider_id": "gitlab-onprem",
        "label": "GitLab on-premises",
        "type": "gitlab",
        "base_url": "https://gitlab.example.com",
        "api_base_url": "https://gitlab.example.com/api/v4",
        "credentials": services.CredentialInput("userPass", {"userName": "svc-ci", "password": "demo-password"}),
    },
    {
        "provider_id": "bitbucket-cloud",
        "label": "Bitbucket Cloud",
        "type": "bitbucket",
        "enabled": False,
        "credentials": services.CredentialInput("userPass", {"userName": "svc-bb", "password": "demo-app-password"}),
    },
    {
        "provider_id": "okta-corp",
        "label": "Okta (corporate login)",
        "type": "okta",
        "base_url": "https://example.okta.com",
        "api_base_url": "https://example.okta.com/api/v1",
        "credentials": services.CredentialInput("token", {"accessToken": "demo-okta-api-token"}),
    },
]

PROJECTS = [
    ("payments-api", "Payments API", "github-cloud", "acme/payments-api", ["owner"]),
    ("web-portal", "Web portal", "gitlab-onprem", "web/portal", ["owner"]),
    ("data-pipeline", "Data pipeline", None, "", ["owner2"]),
]


# Two tenants with an operator each (a member of that workspace only), and the same provider and
# project ids in both: signed in as one, nothing of the other shows.
WORKSPACES = [
    # name, display name, operator, password
    ("acme", "ACME Corporation", "acme-operator", "acme-demo-pass"),
    ("globex", "Globex Corporation", "globex-operator", "globex-demo-pass"),
]


class Command(BaseCommand):
    help = (
        "Load demo users, providers and projects, and two workspaces (acme, globex) with an operator "
        "each (idempotent: existing ones are left alone)."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        users = {}
        for username, password, superuser, group in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, is_staff=True, is_superuser=superuser)
                user.set_password(password)
                user.save()
            if group:
                user.groups.add(Group.objects.get(name=group))
            users[username] = user
        with within(DEFAULT_WORKSPACE_ID):
            self._providers_and_projects(users["operator"], PROVIDERS, PROJECTS, users)
        for name, display_name, username, password in WORKSPACES:
            workspace = Workspace.objects.filter(name=name).first() or Workspace.objects.create(
                name=name, display_name=display_name
            )
            operator = User.objects.filter(username=username).first()
            if operator is None:
                operator = User(username=username, is_staff=True)
                operator.set_password(password)
                operator.save()
            Membership.objects.get_or_create(workspace=workspace, user=operator, defaults={"role": "operator"})
            with within(workspace.pk):
                self._providers_and_projects(
                    operator,
                    [{**spec, "label": f"{display_name} {spec['label']}"} for spec in PROVIDERS[:2]],
                    [(p, f"{display_name} {n}", pr, path, []) for p, n, pr, path, _ in PROJECTS[:1]],
                    users,
                )
        self.stdout.write("Demo data ready. Sign in at http://127.0.0.1:8000/admin/ as:")
        for username, password, superuser, group in USERS:
            role = "superuser" if superuser else f"group {group}, every workspace"
            self.stdout.write(f"  {username:<15} / {password:<20} ({role})")
        for name, _, username, password in WORKSPACES:
            self.stdout.write(f"  {username:<15} / {password:<20} (operator of workspace {name} only)")

    @staticmethod
    def _providers_and_projects(actor, providers, projects, users) -> None:
        """Create what is missing in the workspace in scope."""
        for spec in providers:
            if not Provider.objects.filter(provider_id=spec["provider_id"]).exists():
                services.provider_create(actor=actor, **spec)
        for project_id, name, provider_id, path, owners in projects:
            if not Project.objects.filter(project_id=project_id).exists():
                services.project_create(
                    actor=actor,
                    project_id=project_id,
                    name=name,
                    provider=Provider.objects.filter(provider_id=provider_id).first() if provider_id else None,
                    repository_path=path,
                    owners=[users[o] for o in owners],
                )
