"""The floor: bare Django views (no DRF, no authentication, no serializers) that return the same
rows as the product's endpoints as JSON, each read with a single `.values()` query, and whose
writes write the same rows as the product's (provider, encrypted credentials, credential version,
admin history entry, audit events) with plain model calls in one transaction. What the product
costs above these is the price of its API layer."""

import json
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.expressions import ArraySubquery
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import OuterRef
from django.db.models.functions import JSONObject
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from accounts.models import User
from bench import seed
from providers import selectors
from providers.catalog import PROVIDER_TYPES
from providers.identity import selectors as identity_selectors
from providers.models import (
    AuditEvent,
    Credential,
    CredentialVersion,
    IdentityProviderDomain,
    IdentityProviderMapper,
    Project,
    Provider,
)
from providers.services import credential_fingerprint

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


@cache
def _operator() -> tuple[int, str]:
    """The user the floor's rows are attributed to (it has no authentication): the harness's
    operator, looked up once per process."""
    return User.objects.values_list("pk", "username").get(username=seed.OPERATOR)


def _history(request, provider: Provider, *, flag: int, message: list, audits: list[tuple[str, list[str]]]) -> None:
    """The admin history entry and the audit events the product writes for the same change."""
    user_id, username = _operator()
    LogEntry.objects.create(
        user_id=user_id,
        content_type_id=ContentType.objects.get_for_model(Provider).pk,
        object_id=str(provider.pk),
        object_repr=str(provider)[:200],
        action_flag=flag,
        change_message=json.dumps(message),
    )
    for action, fields in audits:
        AuditEvent.objects.create(
            actor_id=user_id,
            actor_name=username,
            action=action,
            object_type="provider",
            object_id=provider.provider_id,
            object_repr=str(provider)[:200],
            fields=fields,
            source="api",
            ip=request.META.get("REMOTE_ADDR"),
        )


def _credential_values(credentials: dict) -> dict:
    content = credentials["content"]
    return {
        "type": credentials["type"],
        "secret": json.dumps(content),  # encrypted by the field, as in the product
        "fingerprint": credential_fingerprint(content),
        "expires_at": credentials.get("expiresAt"),
        "updated_by_id": _operator()[0],
    }


@csrf_exempt
def providers_create(request):
    """The rows the product's create writes (the provider, its encrypted credentials, the admin
    history entry, the audit event) in one transaction, then the same read as the floor's detail."""
    body = json.loads(request.body)
    ptype = PROVIDER_TYPES[body["type"]]
    with transaction.atomic():
        provider = Provider.objects.create(
            provider_id=body["id"],
            label=body["label"],
            type=body["type"],
            base_url=ptype.base_url,
            api_base_url=ptype.api_base_url,
            created_by_id=_operator()[0],
            updated_by_id=_operator()[0],
        )
        Credential.objects.create(provider=provider, **_credential_values(body["credentials"]))
        _history(request, provider, flag=ADDITION, message=[{"added": {}}], audits=[("create", [])])
    response = provider_detail(request, provider.provider_id)
    response.status_code = 201
    return response


@csrf_exempt
def provider_patch(request, provider_id):
    """The rows the product's PATCH writes: the provider (locked, as the product locks it to check
    If-Match); with credentials, the replaced ones kept as a version, versions past the rollback
    window deleted, the new ones encrypted; the history entry and the audit events. Then the read."""
    body = json.loads(request.body)
    credentials = body.get("credentials")
    with transaction.atomic():
        provider = Provider.objects.select_for_update().get(provider_id=provider_id)
        changed = [name for name in ("label",) if name in body]
        for name in changed:
            setattr(provider, name, body[name])
        provider.updated_by_id = _operator()[0]
        provider.save(update_fields=[*changed, "updated_at", "updated_by"])
        audits = []
        if credentials is not None:
            current = Credential.objects.get(provider=provider)
            CredentialVersion.objects.create(
                provider=provider,
                type=current.type,
                secret=current.secret,
                fingerprint=current.fingerprint,
                expires_at=current.expires_at,
                set_at=current.updated_at,
                set_by_id=current.updated_by_id,
                replaced_by_id=_operator()[0],
            )
            cutoff = timezone.now() - timedelta(days=settings.CREDENTIAL_ROLLBACK_DAYS)
            CredentialVersion.objects.filter(provider=provider, replaced_at__lt=cutoff).delete()
            for name, value in _credential_values(credentials).items():
                setattr(current, name, value)
            current.save()
            audits.append(("rotate", ["credentials"]))
            changed.append("credentials")
        audits.append(("update", changed))
        _history(request, provider, flag=CHANGE, message=[{"changed": {"fields": changed}}], audits=audits)
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
