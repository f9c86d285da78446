"""Running configuration as code the way its callers do: the services with the command line's
reference policy, and a workspace holding one object of every kind, built through the services."""

from pathlib import Path

from accounts import scoping
from accounts.models import Workspace
from providers.configuration import export as config_export
from providers.configuration.refs import RefPolicy
from providers.configuration.services import Plan, config_apply, config_plan
from providers.identity.services import MapperInput, identity_provider_create
from providers.services import CredentialInput, project_create, provider_create

from ..factories import EXAMPLE_CERTIFICATE

GITHUB_TOKEN = "ghp_config-canary-token-4d1f"
OKTA_SECRET = "okta-config-canary-secret-9b2e"


def workspace(name: str) -> Workspace:
    return Workspace.objects.create(name=name, display_name=name.upper())


def exported(ws: Workspace, **options) -> str:
    return "".join(config_export.export(workspace_id=ws.pk, workspace_name=ws.name, **options))


def policy(tmp_path: Path | None = None) -> RefPolicy:
    return RefPolicy.command_line(tmp_path / "config.yaml" if tmp_path else None)


def plan(ws: Workspace, text: str, tmp_path: Path | None = None) -> Plan:
    return config_plan(text, workspace_id=ws.pk, policy=policy(tmp_path))


def apply(ws: Workspace, text: str, tmp_path: Path | None = None, **options) -> Plan:
    return config_apply(text, workspace_id=ws.pk, policy=policy(tmp_path), **options)


def populate(ws: Workspace) -> None:
    """A git provider with a token, an OIDC identity provider (Okta preset, secret, domain, two
    mappers), a SAML one, and two projects (one linked)."""
    with scoping.within(ws.pk):
        github = provider_create(
            actor=None,
            provider_id="github-cloud",
            label="Company GitHub",
            type="github",
            credentials=CredentialInput(type="token", content={"accessToken": GITHUB_TOKEN}),
            description="Service account of the platform team.\nRotated yearly.",
        )
        identity_provider_create(
            actor=None,
            alias="okta",
            display_name="Okta",
            protocol="oidc",
            data={"known_provider": "okta", "issuer": "https://acme.okta.com/oauth2/default", "client_id": "0oa1"},
            client_secret=OKTA_SECRET,
            domains=["acme.test"],
            mappers=[
                MapperInput(
                    name="email",
                    mapper_type="oidc-user-attribute-idp-mapper",
                    config={"claim": "email", "user_attribute": "email"},
                ),
                MapperInput(
                    name="department",
                    mapper_type="oidc-user-attribute-idp-mapper",
                    config={"claim": "dept", "user_attribute": "department"},
                    sync_mode="FORCE",
                ),
            ],
        )
        identity_provider_create(
            actor=None,
            alias="corp-saml",
            display_name="Corporate SAML",
            protocol="saml",
            data={
                "entity_id": "https://idp.corp.test/metadata",
                "single_sign_on_service_url": "https://idp.corp.test/sso",
                "signing_certificate": EXAMPLE_CERTIFICATE,
            },
        )
        project_create(
            actor=None, project_id="payments-api", name="Payments API", provider=github, repository_path="acme/pay"
        )
        project_create(actor=None, project_id="data-pipeline", name="Data pipeline")
