"""Reads of workspaces: which a user sees, and whether they may manage one."""

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet, Value

from .models import DEFAULT_WORKSPACE_ID, Membership, User, Workspace
from .roles import GROUP_ROLES, IDENTITY_VIEWERS, OPERATORS, PROJECT_OWNERS, READ_ONLY_ROLES, ROLE_GROUPS, ROLE_RANK

# Members of these groups hold their role in every workspace (single-tenant use, as before workspaces).
GLOBAL_ROLE_GROUPS = (OPERATORS, PROJECT_OWNERS, IDENTITY_VIEWERS)


def in_every_workspace(user) -> bool:
    """Superusers and the global groups' members; read once per request (the user object is)."""
    if user.is_superuser:
        return True
    every = getattr(user, "_in_every_workspace", None)  # getattr: `request.user` is a lazy proxy
    if every is None:
        every = user._in_every_workspace = user.groups.filter(name__in=GLOBAL_ROLE_GROUPS).exists()
    return every


def _in_global_group(user_id) -> Exists:
    """Whether the user (an id, or an outer query's column) is in one of the global groups."""
    return Exists(User.groups.through.objects.filter(user_id=user_id, group__name__in=GLOBAL_ROLE_GROUPS))


def workspaces_visible(*, user) -> QuerySet[Workspace]:
    """Every workspace for superusers and the global groups' members; else the user's own. One
    query: unless already known for this request, whether the user is in a global group is a
    subquery of it."""
    known = getattr(user, "_in_every_workspace", None)  # getattr: `request.user` may be a lazy proxy
    if user.is_superuser or known:
        return Workspace.objects.all()
    member = Exists(Membership.objects.filter(workspace=OuterRef("pk"), user_id=user.pk))
    return Workspace.objects.filter(member if known is False else member | _in_global_group(user.pk))


def token_role(user) -> str:
    """The role an API token limits this request to ("" for none: a session, an unlimited token)."""
    return getattr(user, "_token_role", "")


def acts_as_superuser(user) -> bool:
    """A superuser, unless the request's token limits it to a role (`ApiToken.role`)."""
    return user.is_superuser and not token_role(user)


def token_workspace(user) -> int | None:
    """The workspace an API token limits this request to (None: a session, an unlimited token)."""
    return getattr(user, "_token_workspace_id", None)


def acts_in_every_workspace(user) -> bool:
    """In every workspace (`in_every_workspace`) and acting as such: not through a token limited to
    one workspace (or to a role, which needs one). What granting a global group requires
    (`providers.identity.mappers`): its members act in every workspace."""
    return not token_workspace(user) and not token_role(user) and in_every_workspace(user)


def _manages(user) -> Exists | Value:
    """Whether `user` manages the workspace of the outer query's row (see `can_manage_workspace`)."""
    if token_role(user) not in ("", "owner"):
        return Value(False, output_field=BooleanField())
    if user.is_superuser:
        return Value(True, output_field=BooleanField())
    return Exists(Membership.objects.filter(workspace=OuterRef("pk"), user_id=user.pk, role=Membership.Role.OWNER))


def can_manage_workspace(*, user, workspace: Workspace) -> bool:
    """Superusers, and the workspace's owners: its display name, deletion and members; through a
    role-limited token, only one limited to the owner role."""
    manages = _manages(user)
    if isinstance(manages, Value):
        return bool(manages.value)
    return Workspace.objects.filter(pk=workspace.pk).filter(manages).exists()


def workspace_for(*, user, name: str, limited_to: int | None = None) -> Workspace | None:
    """The workspace named `name` if the user sees it (`workspaces_visible`; a token limited to one
    workspace sees only that one), annotated `manageable` (`can_manage_workspace`): one query for
    the workspace API's lookup and its permission."""
    found = workspaces_visible(user=user).filter(name=name)
    if limited_to:
        found = found.filter(pk=limited_to)
    return found.annotate(manageable=_manages(user)).first()


def user_to_add(*, actor, username: str, workspaces: QuerySet[Workspace]) -> User | None:
    """The user named `username`, if `actor` may name them as a member: anyone for a superuser;
    for others, the users of the workspaces they see (`workspaces`): those workspaces' members, the
    global groups' members and the superusers (who are in every workspace). So a workspace owner
    cannot learn from the answer whether any other account exists."""
    users = User.objects.filter(username=username)
    if not acts_as_superuser(actor):
        member = Exists(Membership.objects.filter(user_id=OuterRef("pk"), workspace__in=workspaces))
        users = users.filter(Q(is_superuser=True) | _in_global_group(OuterRef("pk")) | member)
    return users.first()


