"""`GET /api/backend/audit-events`: the audit log, newest first, filterable. Read-only."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets

from providers.api.pagination import KeysetPagination
from providers.api.permissions import ModelPermissions
from providers.api.schema import AUTH_ERRORS, LIST_ERRORS
from providers.api.scope import WorkspaceScoped
from providers.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name")
    objectType = serializers.CharField(source="object_type")  # noqa: N815
    objectId = serializers.CharField(source="object_id")  # noqa: N815
    objectRepr = serializers.CharField(source="object_repr")  # noqa: N815

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor",
            "action",
            "objectType",
            "objectId",
            "objectRepr",
            "fields",
            "source",
            "ip",
            "ok",
            "detail",
        ]
        read_only_fields = fields


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(choices=AuditEvent.Action.choices)
    objectType = django_filters.CharFilter(field_name="object_type", max_length=40)  # noqa: N815
    objectId = django_filters.CharFilter(field_name="object_id", max_length=64)  # noqa: N815
    actor = django_filters.CharFilter(field_name="actor_name", max_length=150)
    source = django_filters.ChoiceFilter(choices=[(s, s) for s in ("api", "admin", "cli", "web")])
    ok = django_filters.ChoiceFilter(choices=[("true", "true"), ("false", "false")], method="filter_ok")
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["action", "objectType", "objectId", "actor", "source", "ok", "since", "until"]

    def filter_ok(self, queryset, name, value):
        return queryset.filter(ok=value == "true")


class AuditPagination(KeysetPagination):
    ordering = ("-at", "-id")


@extend_schema(tags=["Audit"])
class AuditEventViewSet(WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Who did what, when, from where: every write and refused attempt. Never a secret value."""

    queryset = AuditEvent.objects.none()
    serializer_class = AuditEventSerializer
    permission_classes = [ModelPermissions]
    filterset_class = AuditEventFilter
    pagination_class = AuditPagination

    def get_queryset(self):
        return AuditEvent.objects.all()

    @extend_schema(
        summary="List audit events", responses={200: AuditEventSerializer(many=True), **AUTH_ERRORS, **LIST_ERRORS}
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
