"""Reads of workspaces: which a user sees, and whether they may manage one."""

from django.db.models import QuerySet

from .models import Membership, Workspace
from .roles import OPERATORS, PROJECT_OWNERS

# Members of these groups hold their role in every workspace (single-tenant use, as before workspaces).
GLOBAL_ROLE_GROUPS = (OPERATORS, PROJECT_OWNERS)


def in_every_workspace(user) -> bool:
    return user.is_superuser or user.groups.filter(name__in=GLOBAL_ROLE_GROUPS).exists()


def workspaces_visible(*, user) -> QuerySet[Workspace]:
    """Every workspace for superusers and the global groups' members; else the user's own."""
    if in_every_workspace(user):
        return Workspace.objects.all()
    return Workspace.objects.filter(memberships__user=user)


def can_manage_workspace(*, user, workspace: Workspace) -> bool:
    """Superusers, and the workspace's owners: its display name, deletion and members."""
    if user.is_superuser:
        return True
    return Membership.objects.filter(workspace=workspace, user=user, role=Membership.Role.OWNER).exists()


def owned_workspaces(*, user):
    """The workspaces the user owns (superusers' are all, see `can_manage_workspace`)."""
    return Workspace.objects.filter(memberships__user=user, memberships__role=Membership.Role.OWNER)


def workspace_members(*, workspace: Workspace) -> QuerySet[Membership]:
    return Membership.objects.filter(workspace=workspace).select_related("user").order_by("user__username")