def owned_workspaces(*, user):
    """The workspaces the user owns (superusers' are all, see `can_manage_workspace`)."""
    return Workspace.objects.filter(memberships__user=user, memberships__role=Membership.Role.OWNER)


def workspace_members(*, workspace: Workspace) -> QuerySet[Membership]:
    """The workspace's memberships with their users, in one query (through the related manager, each
    membership's workspace is the one given, not read again)."""
    return workspace.memberships.select_related("user").order_by("user__username")


# The session key of the admin's workspace switcher: a workspace id, or "" for every workspace.
ADMIN_WORKSPACE_KEY = "workspace"


def _admin_user(request):
    """The request's user if the admin is theirs to use (signed in, staff), else None."""
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated and user.is_staff else None


def admin_shows_every_workspace(request) -> bool:
    """Whether the admin shows every workspace (the switcher's “All workspaces”, for those in every
    workspace): what the request's scope began as, whatever a view narrows it to since. No query
    once the middleware has read whether the user is in every workspace."""
    user = _admin_user(request)
    chosen = getattr(request, "session", {}).get(ADMIN_WORKSPACE_KEY)
    return user is not None and chosen == "" and in_every_workspace(user)


def admin_scope(request) -> int | list[int] | None:
    """The workspaces the admin shows and touches for this request (see `accounts.scoping`): the
    switcher's choice when the user sees it (None for “All workspaces”); else the default
    workspace for those in every workspace and for a member of none (as the un-prefixed API
    paths), or the member's first workspace. Nothing (an empty list) for anyone signed out."""
    user = _admin_user(request)
    if user is None:
        return []
    if admin_shows_every_workspace(request):
        return None
    every = in_every_workspace(user)
    chosen = request.session.get(ADMIN_WORKSPACE_KEY)
    visible = workspaces_visible(user=user)  # still there, still the user's
    if isinstance(chosen, int) and visible.filter(pk=chosen).exists():
        return chosen
    if every:
        return DEFAULT_WORKSPACE_ID
    first = Membership.objects.filter(user=user).order_by("workspace__name").values_list("workspace_id", flat=True)
    return next(iter(first), DEFAULT_WORKSPACE_ID)  # a member of none: the default one, as the API


def api_workspace(*, user, token, name: str | None) -> int | None:
    """The workspace an API request acts on, or None (404) when the caller may not see it.

    Un-prefixed paths act on the token's workspace when it is limited to one, else on the default
    workspace (the reference documents' single-tenant use). `/api/workspaces/{name}/…` acts on that
    workspace if the caller sees it: a member, in every workspace, or (for the public login list)
    anyone not signed in; a limited token only on its own. What decides it (`workspace_access_sql`)
    was read with the token when the path named the workspace (`accounts.backends`), else it is
    read now, in one statement; the permission checks that follow read it without a query."""
    limited = getattr(token, "workspace_id", None)
    if name is None:
        return limited or DEFAULT_WORKSPACE_ID
    if not user.is_authenticated:
        return Workspace.objects.filter(name=name).values_list("pk", flat=True).first()
    access = getattr(token, "workspace_access", None)
    if access is None or access[0] != name:
        columns, params = workspace_access_sql(name=name, user_id=user.pk)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {columns}", params)
            access = (name, *cursor.fetchone())
    _, workspace_id, every, role = access
    if workspace_id is None:
        return None
    user._in_every_workspace = bool(every)
    _workspace_roles(user)[workspace_id] = role
    if not (user.is_superuser or every or role) or (limited and workspace_id != limited):
        return None
    return workspace_id


def workspace_access_sql(*, name: str, user_id: int | None = None, user_sql: str = "%s", user_params=()):
    """SQL columns (the id of the workspace named `name` or NULL, whether the user is in a global
    group, the user's role there or NULL), and their parameters. The user is `user_id`, or the SQL
    `user_sql` with `user_params` (the token query's subselect). In SQL, as the token's query:
    the ORM took longer to build it than the database to answer (docs/benchmarks-workspaces.md)."""
    if user_id is not None:
        user_params = (user_id,)
    quote = connection.ops.quote_name
    workspaces, memberships = quote(Workspace._meta.db_table), quote(Membership._meta.db_table)
    user_groups = quote(User.groups.through._meta.db_table)
    groups = ", ".join(["%s"] * len(GLOBAL_ROLE_GROUPS))
    columns = (
        f"(SELECT w.id FROM {workspaces} w WHERE w.name = %s), "
        f"EXISTS (SELECT 1 FROM {user_groups} ug JOIN {quote(Group._meta.db_table)} g ON g.id = ug.group_id "
        f"WHERE ug.user_id = {user_sql} AND g.name IN ({groups})), "
        f"(SELECT m.role FROM {memberships} m JOIN {workspaces} w ON w.id = m.workspace_id "
        f"WHERE w.name = %s AND m.user_id = {user_sql})"
    )
    return columns, [name, *user_params, *GLOBAL_ROLE_GROUPS, name, *user_params]


