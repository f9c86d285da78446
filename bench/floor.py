"""The floor: bare Django views (no DRF, no authentication, no serializers) that return the same
rows as the product's endpoints as JSON, each read with a single `.values()` query. What the
product costs above these is the price of its API layer."""

import json

from django.contrib.postgres.expressions import ArraySubquery
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import OuterRef
from django.db.models.functions import JSONObject
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from providers import selectors
from providers.identity import selectors as identity_selectors
from providers.models import Credential, IdentityProviderDomain, IdentityProviderMapper, Project, Provider

PAGE = 50
PROVIDER_FIELDS = [
    "provider_id", "label", "description", "type", "base_url", "api_base_url", "enabled", "created_at",
    "updated_at", "created_by__username", "updated_by__username", "last_tested_at", "last_test_ok",
    "last_test_message", "credential__type", "credential__fingerprint", "credential__updated_at",
    "credential__expires_at", "linked_projects",
]  # fmt: skip
IDENTITY_FIELDS = [
    "provider_id", "label", "description", "enabled", "created_at", "updated_at", "identity__internal_id",
    "identity__protocol", "identity__known_provider", "identity__status", "identity__verification_token",
    "identity__client_id", "identity__issuer", "identity__authorization_url", "identity__token_url",
    "identity__user_info_url", "identity__jwks_url", "identity__default_scope", "identity__sync_mode",
    "identity__trust_email", "identity__store_token", "identity__hide_on_login", "identity__link_only",
    "identity__metadata", "identity__disabled_at", "mapper_count",
]  # fmt: skip


def _json(data, status: int = 200) -> HttpResponse:
    return JsonResponse(data, status=status, encoder=DjangoJSONEncoder, safe=False)


def providers_list(request):
    rows = selectors.provider_list().filter(provider_id__gt=request.GET.get("after", ""))
    return _json({"results": list(rows.order_by("provider_id").values(*PROVIDER_FIELDS)[:PAGE])})


def provider_detail(request, provider_id):
    return _json(selectors.provider_list().values(*PROVIDER_FIELDS).get(provider_id=provider_id))


def projects_list(request):
    owners = Project.owners.through.objects.filter(project=OuterRef("pk")).values("user__username")
    rows = (
        Project.objects.filter(project_id__gt=request.GET.get("after", ""))
        .order_by("project_id")
        .values(
            "project_id",
            "name",
            "description",
            "provider__provider_id",
            "repository_path",
            "created_at",
            "updated_at",
            owner_names=ArraySubquery(owners),
        )[:PAGE]
    )
    return _json({"results": list(rows)})


def public_idps(request):
    rows = identity_selectors.public_identity_providers().values(
        "identity__internal_id", "provider_id", "identity__protocol", "label", "enabled", "created_at"
    )
    return _json({"providers": list(rows)})


def identity_provider_detail(request, alias):
    domains = IdentityProviderDomain.objects.filter(identity=OuterRef("identity")).values(
        json=JSONObject(domain="domain", verified_at="verified_at")
    )
    row = (
        identity_selectors.identity_provider_list()
        .values(*IDENTITY_FIELDS, domain_rows=ArraySubquery(domains))
        .get(provider_id=alias)
    )
    return _json(row)


def identity_provider_mappers(request, alias):
    rows = IdentityProviderMapper.objects.filter(identity__provider__provider_id=alias).order_by("id")
    return _json({"results": list(rows.values("id", "name", "mapper_type", "sync_mode", "config", "created_at"))})


@csrf_exempt
def providers_create(request):
    """The same writes as the product's create: a provider and its encrypted credentials, atomically."""
    body = json.loads(request.body)
    with transaction.atomic():
        provider = Provider.objects.create(provider_id=body["id"], label=body["label"], type=body["type"])
        Credential.objects.create(
            provider=provider,
            type=body["credentials"]["type"],
            secret=json.dumps(body["credentials"]["content"]),
            fingerprint="floor",
        )
    return _json({"id": provider.provider_id}, status=201)


@csrf_exempt
def provider_patch(request, provider_id):
    body = json.loads(request.body)
    Provider.objects.filter(provider_id=provider_id).update(label=body["label"])
    return provider_detail(request, provider_id)


def provider_route(request, provider_id):
    return provider_patch(request, provider_id) if request.method == "PATCH" else provider_detail(request, provider_id)


def providers_route(request):
    return providers_create(request) if request.method == "POST" else providers_list(request)


urlpatterns = [
    path("providers", csrf_exempt(providers_route)),
    path("providers/<str:provider_id>", csrf_exempt(provider_route)),
    path("projects", projects_list),
    path("idps", public_idps),
    path("identity-providers/<str:alias>", identity_provider_detail),
    path("identity-providers/<str:alias>/mappers", identity_provider_mappers),
]
