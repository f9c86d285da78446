import django_filters
from django.db.models import Q, QuerySet
from django_filters.rest_framework import DjangoFilterBackend

from providers.catalog import CAPABILITY_CHOICES, PROVIDER_TYPE_CHOICES, types_with_capability
from providers.models import Project, Provider
from providers.selectors import workspace_search


class ProviderFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=PROVIDER_TYPE_CHOICES, help_text="Provider type.")
    capability = django_filters.ChoiceFilter(
        choices=CAPABILITY_CHOICES, method="filter_capability", help_text="`git` or `identity`."
    )
    enabled = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_enabled", help_text="`true` or `false`."
    )
    search = django_filters.CharFilter(
        method="filter_search", max_length=200, help_text="Part of the id or label (case-insensitive)."
    )

    class Meta:
        model = Provider
        fields = ["type", "capability", "enabled", "search"]

    def filter_enabled(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(enabled=value == "true")

    def filter_capability(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(type__in=types_with_capability(value))

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        searched = queryset.filter(Q(provider_id__icontains=value) | Q(label__icontains=value))
        return workspace_search(searched, value, model=Provider)


class ProjectFilter(django_filters.FilterSet):
    providerId = django_filters.CharFilter(  # noqa: N815
        field_name="provider__provider_id", max_length=64, help_text="Projects linked to this provider."
    )
    search = django_filters.CharFilter(
        method="filter_search", max_length=200, help_text="Part of the id or name (case-insensitive)."
    )

    class Meta:
        model = Project
        fields = ["providerId", "search"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        searched = queryset.filter(Q(project_id__icontains=value) | Q(name__icontains=value))
        return workspace_search(searched, value, model=Project)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, passing the queryset through untouched when the query string names
    none of the view's filters: a filterset with no values filters nothing, but building it and its
    form deep-copies every filter, which was ~0.5 ms of an unfiltered list (docs/benchmarks.md).
    A parameter counts when it starts with a filter's name (range filters add suffixes)."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            names = tuple(filterset_class.base_filters)
            if not any(key.startswith(names) for key in request.query_params):
                return queryset
        return super().filter_queryset(request, queryset, view)