def role_permissions(*, user, workspace_id: int) -> set[str]:
    """The permissions (“app_label.codename”) the user's role in the workspace gives there (the
    role read by `api_workspace` when it resolved this workspace, else read now)."""
    roles = _workspace_roles(user)
    if workspace_id not in roles:
        roles[workspace_id] = (
            Membership.objects.filter(user_id=user.pk, workspace_id=workspace_id)
            .order_by()  # one row at most: no ordering, so no join for Meta.ordering's names
            .values_list("role", flat=True)
            .first()
        )
    role = roles[workspace_id]
    return permissions_of_role(role) if role else set()


def _workspace_roles(user) -> dict[int, str | None]:
    """The user's roles by workspace id, as read during this request (kept on the user object)."""
    roles = getattr(user, "_workspace_roles", None)  # getattr: `request.user` is a lazy proxy
    if roles is None:
        roles = user._workspace_roles = {}
    return roles


def permissions_of_role(role: str) -> set[str]:
    """The permissions a workspace role gives (`accounts.roles.ROLE_GROUPS`)."""
    rows = Permission.objects.filter(group__name=ROLE_GROUPS[role]).values_list("content_type__app_label", "codename")
    return {
        f"{app}.{codename}" for app, codename in rows if role not in READ_ONLY_ROLES or codename.startswith("view_")
    }


def workspaces_granting(*, user, perm: str) -> QuerySet[Workspace]:
    """The workspaces where the user holds `perm` (“app_label.codename”): every one they see when
    their own or their groups' permissions give it (superusers, the global groups), else those where
    their role gives it (`accounts.roles`)."""
    if user.is_superuser or perm in user.get_all_permissions():
        return workspaces_visible(user=user)
    roles = [role for role in ROLE_GROUPS if perm in permissions_of_role(role)]
    return Workspace.objects.filter(memberships__user=user, memberships__role__in=roles)


def workspace_name_of(*, public_id: str) -> str | None:
    return Workspace.objects.filter(public_id=public_id).values_list("name", flat=True).first()


def public_id_of(*, workspace_id: int) -> str:
    return Workspace.objects.filter(pk=workspace_id).values_list("public_id", flat=True).get()


def admin_workspace_choices(*, user, current) -> list[dict]:
    """The admin switcher's options, `current` (the admin's scope) marked: the workspaces the
    user sees, and “All workspaces” for those in every workspace. Empty when there is no choice."""
    if not user.is_authenticated or not user.is_staff:
        return []
    choices = [
        {"value": str(pk), "label": display_name or name, "selected": pk == current}
        for pk, name, display_name in workspaces_visible(user=user)
        .order_by("name")
        .values_list("pk", "name", "display_name")
    ]
    if len(choices) < 2:
        return []
    if in_every_workspace(user):
        choices.insert(0, {"value": "", "label": "All workspaces", "selected": current is None})
    return choices


def admin_choice_allowed(*, user, value: str) -> bool:
    """Whether the switcher may be set to `value` (a workspace id, or "" for all) for this user."""
    if value == "":
        return in_every_workspace(user)
    return value.isdigit() and workspaces_visible(user=user).filter(pk=int(value)).exists()


def highest_role(*, user, workspace: Workspace) -> str | None:
    """The user's highest role in the workspace: a superuser's is owner's, a global group's its
    role there (`accounts.roles.GROUP_ROLES`), a member's their membership's."""
    if user.is_superuser:
        return "owner"
    roles = [
        GROUP_ROLES[name] for name in user.groups.filter(name__in=list(GROUP_ROLES)).values_list("name", flat=True)
    ]
    roles += Membership.objects.filter(user=user, workspace=workspace).values_list("role", flat=True)
    return max(roles, key=ROLE_RANK.__getitem__, default=None)


def users_of(users: QuerySet, workspace_id: int | None) -> QuerySet:
    """`users` narrowed to those of the workspace: its members, the global groups' and the
    superusers (every workspace's). Unchanged outside a one-workspace scope (“All workspaces”)."""
    if workspace_id is None:
        return users
    everywhere = Q(is_superuser=True) | Q(groups__name__in=GLOBAL_ROLE_GROUPS)
    return users.filter(everywhere | Q(memberships__workspace_id=workspace_id)).distinct()
