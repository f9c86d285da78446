"""A token sent in a query string (`?token=`, `?access_token=`) never reaches a log: the request lines
of gunicorn's access log and of the development server (django.server), and Django's request logging,
show the parameter with its value redacted. Real servers, their real output."""

import pytest

from tests.servers import serve

SECRETS = {"token": "query-token-0a1b2c", "access_token": "query-access-3d4e5f", "client_secret": "query-secret-6a7b"}
QUERY = "&".join(f"{name}={value}" for name, value in SECRETS.items()) + "&page=2"
PATHS = [f"/api/idps?{QUERY}", f"/api/no-such-endpoint?{QUERY}", f"/admin/login/?{QUERY}"]


def assert_redacted(logs: str, path: str) -> None:
    for secret in SECRETS.values():
        assert secret not in logs, logs
    assert "token=[REDACTED]" in logs and "access_token=[REDACTED]" in logs, logs
    assert "page=2" in logs  # what is not a secret stays
    assert path.split("?")[0] in logs


@pytest.mark.parametrize("path", PATHS)
def test_gunicorn_access_log_redacts_tokens_in_query_strings(path):
    env = {"DJANGO_SECURE_SSL_REDIRECT": "false", "DJANGO_LOG_LEVEL": "INFO"}
    with serve("config.settings.production", server="gunicorn", env=env) as running:
        running.request("GET", path, headers={"Referer": f"https://app.test/page?{QUERY}"})
        logs = running.logs(containing='"GET ')

    assert f'"GET {path.split("?")[0]}?' in logs  # the access log's request line
    assert_redacted(logs, path)


@pytest.mark.parametrize("path", PATHS)
def test_development_server_and_django_request_logs_redact_tokens_in_query_strings(path):
    with serve("config.settings.local") as running:
        running.request("GET", path)
        running.request("GET", path, headers={"Host": "attacker.test"})  # logged by django.security too
        logs = running.logs(containing='"GET ', count=2)

    assert f'"GET {path.split("?")[0]}?' in logs  # the development server's request line
    assert_redacted(logs, path)
