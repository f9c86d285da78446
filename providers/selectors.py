"""Reads shared by the API and the admin. Every queryset's scoping lives here, so a tenant scope
added later touches one function per model."""

from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .models import Project, Provider

User = get_user_model()


def linked_projects_count() -> Coalesce:
    """Per-row count through the `provider_id` index: cheaper than a JOIN + GROUP BY on big tables."""
    counts = (
        Project.objects.filter(provider=OuterRef("pk"))
        .order_by()
        .values("provider")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def provider_list() -> QuerySet[Provider]:
    """Providers with their credential metadata (never the encrypted column) and linked-project count."""
    return (
        Provider.objects.select_related("credential", "created_by", "updated_by")
        .defer("credential__secret")
        .annotate(linked_projects=linked_projects_count())
    )


def provider_get(*, provider_id: str) -> Provider | None:
    return provider_list().filter(provider_id=provider_id).first()


def can_manage_all_projects(user) -> bool:
    return user.has_perm("providers.manage_all_projects")


def project_list(*, user) -> QuerySet[Project]:
    """Projects the user may see: all for operators, their own for project owners."""
    queryset = Project.objects.select_related("provider").prefetch_related(
        Prefetch("owners", queryset=User.objects.only("id", "username"))
    )
    if can_manage_all_projects(user):
        return queryset
    return queryset.filter(owners=user)
