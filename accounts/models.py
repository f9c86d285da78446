import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import models as auth_models
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "prt_"

# The workspace every row belonged to before workspaces existed, and the one the un-prefixed API
# paths act on: created with this id by migration accounts.0005.
DEFAULT_WORKSPACE_ID = 1
DEFAULT_WORKSPACE_NAME = "default"
WORKSPACE_NAME_REGEX = r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$"
PUBLIC_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def generate_public_id() -> str:
    """`org_` and nine random base-36 characters, the form the JSON:API document shows (`org_76gsfs5gd`)."""
    return "org_" + "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(9))


class Workspace(models.Model):
    """A tenant: it owns providers, identity providers, projects, API tokens and audit events, and
    its members see only its own. `name` is the URL slug (`/api/workspaces/{workspaceName}/…`)."""

    name = models.CharField(
        max_length=63,
        validators=[
            RegexValidator(
                WORKSPACE_NAME_REGEX,
                "3–63 lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
            )
        ],
        help_text="The workspace's URL name, e.g. “acme”; cannot be changed later.",
    )
    display_name = models.CharField(max_length=200, help_text="What people see, e.g. “ACME Corporation”.")
    public_id = models.CharField(
        max_length=16,
        unique=True,
        default=generate_public_id,
        editable=False,
        help_text="The id other systems refer to it by (JSON:API's `organization`), e.g. “org_76gsfs5gd”.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="workspace_name_unique"),
            models.CheckConstraint(condition=models.Q(name__regex=WORKSPACE_NAME_REGEX), name="workspace_name_slug"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.name


class Membership(models.Model):
    """A user's role in one workspace. Members of the global groups (`access_token_manager`,
    `project_owner`) keep that role in every workspace; superusers see all. Given by hand (the
    workspace API, the admin) or by a sign-in, when a mapper of one of the workspace's identity
    providers names a global group (`via_signin`)."""

    class Role(models.TextChoices):
        OWNER = "owner", "owner"
        OPERATOR = "operator", "operator"
        PROJECT_OWNER = "project_owner", "project owner"
        VIEWER = "viewer", "viewer"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    via_signin = models.BooleanField(
        "granted at sign-in",
        default=False,
        help_text="Given by an identity provider's mapper: a later FORCE sign-in may change or remove it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workspace__name", "user__username"]
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace.name} ({self.get_role_display()})"


class User(AbstractUser):
    """The product's user; custom from the first migration so fields can be added later.
    `attributes` holds what identity-provider mappers set beyond the name and email columns
    (e.g. {"department": "sales"})."""

    attributes = models.JSONField(
        default=dict, blank=True, help_text='Set by sign-in mappers, e.g. {"department": "sales"}.'
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        ordering = ["username"]

    def has_perm(self, perm, obj=None):
        """As Django's, except that a request made with a role-limited API token asks the backends
        even for a superuser: Django's shortcut would grant a superuser's token every permission,
        past its role's cap (`RegistryModelBackend.has_perm`)."""
        if getattr(self, "_token_role", "") and self.is_active:
            return auth_models._user_has_perm(self, perm, obj)  # type: ignore[attr-defined]  # Django's backend loop
        return super().has_perm(perm, obj)


def hash_token(raw: str) -> str:
    """Tokens are 256-bit random values, so a single SHA-256 is enough to store them safely."""
    return hashlib.sha256(raw.encode()).hexdigest()


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiToken(models.Model):
    """A REST client's bearer token. Only its SHA-256 is stored; the value is shown once at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “CI pipeline”.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=12, editable=False, help_text="The first characters of the token, to recognise it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Leave empty for a token that does not expire.")
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    workspace = models.ForeignKey(
        Workspace,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_tokens",
        help_text="The workspace the token is limited to (its un-prefixed API paths act on it); empty: every "
        "workspace its user belongs to.",
    )
    role = models.CharField(
        max_length=20,
        choices=Membership.Role.choices,
        blank=True,
        help_text="At most this role's permissions, whatever its user may do; empty: its user's own. "
        "No higher than the user's role in the token's workspace.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"
        verbose_name_plural = "API tokens"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()
