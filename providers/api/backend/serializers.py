"""Request shapes and name translation (`apiBase` ↔ `api_base_url`). No business rules here:
those live in the services, which both the API and the admin call."""

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from providers.api.fields import (
    ChoiceField,
    JSONObjectField,
    SlugLookupField,
    StrictBooleanField,
    StrictCharField,
    StrictSerializer,
    iso_datetime,
)
from providers.catalog import CAPABILITY_CHOICES, CREDENTIAL_TYPE_CHOICES, PROVIDER_TYPE_CHOICES, PROVIDER_TYPES
from providers.models import Project, Provider
from providers.services import CredentialInput, credential_rollback_deadline

User = get_user_model()

PROVIDER_API_NAMES = {
    "provider_id": "id",
    "base_url": "urls.base",
    "api_base_url": "urls.apiBase",
}


class ProviderUrlsInputSerializer(StrictSerializer):
    base = StrictCharField(required=False, allow_blank=True, max_length=500, help_text="Base URL.")
    baseUrl = StrictCharField(  # noqa: N815  (the reference document's spelling)
        required=False, allow_blank=True, max_length=500, help_text="Alias of `base`."
    )
    apiBase = StrictCharField(required=False, allow_blank=True, max_length=500)  # noqa: N815

    def validate(self, attrs):
        if "base" in attrs and "baseUrl" in attrs and attrs["base"] != attrs["baseUrl"]:
            raise serializers.ValidationError({"baseUrl": ["Send either `base` or `baseUrl`, not both."]})
        return attrs


class CredentialsInputSerializer(StrictSerializer):
    type = ChoiceField(choices=CREDENTIAL_TYPE_CHOICES)
    content = JSONObjectField(
        help_text="`token`: `{accessToken}`; `userPass`: `{userName, password}`; `oauth2ClientCredentials`: "
        "`{tokenUrl, clientId, clientSecret, scope?}`; `githubApp`: `{appId, privateKey, installationId}`. "
        "Never returned."
    )
    expiresAt = serializers.DateTimeField(  # noqa: N815
        required=False, allow_null=True, help_text="When the provider stops accepting them (for expiry reports)."
    )

    def validate(self, attrs):
        """Credentials are replaced whole, on a PATCH too (where DRF would make every field optional)."""
        missing = [name for name in ("type", "content") if name not in attrs]
        if missing:
            raise serializers.ValidationError({name: ["This field is required."] for name in missing})
        return attrs


REFERENCE_PROVIDER_EXAMPLE = OpenApiExample(
    "GitHub provider with a token (reference request)",
    request_only=True,
    value={
        "id": "my-github-provider",
        "label": "Mia-Platform GitHub",
        "type": "github",
        "urls": {"apiBase": "", "baseUrl": ""},
        "credentials": {
            "type": "token",
            "content": {"accessToken": "my-super-super-super-secret-token"},
        },
    },
)


@extend_schema_serializer(
    examples=[
        REFERENCE_PROVIDER_EXAMPLE,
        OpenApiExample(
            "Self-hosted GitLab with user and password",
            request_only=True,
            value={
                "id": "gitlab-onprem",
                "label": "GitLab on-premises",
                "type": "gitlab",
                "urls": {"base": "https://gitlab.example.com", "apiBase": "https://gitlab.example.com/api/v4"},
                "credentials": {"type": "userPass", "content": {"userName": "svc-ci", "password": "…"}},
            },
        ),
    ]
)
class ProviderWriteSerializer(StrictSerializer):
    """Body of `POST /api/backend/providers` and `PATCH /api/backend/providers/{providerId}`."""

    api_field_names = PROVIDER_API_NAMES

    id = StrictCharField(max_length=64, help_text="Stable, URL-safe id; cannot change after creation.")
    label = StrictCharField(max_length=200)  # type: ignore[assignment]
    description = StrictCharField(required=False, allow_blank=True, max_length=2000)
    type = ChoiceField(choices=PROVIDER_TYPE_CHOICES)
    urls = ProviderUrlsInputSerializer(required=False)
    enabled = StrictBooleanField(required=False)
    credentials = CredentialsInputSerializer(help_text="Required on create; on edit, replaces the stored ones.")

    def to_service_data(self) -> tuple[dict, CredentialInput | None]:
        """Validated body → model field names for the services, plus the credentials if sent."""
        data = dict(self.validated_data)
        fields = {}
        if "id" in data:
            fields["provider_id"] = data["id"]
        for name in ("label", "description", "type", "enabled"):
            if name in data:
                fields[name] = data[name]
        urls = data.get("urls") or {}
        if "base" in urls or "baseUrl" in urls:
            fields["base_url"] = urls.get("base", urls.get("baseUrl"))
        if "apiBase" in urls:
            fields["api_base_url"] = urls["apiBase"]
        credentials = data.get("credentials")
        credential_input = (
            CredentialInput(
                type=credentials["type"], content=credentials["content"], expires_at=credentials.get("expiresAt")
            )
            if credentials
            else None
        )
        return fields, credential_input


