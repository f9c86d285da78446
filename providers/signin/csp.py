"""Where a sign-in page's forms may lead. The Content-Security-Policy's `form-action 'self'`
(`providers.middleware`) is checked by the browser on every redirect that follows a form
submission, not only on the form's own URL: the email box of home-realm discovery, the "Link …"
buttons and "Log out" (at a provider with `logout_at_provider`) post here and are redirected to the
identity provider, which the policy would refuse. A page that carries such a form lists those
providers' origins (`allow_form_targets`), and the middleware adds them to that page's form-action.

The origin is the stored endpoint's; an identity provider that has only its issuer stored (the
endpoints come from discovery at login) gives the issuer's origin and, when the discovery document
is cached, its endpoint's. Nothing here fetches anything."""

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.core.cache import cache
from django.http import HttpRequest

from . import oidc

# A host name, an IPv4 address or a bracketed IPv6 address, and a port: nothing that could end a
# source expression or the directive (no space, ";" or ",").
_NETLOC = re.compile(r"^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$")
REQUEST_ATTRIBUTE = "csp_form_action"


def origin(url: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, or None for anything else."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    netloc = parts.netloc.rpartition("@")[2].lower()
    if parts.scheme not in ("http", "https") or not _NETLOC.match(netloc):
        return None
    return f"{parts.scheme}://{netloc}"


def allow_form_targets(request: HttpRequest, urls: Iterable[str]) -> None:
    """Let this response's forms lead to these URLs' origins (after a redirect here)."""
    targets: set[str] = request.__dict__.setdefault(REQUEST_ATTRIBUTE, set())
    targets.update(found for found in map(origin, urls) if found)


def form_targets(request: HttpRequest) -> list[str]:
    """The origins this response's form-action allows besides 'self' (for the middleware)."""
    return sorted(getattr(request, REQUEST_ATTRIBUTE, ()))


def endpoint_urls(rows: Iterable[tuple[str, str]], *, endpoint: str = "authorization_endpoint") -> list[str]:
    """The URLs a form may be redirected to for (stored endpoint URL, issuer) rows: the stored
    URL, else the issuer and the cached discovery document's `endpoint`."""
    urls = []
    for stored, issuer in rows:
        if stored:
            urls.append(stored)
        elif issuer:
            urls.append(issuer)
            document = cache.get(oidc.discovery_cache_key(issuer))
            if isinstance(document, dict) and isinstance(document.get(endpoint), str):
                urls.append(document[endpoint])
    return urls
