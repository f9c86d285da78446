"""TXT lookups for domain verification of identity providers.

Queries go to the name servers in settings.IDP_DNS_NAMESERVERS when set (so operators can point
verification at an authoritative or internal server, and tests at a fake one), otherwise to the
system resolver. Answers are never cached: a verification must see the record as it is now."""

import ipaddress
import re

import dns.exception
import dns.nameserver
import dns.resolver
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

LABEL_RE = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")


class DnsLookupError(Exception):
    """A lookup that could not be answered (timeout, server failure). The message names only the
    queried name and the kind of failure, so it is safe to show to the operator."""


def _hostname(name: str) -> str:
    """`name` as an absolute ASCII DNS name, or ValueError. Underscore labels are allowed because
    verification records conventionally live under names such as "_registry.example.com"."""
    if not isinstance(name, str):
        raise ValueError("A host name must be a string.")
    text = name.strip().removesuffix(".")
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"{name[:100]!r} is not a valid host name.") from exc
    labels = text.split(".")
    if len(text) > 253 or not all(LABEL_RE.match(label) for label in labels) or labels[-1].isdigit():
        raise ValueError(f"{name[:100]!r} is not a valid host name.")
    return text + "."


def _nameserver(entry: str) -> dns.nameserver.Do53Nameserver:
    """Parse one IDP_DNS_NAMESERVERS entry: "host", "host:port", "[v6]:port" or a bare IPv6 address."""
    host, port = entry.strip(), 53
    if host.startswith("["):
        host, _, tail = host[1:].partition("]")
        if tail:
            port = int(tail.removeprefix(":"))
    elif host.count(":") == 1:
        host, _, port_text = host.partition(":")
        port = int(port_text)
    try:
        ipaddress.ip_address(host)
    except ValueError as exc:
        raise ImproperlyConfigured(f"IDP_DNS_NAMESERVERS entries must be IP addresses, got {entry!r}.") from exc
    return dns.nameserver.Do53Nameserver(host, port)


def _resolver() -> dns.resolver.Resolver:
    timeout = float(settings.IDP_DNS_TIMEOUT)
    servers = list(settings.IDP_DNS_NAMESERVERS)
    if servers:
        try:
            nameservers = [_nameserver(entry) for entry in servers]
        except ValueError as exc:  # a port that is not a number
            raise ImproperlyConfigured(f"Invalid IDP_DNS_NAMESERVERS: {exc}") from exc
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = nameservers
    else:
        try:
            resolver = dns.resolver.Resolver()
        except dns.exception.DNSException as exc:  # e.g. no /etc/resolv.conf in a slim container
            raise DnsLookupError("DNS lookup failed: no system resolver is configured.") from exc
    resolver.timeout = timeout
    resolver.lifetime = timeout
    resolver.cache = None
    return resolver


def txt_records(name: str) -> list[str]:
    """Every TXT record at `name`, each record's strings joined (long values are split into
    255-byte strings on the wire). A name without TXT records, or that does not exist, gives [].

    Raises ValueError for a name that is not a host name and DnsLookupError when the lookup fails."""
    qname = _hostname(name)
    shown = qname.removesuffix(".")
    resolver = _resolver()
    try:
        answer = resolver.resolve(qname, "TXT", search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.resolver.LifetimeTimeout as exc:
        raise DnsLookupError(f"DNS lookup for {shown} failed: no answer within {resolver.lifetime:g} s.") from exc
    except dns.resolver.NoNameservers as exc:
        raise DnsLookupError(f"DNS lookup for {shown} failed: the name servers could not answer.") from exc
    except dns.exception.DNSException as exc:
        raise DnsLookupError(f"DNS lookup for {shown} failed: {type(exc).__name__}.") from exc
    except OSError as exc:
        raise DnsLookupError(f"DNS lookup for {shown} failed: network error.") from exc
    return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]
