"""The database stops in the middle of a request and comes back: the running server (gunicorn, the
production settings) answers 503 JSON while it is down, leaves nothing half-written, and serves
again once the database is back, without a restart."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.db import connection

from accounts.services import api_token_create
from providers.models import AuditEvent, Credential, Provider
from tests.bodies import git_provider_body
from tests.factories import OperatorFactory
from tests.fakes.tcp_proxy import TcpProxy

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the outage is staged between the server and PostgreSQL"
)

CREATE = git_provider_body("outage-github", label="GitHub", token="outage-token")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, base_url: str, process: subprocess.Popen, token: str = ""):
        self.base_url = base_url
        self.process = process
        self.token = token

    def call(self, method: str, path: str, body=None, **headers: str) -> tuple[int, dict[str, str], object]:
        request = urllib.request.Request(
            self.base_url + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}", **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, headers, raw = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, dict(error.headers), error.read()
        if headers.get("Content-Type") == "application/json":
            return status, headers, json.loads(raw)
        return status, headers, raw.decode()


@pytest.fixture
def proxied_server(transactional_db):
    database = connection.settings_dict
    proxy = TcpProxy((database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432)))
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": f"postgres://{database['USER']}@127.0.0.1:{proxy.port}/{database['NAME']}",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "FERNET_KEYS": ",".join(settings.FERNET_KEYS),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": "CRITICAL",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 30
    while True:
        try:
            server.call("GET", "/api/idps")
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.2)
    yield server, proxy
    process.terminate()
    process.wait(timeout=10)
    proxy.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_database_outage_is_503_then_recovers_without_restart(proxied_server):
    server, proxy = proxied_server
    _, server.token = api_token_create(user=OperatorFactory(), name="outage")
    assert server.call("GET", "/api/backend/providers")[0] == 200

    proxy.go_down_on(b'INSERT INTO "providers_credential"')
    status, headers, body = server.call("POST", "/api/backend/providers", CREATE)

    assert status == 503, body
    assert headers["Content-Type"] == "application/json"
    assert headers["Retry-After"] == "5"
    assert body == {"detail": "The service is temporarily unavailable; try again shortly."}
    for method, path in [("GET", "/api/backend/providers"), ("GET", "/api/idps"), ("POST", "/api/backend/providers")]:
        status, _, body = server.call(method, path, CREATE if method == "POST" else None)
        assert status == 503, (method, path, body)
        assert body["detail"]
    status, headers, page = server.call("GET", "/admin/", Cookie="sessionid=an-operators-session")
    assert (status, headers["Retry-After"]) == (503, "5")
    assert "temporarily unavailable" in page
    assert not Provider.objects.filter(provider_id="outage-github").exists()
    assert Credential.objects.count() == 0
    assert not AuditEvent.objects.filter(object_id="outage-github").exists()

    proxy.come_back()

    assert server.call("GET", "/api/backend/providers")[0] == 200
    status, _, body = server.call("POST", "/api/backend/providers", CREATE)
    assert status == 201, body
    assert body["credentials"]["type"] == "token"
    assert Credential.objects.filter(provider__provider_id="outage-github").count() == 1
    assert server.process.poll() is None
