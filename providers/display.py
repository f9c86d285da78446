"""How the admin pages show dates that matter: an expiry, flagged when it is close or past."""

from datetime import timedelta

from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

from providers.selectors import EXPIRY_WARNING_DAYS


def expiry_text(when) -> str:
    """“expires 2026-12-14 (in 12 days)”, flagged when past or within EXPIRY_WARNING_DAYS."""
    now = timezone.now()
    day = timezone.localtime(when).strftime("%Y-%m-%d")
    if when <= now:
        return format_html('<strong class="expiry-expired">✗ expired {} ({} ago)</strong>', day, timesince(when, now))
    if when <= now + timedelta(days=EXPIRY_WARNING_DAYS):
        return format_html('<strong class="expiry-soon">⚠ expires {} (in {})</strong>', day, timeuntil(when, now))
    return format_html("expires {} (in {})", day, timeuntil(when, now))