class ProviderUrlsSerializer(serializers.Serializer):
    base = serializers.CharField(source="base_url")
    apiBase = serializers.CharField(source="api_base_url")  # noqa: N815


class CredentialMetadataSerializer(serializers.Serializer):
    """What a read shows of credentials: never the content."""

    type = ChoiceField(choices=CREDENTIAL_TYPE_CHOICES)
    set = serializers.SerializerMethodField()
    fingerprint = serializers.CharField()
    updatedAt = serializers.DateTimeField(source="updated_at")  # noqa: N815
    expiresAt = serializers.DateTimeField(source="expires_at", allow_null=True)  # noqa: N815

    def get_set(self, obj) -> bool:
        return True


class LastTestSerializer(serializers.Serializer):
    """The outcome of the provider's last connection test; all null/empty until it is tested."""

    ok = serializers.BooleanField(source="last_test_ok", allow_null=True)
    at = serializers.DateTimeField(source="last_tested_at", allow_null=True)
    message = serializers.CharField(source="last_test_message")


class ProviderSerializer(serializers.ModelSerializer):
    """A provider as reads show it."""

    api_field_names = PROVIDER_API_NAMES

    id = serializers.CharField(source="provider_id")
    capability = ChoiceField(choices=CAPABILITY_CHOICES)
    type = ChoiceField(choices=PROVIDER_TYPE_CHOICES)
    urls = ProviderUrlsSerializer(source="*")
    credentials = serializers.SerializerMethodField()
    linkedProjects = serializers.IntegerField(source="linked_projects", read_only=True)  # noqa: N815
    createdAt = serializers.DateTimeField(source="created_at")  # noqa: N815
    updatedAt = serializers.DateTimeField(source="updated_at")  # noqa: N815
    createdBy = serializers.CharField(source="created_by.username", default=None, allow_null=True)  # noqa: N815
    updatedBy = serializers.CharField(source="updated_by.username", default=None, allow_null=True)  # noqa: N815
    lastTest = LastTestSerializer(source="*", read_only=True)  # noqa: N815

    class Meta:
        model = Provider
        fields = [
            "id",
            "label",
            "description",
            "type",
            "capability",
            "urls",
            "enabled",
            "credentials",
            "linkedProjects",
            "createdAt",
            "updatedAt",
            "createdBy",
            "updatedBy",
            "lastTest",
        ]
        read_only_fields = fields

    def get_credentials(self, obj: Provider) -> CredentialMetadataSerializer(allow_null=True):  # type: ignore[valid-type]
        credential = getattr(obj, "credential", None)
        return CredentialMetadataSerializer(credential).data if credential is not None else None

    def to_representation(self, instance: dict[str, Any]) -> dict:
        """The declared fields above, built directly from a `selectors.provider_rows()` row: lists
        show 50-500 of these per request, and DRF's generic walk over model instances costs
        ~0.1 ms a row. Tests hold it equal to the generic path."""
        row = instance
        return {
            "id": row["provider_id"],
            "label": row["label"],
            "description": row["description"],
            "type": row["type"],
            "capability": PROVIDER_TYPES[row["type"]].capability,
            "urls": {"base": row["base_url"], "apiBase": row["api_base_url"]},
            "enabled": row["enabled"],
            "credentials": None
            if row["credential_type"] is None
            else {
                "type": row["credential_type"],
                "set": True,
                "fingerprint": row["credential_fingerprint"],
                "updatedAt": iso_datetime(row["credential_updated_at"]),
                "expiresAt": iso_datetime(row["credential_expires_at"]),
            },
            "linkedProjects": row["linked_projects"],
            "createdAt": iso_datetime(row["created_at"]),
            "updatedAt": iso_datetime(row["updated_at"]),
            "createdBy": row["created_by_name"],
            "updatedBy": row["updated_by_name"],
            "lastTest": {
                "ok": row["last_test_ok"],
                "at": iso_datetime(row["last_tested_at"]),
                "message": row["last_test_message"],
            },
        }


PROJECT_API_NAMES = {
    "project_id": "id",
    "provider": "repository.providerId",
    "repository_path": "repository.path",
}


class RepositorySerializer(serializers.Serializer):
    providerId = serializers.CharField(source="provider.provider_id", default=None)  # noqa: N815
    path = serializers.CharField(source="repository_path")


