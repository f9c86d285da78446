"""The naive baseline: what a typical team writes first. `ModelViewSet` + `ModelSerializer` with
default settings over the same models, page-number pagination of 50 (with its COUNT), no
`select_related`, nested serializers and per-row counts for the same information the product
shows. Same authentication (API token) as the product."""

import json

from rest_framework import pagination, routers, serializers, viewsets

from providers.models import Credential, IdentityProvider, IdentityProviderMapper, Project, Provider


class Pagination(pagination.PageNumberPagination):
    page_size = 50


class CredentialSerializer(serializers.ModelSerializer):
    class Meta:
        model = Credential
        exclude = ["secret"]


class ProviderSerializer(serializers.ModelSerializer):
    credential = CredentialSerializer(read_only=True)
    credentials = serializers.DictField(write_only=True, required=False)
    linked_projects = serializers.SerializerMethodField()

    class Meta:
        model = Provider
        fields = "__all__"

    def get_linked_projects(self, obj) -> int:
        return obj.projects.count()

    def create(self, validated_data):
        credentials = validated_data.pop("credentials")
        provider = Provider.objects.create(**validated_data)
        Credential.objects.create(
            provider=provider, type=credentials["type"], secret=json.dumps(credentials["content"]), fingerprint="naive"
        )
        return provider


class ProviderViewSet(viewsets.ModelViewSet):
    queryset = Provider.objects  # a manager: scoped per request
    serializer_class = ProviderSerializer
    pagination_class = Pagination
    lookup_field = "provider_id"


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = "__all__"


class ProjectViewSet(viewsets.ModelViewSet):
    queryset = Project.objects
    serializer_class = ProjectSerializer
    pagination_class = Pagination
    lookup_field = "project_id"


class MapperSerializer(serializers.ModelSerializer):
    class Meta:
        model = IdentityProviderMapper
        fields = "__all__"


class IdentityProviderSerializer(serializers.ModelSerializer):
    provider = ProviderSerializer(read_only=True)
    mappers = MapperSerializer(many=True, read_only=True)

    class Meta:
        model = IdentityProvider
        exclude = ["client_secret"]


class IdentityProviderViewSet(viewsets.ModelViewSet):
    queryset = IdentityProvider.objects
    serializer_class = IdentityProviderSerializer
    pagination_class = Pagination
    lookup_field = "provider__provider_id"


class PublicIdentityProviderViewSet(viewsets.ReadOnlyModelViewSet):
    """The login list a typical team writes: the same filter, the nested provider, no caching."""

    queryset = IdentityProvider.objects
    serializer_class = IdentityProviderSerializer
    authentication_classes: list = []
    permission_classes: list = []

    def get_queryset(self):
        return IdentityProvider.objects.filter(
            provider__enabled=True, hide_on_login=False, link_only=False, status=IdentityProvider.Status.ACTIVE
        )


router = routers.SimpleRouter(trailing_slash=False)
router.register("providers", ProviderViewSet, basename="naive-provider")
router.register("projects", ProjectViewSet, basename="naive-project")
router.register("identity-providers", IdentityProviderViewSet, basename="naive-identity-provider")
router.register("idps", PublicIdentityProviderViewSet, basename="naive-idp")
