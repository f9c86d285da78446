"""Template filters of the admin pages (the dashboard), sharing the provider page's formatting."""

from django import template

from providers.display import expiry_text

register = template.Library()


@register.filter
def expiry(when) -> str:
    """`{{ credential.expires_at|expiry }}`: “⚠ expires 2026-12-14 (in 12 days)” (see expiry_text)."""
    return expiry_text(when) if when else "—"