class ProjectSerializer(serializers.ModelSerializer):
    api_field_names = PROJECT_API_NAMES

    id = serializers.CharField(source="project_id")
    repository = RepositorySerializer(source="*")
    owners = serializers.ManyRelatedField(
        child_relation=serializers.SlugRelatedField(slug_field="username", read_only=True), read_only=True
    )
    createdAt = serializers.DateTimeField(source="created_at")  # noqa: N815
    updatedAt = serializers.DateTimeField(source="updated_at")  # noqa: N815

    class Meta:
        model = Project
        fields = ["id", "name", "description", "repository", "owners", "createdAt", "updatedAt"]
        read_only_fields = fields

    def to_representation(self, instance: dict[str, Any]) -> dict:
        """The declared fields, built from a `selectors.project_rows()` row with its owners."""
        row = instance
        return {
            "id": row["project_id"],
            "name": row["name"],
            "description": row["description"],
            "repository": {"providerId": row["provider_key"], "path": row["repository_path"]},
            "owners": row["owners"],
            "createdAt": iso_datetime(row["created_at"]),
            "updatedAt": iso_datetime(row["updated_at"]),
        }


class ProviderIdField(SlugLookupField):
    default_error_messages = {
        "does_not_exist": "No provider with id “{value}”.",
        "invalid": "Expected a provider id (string) or null.",
    }

    def __init__(self, **kwargs):
        super().__init__(slug_field="provider_id", queryset=Provider.objects, allow_null=True, max_length=64, **kwargs)


class RepositoryInputSerializer(StrictSerializer):
    providerId = ProviderIdField(required=False)  # noqa: N815
    path = StrictCharField(required=False, allow_blank=True, max_length=500)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Link the project to a provider",
            request_only=True,
            value={"repository": {"providerId": "my-github-provider"}},
        ),
        OpenApiExample("Same, short form", request_only=True, value={"providerId": "my-github-provider"}),
    ]
)
class ProjectWriteSerializer(StrictSerializer):
    """Body of `PATCH /api/backend/projects/{id}`. Project owners may change `description` and
    `repository` (or its shortcut `providerId`); operators may change everything."""

    api_field_names = PROJECT_API_NAMES

    name = StrictCharField(max_length=200, required=False)
    description = StrictCharField(required=False, allow_blank=True, max_length=2000)
    repository = RepositoryInputSerializer(required=False)
    providerId = ProviderIdField(required=False, help_text="Shortcut for `repository.providerId`.")  # noqa: N815
    owners = SlugLookupField(slug_field="username", queryset=User.objects.all(), many=True, required=False)

    @staticmethod
    def requested_fields(data) -> set[str]:
        """The model fields a raw body asks to change, read before any value is looked up."""
        if not isinstance(data, dict):
            return set()
        names = {"name": "name", "description": "description", "owners": "owners", "providerId": "provider"}
        fields = {names[key] for key in data if key in names}
        repository = data.get("repository")
        if isinstance(repository, dict):
            fields |= {"provider" if key == "providerId" else "repository_path" for key in repository}
        return fields

    def validate(self, attrs):
        repository = attrs.get("repository", {})
        if "providerId" in attrs and "providerId" in repository and attrs["providerId"] != repository["providerId"]:
            raise serializers.ValidationError({"providerId": ["Differs from `repository.providerId`."]})
        return attrs

    def to_service_data(self) -> dict:
        data = dict(self.validated_data)
        fields = {name: data[name] for name in ("name", "description", "owners") if name in data}
        repository = data.get("repository", {})
        if "providerId" in data:
            fields["provider"] = data["providerId"]
        if "providerId" in repository:
            fields["provider"] = repository["providerId"]
        if "path" in repository:
            fields["repository_path"] = repository["path"]
        return fields


class CredentialVersionSerializer(serializers.Serializer):
    """A replaced set of credentials: metadata only."""

    id = serializers.IntegerField()
    type = serializers.CharField()
    fingerprint = serializers.CharField()
    setAt = serializers.DateTimeField(source="set_at")  # noqa: N815
    setBy = serializers.CharField(source="set_by.username", default=None)  # noqa: N815
    replacedAt = serializers.DateTimeField(source="replaced_at")  # noqa: N815
    replacedBy = serializers.CharField(source="replaced_by.username", default=None)  # noqa: N815
    expiresAt = serializers.DateTimeField(source="expires_at", allow_null=True)  # noqa: N815
    restorableUntil = serializers.SerializerMethodField()  # noqa: N815

    def get_restorableUntil(self, obj) -> str:  # noqa: N802
        return credential_rollback_deadline(obj).isoformat()


class RollbackSerializer(StrictSerializer):
    version = serializers.IntegerField(min_value=1, help_text="Id of a version from the credentials history.")


class ConnectionTestSerializer(serializers.Serializer):
    """The outcome of `POST /api/backend/providers/{providerId}/test`; never quotes a secret."""

    ok = serializers.BooleanField()
    status = serializers.IntegerField(
        allow_null=True, help_text="The HTTP status the provider answered; null when it did not answer."
    )
    message = serializers.CharField(help_text="What happened, safe to show.")
    identity = serializers.CharField(
        allow_blank=True, help_text="Who the provider says the credentials belong to (git providers), when it says."
    )
    testedAt = serializers.DateTimeField()  # noqa: N815
