from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from .models import ApiToken
from .scoping import current_single_workspace
from .selectors import permissions_of_role, role_permissions, workspace_access_sql


def _permissions_sql(user_id: str = "%s") -> str:
    """A user's own and group permissions as (app_label, codename), table names from the models.
    `user_id` is the SQL giving the user's id (a parameter, or a subquery)."""
    user_model = get_user_model()
    quote = connection.ops.quote_name
    permission = quote(Permission._meta.db_table)
    content_type = quote(ContentType._meta.db_table)
    user_permissions = quote(user_model.user_permissions.through._meta.db_table)
    user_groups = quote(user_model.groups.through._meta.db_table)
    group_permissions = quote(Group.permissions.through._meta.db_table)
    return (
        f"SELECT ct.app_label, p.codename FROM {permission} p JOIN {content_type} ct ON ct.id = p.content_type_id "
        f"WHERE p.id IN (SELECT permission_id FROM {user_permissions} WHERE user_id = {user_id} "
        f"UNION SELECT gp.permission_id FROM {group_permissions} gp JOIN {user_groups} ug "
        f"ON ug.group_id = gp.group_id WHERE ug.user_id = {user_id})"
    )


TOKEN_FIELDS = ("id", "user_id", "revoked_at", "expires_at", "last_used_at", "workspace_id", "role")


def api_token_with_permissions(key_hash: str, *, workspace_name: str | None = None):
    """The API token with this hash, its user, and the user's permissions, in one query: every API
    request authenticates and then checks a permission, and one round trip instead of two (and no
    ORM statement building) is most of what separates a read from the bare-view floor
    (docs/benchmarks.md). Returns None for an unknown hash. The user comes with its permissions
    cached as RegistryModelBackend caches them, so `has_perm` makes no query. With
    `workspace_name` (a `/api/workspaces/{name}/…` path) the same query reads what decides whether
    the user may act there (`selectors.workspace_access_sql`), kept as `token.workspace_access`
    for `selectors.api_workspace`: a workspace's path costs no statement more than the default's."""
    user_model = get_user_model()
    quote = connection.ops.quote_name
    tokens = quote(ApiToken._meta.db_table)
    # In model order: Model.from_db() takes a partial row's values in that order.
    token_fields = [field for field in ApiToken._meta.concrete_fields if field.attname in TOKEN_FIELDS]
    user_fields = list(user_model._meta.concrete_fields)
    token_user = f"(SELECT user_id FROM {tokens} WHERE key_hash = %s)"
    columns = ", ".join(
        [f"t.{quote(str(field.column))}" for field in token_fields]
        + [f"u.{quote(str(field.column))}" for field in user_fields]
    )
    access, access_params = "", []
    if workspace_name is not None:
        access, access_params = workspace_access_sql(name=workspace_name, user_sql=token_user, user_params=[key_hash])
        access = f", {access}"
    sql = (
        f"SELECT {columns}, perm.app_label, perm.codename{access} FROM {tokens} t "
        f"JOIN {quote(user_model._meta.db_table)} u ON u.{quote(str(user_model._meta.pk.column))} = t.user_id "
        f"LEFT JOIN ({_permissions_sql(token_user)}) perm ON 1 = 1 WHERE t.key_hash = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*access_params, key_hash, key_hash, key_hash])
        rows = cursor.fetchall()
    if not rows:
        return None
    workspace_access = None
    if workspace_name is not None:
        workspace_access = (workspace_name, *rows[0][-3:])
        rows = [row[:-3] for row in rows]
    first = rows[0]
    split = len(token_fields)
    token_values = [_convert(f, v) for f, v in zip(token_fields, first, strict=False)]
    user_values = [_convert(f, v) for f, v in zip(user_fields, first[split:], strict=False)]
    token = ApiToken.from_db(connection.alias, [f.attname for f in token_fields], token_values)
    user = user_model.from_db(connection.alias, [f.attname for f in user_fields], user_values)
    if user.is_active and not user.is_superuser:
        user._perm_cache = {f"{row[-2]}.{row[-1]}" for row in rows if row[-1] is not None}  # type: ignore[attr-defined]
    user._token_role = token.role  # type: ignore[attr-defined]  # caps its permissions (RegistryModelBackend)
    user._token_workspace_id = token.workspace_id  # type: ignore[attr-defined]  # accounts.selectors.token_workspace
    token.user = user
    token.workspace_access = workspace_access  # type: ignore[attr-defined]
    return token


def _convert(field, value):
    """A raw column value as the ORM hands it over (SQLite returns datetimes as strings, for one)."""
    column = field.get_col(field.model._meta.db_table)
    for converter in connection.ops.get_db_converters(column) + field.get_db_converters(connection):
        value = converter(value, column, connection)
    return value


class RegistryModelBackend(ModelBackend):
    """Django's ModelBackend, reading a user's own and group permissions in one query instead of
    two. Every API request checks a permission, and this query is a third of an authenticated
    request's database time; written in SQL because the ORM spends 1.3 ms building the same
    statement (docs/benchmarks.md). Tests hold it equal to ModelBackend."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = Permission.objects.values_list("content_type__app_label", "codename")
            else:
                with connection.cursor() as cursor:
                    cursor.execute(_permissions_sql(), [user_obj.pk, user_obj.pk])
                    rows = cursor.fetchall()
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache

    def workspace_permissions(self, user_obj) -> set[str]:
        """What the user's role in the request's workspace gives there (`accounts.roles`), read
        once per workspace per request; nothing outside a one-workspace scope."""
        workspace_id = current_single_workspace()
        if workspace_id is None or not user_obj.is_active or user_obj.is_anonymous or user_obj.is_superuser:
            return set()
        cache = user_obj.__dict__.setdefault("_workspace_perm_cache", {})
        if workspace_id not in cache:
            cache[workspace_id] = role_permissions(user=user_obj, workspace_id=workspace_id)
        return cache[workspace_id]

    def has_perm(self, user_obj, perm, obj=None):
        """The user's own and group permissions (every workspace), then their workspace role's:
        the first answer needs no query for those in a global group. A token limited to a role
        (`ApiToken.role`) allows no more than that role's permissions."""
        role = getattr(user_obj, "_token_role", "")
        if role and perm not in self._role_cap(user_obj, role):
            return False
        if super().has_perm(user_obj, perm, obj):
            return True
        return obj is None and perm in self.workspace_permissions(user_obj)

    @staticmethod
    def _role_cap(user_obj, role: str) -> set[str]:
        cache = user_obj.__dict__.setdefault("_token_role_cache", {})
        if role not in cache:
            cache[role] = permissions_of_role(role)
        return cache[role]

    def has_module_perms(self, user_obj, app_label):
        if super().has_module_perms(user_obj, app_label):
            return True
        return any(perm.startswith(f"{app_label}.") for perm in self.workspace_permissions(user_obj))
