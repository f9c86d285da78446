"""Writes for projects, and which of a project's fields a user may change."""

from typing import Any

from django.db import IntegrityError, transaction

from accounts.errors import ConflictError, violates
from providers import history
from providers.concurrency import check_if_match
from providers.models import Project, Provider
from providers.selectors import can_manage_all_projects

from .common import FieldPermissionDenied

PROJECT_FIELDS = ("name", "description", "provider", "repository_path", "owners")
PROJECT_OWNER_FIELDS = frozenset({"description", "provider", "repository_path"})


def project_editable_fields(*, user, project: Project | None = None) -> frozenset[str]:
    """Which project fields a user may change: all for operators; for an owner of the project
    (with the change permission), the description and the repository part only."""
    if not user.has_perm("providers.change_project"):
        return frozenset()
    if can_manage_all_projects(user):
        return frozenset(PROJECT_FIELDS)
    if project is not None and not project.owners.filter(pk=user.pk).exists():
        return frozenset()
    if not user.has_perm("providers.select_provider"):
        return PROJECT_OWNER_FIELDS - {"provider"}
    return PROJECT_OWNER_FIELDS


def project_check_fields(*, user, project: Project, fields: set[str]) -> None:
    """Refuse (403 naming them) the fields the user may not change on this project. Called before
    the request's values are even looked up, so nobody can probe for user names or provider ids."""
    forbidden = sorted(fields - project_editable_fields(user=user, project=project))
    if forbidden:
        raise FieldPermissionDenied(forbidden)


@transaction.atomic
def project_update(*, project: Project, actor, data: dict[str, Any], if_match: str | None = None) -> Project:
    """Change a project's fields, refusing any the actor may not change (PermissionDenied). Without
    an actor (a management command, run by whoever holds the server), every field may change."""
    if actor is not None:
        project_check_fields(user=actor, project=project, fields=set(data))
    # Its provider comes with it (for `Project.clean()`'s workspace rule); only the project is locked.
    project = Project.objects.select_for_update(of=("self",)).select_related("provider").get(pk=project.pk)
    check_if_match(project, if_match)
    fields = {name: value for name, value in data.items() if name != "owners"}
    before = history.field_values(project, fields)
    for name, value in fields.items():
        setattr(project, name, value)
    changed = history.changed_fields(project, before)
    if "owners" in data and set(project.owners.all()) != set(data["owners"]):
        project.owners.set(data["owners"])
        changed.append("owners")
    # The workspace is set by the services; the id cannot change, so its uniqueness and format (the
    # table's constraints, which the database enforces) need no queries here.
    project.full_clean(exclude=["workspace"], validate_unique=False, validate_constraints=False)
    if changed:
        project.save()
    history.log_change(actor=actor, obj=project, fields=history.field_labels(Project, changed))
    return project


@transaction.atomic
def project_delete(*, project: Project, actor) -> None:
    history.log_deletion(actor=actor, obj=project)
    project.delete()


@transaction.atomic
def project_create(
    *,
    actor,
    project_id: str,
    name: str,
    description: str = "",
    provider: Provider | None = None,
    repository_path: str = "",
    owners: list | None = None,
) -> Project:
    """A taken id is refused (ConflictError) by the unique constraint, as for providers: no lookup
    first, and a concurrent create of the same id gets the same 409."""
    project = Project(
        project_id=project_id,
        name=name,
        description=description,
        provider=provider,
        repository_path=repository_path,
    )
    # The constraints repeat the field validators; the id's uniqueness is the constraint's.
    project.full_clean(exclude=["workspace"], validate_unique=False, validate_constraints=False)
    try:
        project.save()
    except IntegrityError as exc:
        if not violates(
            exc, constraint="project_id_unique", table=Project._meta.db_table, columns=("workspace_id", "project_id")
        ):
            raise
        raise ConflictError(f"A project with id “{project_id}” already exists.", field="project_id") from None
    if owners:
        project.owners.set(owners)
    history.log_addition(actor=actor, obj=project)
    return project
