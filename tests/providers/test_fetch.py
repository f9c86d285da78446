import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from cryptography.hazmat.primitives import serialization
from werkzeug import Request, Response

from providers.fetch import FetchError, fetch
from tests.certificates import self_signed


def pin_name_to_loopback(monkeypatch, name):
    """Makes `name` resolve to 127.0.0.1 and returns the list of names looked up."""
    lookups = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        return real_getaddrinfo("127.0.0.1" if host == name else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


@contextmanager
def one_shot_server(response: bytes, tls: ssl.SSLContext | None = None) -> Iterator[tuple[int, list[bytes]]]:
    """A server that answers one connection with raw bytes, for what Werkzeug's dev server
    cannot send (chunked bodies, TLS); yields its port and the request heads it received."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    received: list[bytes] = []

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            try:
                stream = tls.wrap_socket(conn, server_side=True) if tls else conn
                head = b""
                while b"\r\n\r\n" not in head and (chunk := stream.recv(4096)):
                    head += chunk
                received.append(head)
                stream.sendall(response)
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], received
    finally:
        thread.join(6)
        listener.close()


def make_tls_certificate(tmp_path, host):
    certificate, key = self_signed(host, days=1, server=True)
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return cert_pem.decode(), server_context


def test_fetch_returns_status_lowercased_headers_and_body(httpserver):
    httpserver.expect_request(
        "/config", headers={"User-Agent": "provider-registry/1.0", "Accept": "application/json"}
    ).respond_with_json({"ok": True}, headers={"X-Request-Id": "abc"})

    result = fetch(httpserver.url_for("/config"), accept="application/json")

    assert result.status == 200
    assert result.url == httpserver.url_for("/config")
    assert result.headers["content-type"] == "application/json"
    assert result.headers["x-request-id"] == "abc"
    assert json.loads(result.body) == {"ok": True}


def test_fetch_sends_path_query_and_extra_headers(httpserver):
    httpserver.expect_request(
        "/api/user", query_string="page=2&q=a", headers={"Authorization": "Bearer t0ken"}
    ).respond_with_data("hi")

    result = fetch(httpserver.url_for("/api/user?page=2&q=a"), headers={"Authorization": "Bearer t0ken"})

    assert result.status == 200
    assert result.body == b"hi"


def test_fetch_returns_non_2xx_responses_instead_of_raising(httpserver):
    httpserver.expect_request("/missing").respond_with_data("no such realm", status=404)

    result = fetch(httpserver.url_for("/missing"))

    assert result.status == 404
    assert result.body == b"no such realm"


def test_fetch_refuses_redirects_without_requesting_the_target(httpserver):
    httpserver.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/target")}
    )
    httpserver.expect_request("/target").respond_with_data("secret internal page")

    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/start"))

    assert caught.value.status == 302
    assert "redirected (HTTP 302); redirects are not followed" in str(caught.value)
    assert [request.path for request, _ in httpserver.log] == ["/start"]


def test_fetch_refuses_a_body_whose_content_length_exceeds_the_limit(httpserver):
    httpserver.expect_request("/big").respond_with_data(b"x" * 101)

    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/big"), max_bytes=100)

    assert "larger than 100 bytes" in str(caught.value)
    assert caught.value.status == 200


def test_fetch_accepts_a_body_exactly_at_the_limit(httpserver):
    httpserver.expect_request("/exact").respond_with_data(b"x" * 100)

    assert fetch(httpserver.url_for("/exact"), max_bytes=100).body == b"x" * 100


def test_fetch_refuses_a_streamed_body_without_content_length_over_the_limit(httpserver):
    def stream(request: Request) -> Response:
        return Response(b"x" * 1000 for _ in range(100))

    httpserver.expect_request("/stream").respond_with_handler(stream)

    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/stream"), max_bytes=5000)

    assert "larger than 5000 bytes" in str(caught.value)


def test_fetch_refuses_a_chunked_body_over_the_limit():
    chunk = b"x" * 1000
    response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    response += b"".join(b"3e8\r\n" + chunk + b"\r\n" for _ in range(10)) + b"0\r\n\r\n"

    with one_shot_server(response) as (port, _), pytest.raises(FetchError) as caught:
        fetch(f"http://127.0.0.1:{port}/chunked", max_bytes=2500)

    assert "larger than 2500 bytes" in str(caught.value)


def test_fetch_reads_a_chunked_body_within_the_limit():
    response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"

    with one_shot_server(response) as (port, _):
        result = fetch(f"http://127.0.0.1:{port}/chunked", max_bytes=11)

    assert result.body == b"hello world"


def test_fetch_times_out_on_a_slow_server(httpserver):
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(5)
        return Response("too late")

    httpserver.expect_request("/slow").respond_with_handler(slow)

    started = time.monotonic()
    try:
        with pytest.raises(FetchError) as caught:
            fetch(httpserver.url_for("/slow"), timeout=0.3)
        elapsed = time.monotonic() - started
    finally:
        release.set()
        # Let the single-threaded server finish this request before the next test clears it.
        deadline = time.monotonic() + 5
        while not httpserver.log and time.monotonic() < deadline:
            time.sleep(0.01)

    assert str(caught.value) == "Timed out waiting for 127.0.0.1."
    assert elapsed < 2


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "10.0.0.1",
        "192.168.1.10",
        "169.254.169.254",
        "100.100.100.200",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[fe80::1]",
        "[fd00::1]",
        "0.0.0.0",
        "224.0.0.1",
    ],
)
def test_fetch_refuses_internal_targets_without_connecting(httpserver, settings, connect_attempts, host):
    settings.OUTBOUND_ALLOWED_NETWORKS = []

    with pytest.raises(FetchError) as caught:
        fetch(f"http://{host}:{httpserver.port}/latest/meta-data/")

    assert "fetching it is not allowed" in str(caught.value)
    assert connect_attempts == []
    assert httpserver.log == []


def test_fetch_refuses_a_name_when_any_of_its_addresses_is_internal(monkeypatch, connect_attempts):
    def getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    with pytest.raises(FetchError) as caught:
        fetch("https://idp.example.com/.well-known/openid-configuration")

    assert str(caught.value) == (
        "idp.example.com is a private, loopback, link-local or reserved address; fetching it is not allowed."
    )
    assert connect_attempts == []


def test_fetch_connects_to_the_checked_address_with_the_original_host_header(httpserver, monkeypatch):
    lookups = pin_name_to_loopback(monkeypatch, "idp.example.test")
    httpserver.expect_request("/meta", headers={"Host": f"idp.example.test:{httpserver.port}"}).respond_with_data("ok")

    result = fetch(f"http://idp.example.test:{httpserver.port}/meta")

    assert result.body == b"ok"
    assert lookups == ["idp.example.test"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://127.0.0.1/metadata.xml", "Only http and https URLs can be fetched."),
        ("file:///etc/passwd", "Only http and https URLs can be fetched."),
        ("http://user:pass@127.0.0.1/", "URLs with a user name or password are not allowed"),
        ("http://token@127.0.0.1/", "URLs with a user name or password are not allowed"),
        ("http:///no-host", "The URL has no host."),
        ("http://127.0.0.1/a b", "The URL must not contain spaces or control characters."),
        ("http://127.0.0.1:99999/", "The URL is not valid."),
    ],
)
def test_fetch_refuses_unsupported_urls_without_connecting(connect_attempts, url, message):
    with pytest.raises(FetchError) as caught:
        fetch(url)

    assert str(caught.value).startswith(message)
    assert url not in str(caught.value)
    assert connect_attempts == []


def test_fetch_refuses_header_values_that_could_split_the_request(connect_attempts):
    with pytest.raises(FetchError) as caught:
        fetch("http://127.0.0.1/", headers={"Authorization": "Bearer secret\r\nX-Injected: 1"})

    assert "secret" not in str(caught.value)
    assert connect_attempts == []


def test_fetch_connection_errors_name_the_host_but_not_the_query_string():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        closed_port = probe.getsockname()[1]

    with pytest.raises(FetchError) as caught:
        fetch(f"http://127.0.0.1:{closed_port}/callback?client_secret=s3cr3t")

    assert str(caught.value) == "127.0.0.1 refused the connection."
    assert caught.value.status is None


def test_fetch_https_uses_the_url_host_for_sni_and_certificate_checks(tmp_path, monkeypatch):
    cert_pem, server_context = make_tls_certificate(tmp_path, "idp.example.test")
    server_names = []
    server_context.sni_callback = lambda sslobj, name, context: server_names.append(name)
    pin_name_to_loopback(monkeypatch, "idp.example.test")
    real_default_context = ssl.create_default_context

    def trusting_default_context(*args, **kwargs):
        context = real_default_context(*args, **kwargs)
        context.load_verify_locations(cadata=cert_pem)
        return context

    monkeypatch.setattr(ssl, "create_default_context", trusting_default_context)
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"

    with one_shot_server(response, tls=server_context) as (port, received):
        result = fetch(f"https://idp.example.test:{port}/saml/metadata")

    assert result.body == b"ok"
    assert server_names == ["idp.example.test"]
    assert f"Host: idp.example.test:{port}\r\n".encode() in received[0]


def test_fetch_https_refuses_an_untrusted_certificate(tmp_path, monkeypatch):
    _, server_context = make_tls_certificate(tmp_path, "idp.example.test")
    pin_name_to_loopback(monkeypatch, "idp.example.test")

    with (
        one_shot_server(b"HTTP/1.1 200 OK\r\n\r\n", tls=server_context) as (port, received),
        pytest.raises(FetchError) as caught,
    ):
        fetch(f"https://idp.example.test:{port}/")

    assert str(caught.value).startswith("The TLS certificate of idp.example.test could not be verified")
    assert received == []
