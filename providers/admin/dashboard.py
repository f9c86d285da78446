"""The operators' dashboard on the admin home page."""

from typing import Any

from django.db.models import Count, Q

from providers.identity.selectors import certificates_expiring
from providers.models import AuditEvent, IdentityProvider, Provider
from providers.selectors import EXPIRY_WARNING_DAYS, credentials_expiring


def admin_dashboard(*, user, days: int = EXPIRY_WARNING_DAYS) -> dict[str, Any]:
    """What the admin home shows an operator, each part only to whom may see its model: providers
    by type, credentials expired or expiring within `days`, failing connection tests, identity
    providers waiting for domain verification, SAML signing certificates expired or expiring within
    `days`, the latest audit events. Metadata only."""
    panel: dict[str, Any] = {
        "days": days,
        "show_providers": user.has_perm("providers.view_provider"),
        "show_identity": user.has_perm("providers.view_identityprovider"),
        "show_events": user.has_perm("providers.view_auditevent"),
    }
    panel["visible"] = panel["show_providers"] or panel["show_identity"] or panel["show_events"]
    if panel["show_providers"]:
        panel["by_type"] = list(
            Provider.objects.order_by("type")
            .values("type")
            .annotate(total=Count("pk"), enabled=Count("pk", filter=Q(enabled=True)))
        )
        expiring = credentials_expiring(days=days)
        panel["expiring"] = list(expiring[:10])
        panel["expiring_count"] = expiring.count()
        panel["failing"] = list(
            Provider.objects.filter(last_test_ok=False)
            .order_by("-last_tested_at")
            .only("pk", "provider_id", "label", "last_tested_at", "last_test_message")[:10]
        )
    if panel["show_identity"]:
        pending = IdentityProvider.objects.filter(status=IdentityProvider.Status.PENDING)
        panel["pending"] = list(pending.select_related("provider").defer("client_secret").order_by("provider")[:10])
        panel["pending_count"] = pending.count()
        certificates = certificates_expiring(days=days)
        panel["certificates"] = list(certificates[:10])
        panel["certificates_count"] = certificates.count()
    if panel["show_events"]:
        panel["events"] = list(AuditEvent.objects.order_by("-at")[:8])
    return panel
