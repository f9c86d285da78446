"""Server-side HTTP GET of user-supplied URLs (OIDC discovery, SAML metadata, test connection).

Security invariant 7: the host is resolved once, every address it resolves to must be public
(or inside an operator-allowed network from ``OUTBOUND_ALLOWED_NETWORKS``), and the connection
goes to that checked address, so a DNS answer that changes between the check and the connect
(rebinding) cannot point the request at an internal service. Redirects are never followed, the
whole exchange has a deadline and the body has a size cap. Only the standard library is used so
that no HTTP client's proxy, redirect or retry defaults can slip in.
"""

import http.client
import ipaddress
import re
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

USER_AGENT = "provider-registry/1.0"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_READ_CHUNK = 64 * 1024
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
# fetch() owns these: Host must match the checked URL, and the body framing and encoding are
# what the reader below expects.
_MANAGED_HEADERS = frozenset({"host", "connection", "content-length", "transfer-encoding", "accept-encoding"})
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")

AddrInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]


class FetchError(Exception):
    """A fetch was refused or failed.

    ``str()`` is safe to show to users: it names the host and the reason, never a response
    body, a query string, a header value or credentials. ``status`` is the HTTP status when the
    server answered (a redirect, an oversized body), otherwise ``None``.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    request_target: str


def fetch(
    url: str,
    *,
    accept: str = "*/*",
    headers: dict[str, str] | None = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
    method: str = "GET",
    body: bytes | None = None,
) -> FetchResult:
    """GET ``url`` (or send ``body`` with ``method``, e.g. a token request) under the outbound
    policy and return the response, whatever its status.

    Non-2xx answers are returned so callers can report the status; redirects (3xx) raise
    because following them would bypass the address check. ``timeout`` (default
    ``OUTBOUND_TIMEOUT``) bounds the whole exchange, so a server trickling bytes cannot hold a
    worker; ``max_bytes`` (default ``OUTBOUND_MAX_BYTES``) caps the body. ``headers`` may not set
    Host, Connection or the body framing headers (ValueError: that is a programming error).
    """
    timeout = float(settings.OUTBOUND_TIMEOUT if timeout is None else timeout)
    max_bytes = int(settings.OUTBOUND_MAX_BYTES if max_bytes is None else max_bytes)
    target = _parse_url(url)
    request_headers = _request_headers(accept, headers)
    addresses = _resolve_and_check(target)

    # SNI and certificate verification use the name from the URL, not the address.
    tls = ssl.create_default_context() if target.scheme == "https" else None
    deadline = time.monotonic() + timeout
    sock = _connect(addresses, target, tls, deadline)
    try:
        return _exchange(sock, url, target, tls, request_headers, deadline, max_bytes, method, body)
    finally:
        sock.close()


def _parse_url(url: str) -> _Target:
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        raise FetchError("The URL must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError("The URL is not valid.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError("Only http and https URLs can be fetched.")
    if "@" in parts.netloc:
        raise FetchError("URLs with a user name or password are not allowed; supply credentials separately.")
    if not parts.hostname:
        raise FetchError("The URL has no host.")
    if port == 0:
        raise FetchError("The URL has an invalid port.")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise FetchError("The URL's host name is not valid.") from exc
    request_target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(
        scheme=scheme, host=host, port=port or (443 if scheme == "https" else 80), request_target=request_target
    )


def _request_headers(accept: str, extra: dict[str, str] | None) -> dict[str, str]:
    merged: dict[str, tuple[str, str]] = {
        "user-agent": ("User-Agent", USER_AGENT),
        "accept": ("Accept", accept),
        "connection": ("Connection", "close"),
    }
    for name, value in (extra or {}).items():
        if name.lower() in _MANAGED_HEADERS:
            raise ValueError(f"fetch() sets the {name} header itself.")
        merged[name.lower()] = (name, value)
    for name, value in merged.values():
        # Checked here rather than left to http.client, whose error message quotes the value,
        # which may be a credential.
        if not _HEADER_NAME.fullmatch(name) or not _HEADER_VALUE.fullmatch(value):
            raise FetchError(f"The request header {name[:40]!r} is not valid.")
    return dict(merged.values())


def _resolve_and_check(target: _Target) -> list[AddrInfo]:
    """Resolve the host once and refuse it if any address is internal and not allowed.

    Every address is checked, not just the first: the one the connect ends up using must not be
    a private one hidden behind a public one.
    """
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"Could not resolve {target.host}.") from exc
    allowed = _allowed_networks()
    usable: list[AddrInfo] = [info for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]
    if not usable:
        raise FetchError(f"Could not resolve {target.host}.")
    for info in usable:
        address = ipaddress.ip_address(info[4][0])
        if not _is_permitted(address, allowed):
            raise FetchError(
                f"{target.host} is a private, loopback, link-local or reserved address; fetching it is not allowed."
            )
    return usable


def _allowed_networks() -> list[IPNetwork]:
    networks = []
    for value in settings.OUTBOUND_ALLOWED_NETWORKS:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"OUTBOUND_ALLOWED_NETWORKS: {value!r} is not a network in CIDR form.") from exc
    return networks


def _is_permitted(address: IPAddress, allowed: list[IPNetwork]) -> bool:
    judged = _addresses_to_judge(address)
    if any(
        candidate.version == network.version and candidate in network for candidate in judged for network in allowed
    ):
        return True
    return not any(_is_internal(candidate) for candidate in judged)


def _addresses_to_judge(address: IPAddress) -> list[IPAddress]:
    """The addresses a packet to ``address`` really reaches: IPv6 forms that embed an IPv4
    address (mapped, NAT64, 6to4, Teredo) are judged by the embedded address as well."""
    if not isinstance(address, ipaddress.IPv6Address):
        return [address]
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address in _NAT64_PREFIX:
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    judged: list[IPAddress] = [address]
    if address.sixtofour is not None:
        judged.append(address.sixtofour)
    if address.teredo is not None:
        judged.extend(address.teredo)
    return judged


def _is_internal(address: IPAddress) -> bool:
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
        # Catches the special ranges the flags above miss, e.g. 100.64.0.0/10 (carrier-grade
        # NAT, where some clouds put their metadata service).
        or not address.is_global
    )


def _remaining(deadline: float, host: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(f"Timed out waiting for {host}.")
    return left


def _connect(addresses: list[AddrInfo], target: _Target, tls: ssl.SSLContext | None, deadline: float) -> socket.socket:
    """Connect to the first reachable checked address; the host name is never looked up again."""
    last_error: OSError | None = None
    for family, kind, proto, _, sockaddr in addresses:
        left = _remaining(deadline, target.host)
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(left)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        if tls is None:
            return sock
        try:
            return tls.wrap_socket(sock, server_hostname=target.host)
        except OSError as exc:
            sock.close()
            raise _connection_error(exc, target.host) from exc
    raise _connection_error(last_error, target.host)


def _exchange(
    sock: socket.socket,
    url: str,
    target: _Target,
    tls: ssl.SSLContext | None,
    request_headers: dict[str, str],
    deadline: float,
    max_bytes: int,
    method: str = "GET",
    body: bytes | None = None,
) -> FetchResult:
    connection: http.client.HTTPConnection
    if tls is None:
        connection = http.client.HTTPConnection(target.host, target.port)
    else:
        # Same default port as the URL scheme, so the Host header omits ":443".
        connection = http.client.HTTPSConnection(target.host, target.port, context=tls)
    # A preset socket keeps http.client from connecting (and resolving the name) by itself.
    connection.sock = sock
    try:
        sock.settimeout(_remaining(deadline, target.host))
        connection.request(method, target.request_target, body=body, headers=request_headers)
        sock.settimeout(_remaining(deadline, target.host))
        response = connection.getresponse()
        status = response.status
        if 300 <= status < 400:
            raise FetchError(
                f"{target.host} redirected (HTTP {status}); redirects are not followed.",
                status=status,
            )
        declared = response.getheader("Content-Length")
        if declared is not None and declared.strip().isdigit() and int(declared) > max_bytes:
            raise FetchError(f"The response from {target.host} is larger than {max_bytes} bytes.", status=status)
        body = _read_body(response, sock, target.host, deadline, max_bytes, status)
        response_headers: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            response_headers[key] = f"{response_headers[key]}, {value}" if key in response_headers else value
        return FetchResult(url=url, status=status, headers=response_headers, body=body)
    except FetchError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        raise _connection_error(exc, target.host) from exc
    finally:
        connection.close()


def _read_body(
    response: http.client.HTTPResponse,
    sock: socket.socket,
    host: str,
    deadline: float,
    max_bytes: int,
    status: int,
) -> bytes:
    """Read at most ``max_bytes + 1`` bytes: one byte over the cap proves the body is too large
    without buffering the rest of it."""
    chunks: list[bytes] = []
    total = 0
    # http.client closes the response (and so the socket) itself once the body is complete.
    while not response.isclosed():
        sock.settimeout(_remaining(deadline, host))
        chunk = response.read(min(_READ_CHUNK, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise FetchError(f"The response from {host} is larger than {max_bytes} bytes.", status=status)
    return b"".join(chunks)


def _connection_error(exc: BaseException | None, host: str) -> FetchError:
    """A user-facing message for a transport failure; the exception's own text is left out
    because it can quote request data."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return FetchError(f"The TLS certificate of {host} could not be verified ({exc.verify_message}).")
    if isinstance(exc, TimeoutError):
        return FetchError(f"Timed out waiting for {host}.")
    if isinstance(exc, ssl.SSLError):
        return FetchError(f"The TLS handshake with {host} failed.")
    if isinstance(exc, ConnectionRefusedError):
        return FetchError(f"{host} refused the connection.")
    if isinstance(exc, http.client.IncompleteRead):
        return FetchError(f"{host} closed the connection before sending the whole response.")
    if isinstance(exc, http.client.HTTPException):
        return FetchError(f"{host} did not send a valid HTTP response.")
    if isinstance(exc, OSError) and exc.strerror:
        return FetchError(f"Could not connect to {host}: {exc.strerror}.")
    return FetchError(f"Could not connect to {host}.")
