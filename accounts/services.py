import json
from datetime import datetime
from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from . import audit, selectors
from .errors import ConflictError, violates
from .models import DEFAULT_WORKSPACE_ID, ApiToken, Membership, User, Workspace, generate_token, hash_token
from .roles import ROLE_RANK
from .scoping import within


@transaction.atomic
def api_token_issue(*, token: ApiToken) -> str:
    """Give an unsaved token (user, name, expiry set) its secret, save it and return the raw value,
    which is never stored and cannot be shown again."""
    raw = generate_token()
    token.key_hash = hash_token(raw)
    token.prefix = raw[:10]
    token.full_clean()
    token.save()
    return raw


def api_token_create(
    *,
    user: User,
    name: str,
    expires_at: datetime | None = None,
    workspace: Workspace | None = None,
    role: str = "",
) -> tuple[ApiToken, str]:
    token = ApiToken(user=user, name=name, expires_at=expires_at, workspace=workspace, role=role)
    api_token_check_limits(token)
    return token, api_token_issue(token=token)


def api_token_check_limits(token: ApiToken) -> None:
    """A token is limited to a workspace its user belongs to, and to a role (which needs a
    workspace) no higher than its user's there."""
    user, workspace = token.user, token.workspace
    if workspace is not None and not selectors.workspaces_visible(user=user).filter(pk=workspace.pk).exists():
        raise ValidationError({"workspace": [f"{user.get_username()} is not a member of this workspace."]})
    if not token.role:
        return
    if token.role not in ROLE_RANK:
        raise ValidationError({"role": [f"Expected one of: {', '.join(ROLE_RANK)}."]})
    if workspace is None:
        raise ValidationError({"role": ["A role limits a token within one workspace: choose the workspace too."]})
    highest = selectors.highest_role(user=user, workspace=workspace)
    if highest is None or ROLE_RANK[token.role] > ROLE_RANK[highest]:
        raise ValidationError({"role": [f"Higher than {user.get_username()}'s own role here ({highest or 'none'})."]})


def api_token_revoke(*, token: ApiToken, actor=None) -> ApiToken:
    """Revoke the token (idempotent) and record who did it in the admin history."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        if actor is not None and actor.is_authenticated:
            LogEntry.objects.log_actions(
                user_id=actor.pk,
                queryset=[token],
                action_flag=CHANGE,
                change_message=json.dumps([{"changed": {"fields": ["revoked at"]}}]),
                single_object=True,
            )
    return token


WORKSPACE_FIELDS = ("display_name",)


def _workspace_save(workspace: Workspace) -> Workspace:
    # The name's uniqueness is the constraint's: no lookup first, and a concurrent create of the
    # same name gets the same 409.
    workspace.full_clean(validate_unique=False, validate_constraints=False)
    try:
        workspace.save()
    except IntegrityError as exc:
        if not violates(exc, constraint="workspace_name_unique", table=Workspace._meta.db_table, columns=("name",)):
            raise
        raise ConflictError(f"A workspace named “{workspace.name}” already exists.", field="name") from None
    return workspace


def _record_workspace(*, action: str, workspace: Workspace, actor, fields: list[str] | None = None, **where) -> None:
    """A workspace's write in the audit log: in its own log, unless `where` names another."""
    audit.record(action=action, actor=actor, obj=workspace, object_id=workspace.name, fields=fields, **where)


def _record_membership(*, action: str, membership: Membership, actor, fields: list[str] | None = None) -> None:
    """A membership's write in its workspace's log: the member's name, the field names (the role
    itself is a value, and the log holds none)."""
    username = membership.user.get_username()
    audit.record(
        action=action,
        actor=actor,
        obj=membership,
        object_id=username,
        object_repr=f"{username} in {membership.workspace.name}",
        fields=fields,
    )


@transaction.atomic
def workspace_create(*, actor, name: str, display_name: str) -> Workspace:
    workspace = _workspace_save(Workspace(name=name, display_name=display_name))
    _record_workspace(action="create", workspace=workspace, actor=actor)
    return workspace


@transaction.atomic
def workspace_update(*, workspace: Workspace, actor, data: dict[str, Any]) -> Workspace:
    """Change the display name; the name is the URL of everything in the workspace and stays."""
    if "name" in data and data.pop("name") != workspace.name:
        raise ValidationError({"name": ["The name cannot be changed."]})
    unknown = set(data) - set(WORKSPACE_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    changed = [name for name, value in data.items() if getattr(workspace, name) != value]
    if not changed:
        return workspace
    for name in changed:
        setattr(workspace, name, data[name])
    workspace = _workspace_save(workspace)
    _record_workspace(action="update", workspace=workspace, actor=actor, fields=changed)
    return workspace


@transaction.atomic
def workspace_delete(*, workspace: Workspace, actor) -> None:
    """Refused (409 naming the counts) while the workspace holds providers or projects; its
    memberships, tokens and audit events go with it. The deletion itself is recorded in the
    default workspace's log, the one that outlives it (superusers, who may delete any workspace,
    see it there)."""
    if workspace.pk == DEFAULT_WORKSPACE_ID:
        raise ConflictError("The default workspace cannot be deleted: the un-prefixed API paths act on it.")
    with within(workspace.pk):
        counts = {"provider": workspace.providers.count(), "project": workspace.projects.count()}
    if any(counts.values()):
        held = " and ".join(f"{n} {what}{'' if n == 1 else 's'}" for what, n in counts.items() if n)
        raise ConflictError(f"Workspace “{workspace.name}” still holds {held}; delete them first.")
    _record_workspace(action="delete", workspace=workspace, actor=actor, workspace_id=DEFAULT_WORKSPACE_ID)
    try:
        workspace.delete()
    except ProtectedError as exc:  # a provider or project was added meanwhile
        raise ConflictError(f"Workspace “{workspace.name}” still holds providers or projects.") from exc


@transaction.atomic
def membership_set(*, workspace: Workspace, user: User, role: str, actor) -> tuple[Membership, bool]:
    """Give `user` this role in the workspace; returns the membership and whether it is new."""
    if role not in Membership.Role.values:
        raise ValidationError({"role": [f"Expected one of: {', '.join(Membership.Role.values)}."]})
    membership, created = Membership.objects.select_for_update().get_or_create(
        workspace=workspace, user=user, defaults={"role": role}
    )
    membership.workspace, membership.user = workspace, user  # as given: not read again
    if created:
        _record_membership(action="create", membership=membership, actor=actor, fields=["role"])
    elif membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
        _record_membership(action="update", membership=membership, actor=actor, fields=["role"])
    return membership, created


@transaction.atomic
def membership_remove(*, workspace: Workspace, username: str, actor) -> None:
    """Remove the member named `username` (Membership.DoesNotExist when there is none)."""
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(workspace=workspace, user__username=username)
    )
    membership.workspace = workspace
    _record_membership(action="delete", membership=membership, actor=actor)
    membership.delete()
