"""The application served by a real server process (Django's development server or gunicorn) with one
of the settings modules, for the tests that are about what such a server answers and logs."""

import http.client
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0]


@dataclass
class RunningServer:
    port: int
    output: Path  # what the process wrote on stdout and stderr (its logs)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
            response = connection.getresponse()
            return Answer(response.status, response.headers, response.read())
        finally:
            connection.close()

    def logs(self, *, containing: str = "", count: int = 1) -> str:
        """The output so far; with `containing`, once it holds that text `count` times (a server
        writes its log line after the answer) or after 10 s."""
        deadline = time.monotonic() + 10
        text = self.output.read_text(errors="replace")
        while text.count(containing) < count and time.monotonic() < deadline:
            time.sleep(0.05)
            text = self.output.read_text(errors="replace")
        return text


@contextmanager
def serve(
    settings_module: str, *, server: str = "runserver", env: dict[str, str] | None = None
) -> Iterator[RunningServer]:
    """`server` is "runserver" (what `make run` starts) or "gunicorn" (what `make serve` starts, with
    its access log on stdout). The database is an empty SQLite file of its own."""
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / "server.log"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DATABASE_URL": f"sqlite:///{directory}/db.sqlite3",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "FERNET_KEYS": ",".join(settings.FERNET_KEYS),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
            "XDG_RUNTIME_DIR": directory,  # gunicorn's control socket: one per server, not one per user
            **(env or {}),
        }
        if server == "gunicorn":
            command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
            command += ["--workers", "1", "--access-logfile", "-", "--config", "python:config.gunicorn"]
        else:
            command = [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"]
        with output.open("wb") as sink:
            process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=environment, stdout=sink, stderr=sink)
        running = RunningServer(port, output)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError(f"{server} did not start: {running.logs()[-2000:]}") from None
                    time.sleep(0.1)
            yield running
        finally:
            process.terminate()
            process.wait(timeout=10)
