"""The "canary secret" proof for the key commands: re-encrypting with new Fernet keys never prints
a secret, and a secret that no key decrypts gives errors naming the provider only. The helpers come
from tests/canary/ so all canary proofs search the same way."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from providers import keys
from providers.models import Credential, CredentialVersion, Provider
from tests.canary.database import FERNET_PREFIX
from tests.canary.lifecycle_flows import (
    API_PROVIDERS,
    PROVIDERS,
    Canaries,
    EchoProvider,
    Lifecycle,
    run_api_flow,
    store_token_provider,
)
from tests.canary.search import assert_no_leak, response_text
from tests.conftest import client_for
from tests.providers.test_keys import _clear_field_caches


@pytest.fixture
def fernet_keys(settings):
    """`fernet_keys("lost")` switches FERNET_KEYS (and the fields' cached keys, as tests/providers/
    test_keys.py does); `fernet_keys()` goes back to the suite's keys."""
    original = list(settings.FERNET_KEYS)

    def use(*names: str) -> None:
        settings.FERNET_KEYS = list(names) or original
        _clear_field_caches()

    _clear_field_caches()
    yield use
    settings.FERNET_KEYS = original
    _clear_field_caches()


def ciphertexts(provider: Provider) -> list[str]:
    """The raw stored tokens of a provider's credentials and versions."""
    tokens = []
    for model in (Credential, CredentialVersion):
        pks = set(model._base_manager.filter(provider=provider).values_list("pk", flat=True))
        rows = keys.raw_values(model, model._meta.get_field("secret"), limit=10_000)
        tokens += [token.decode("ascii") for pk, token in rows if pk in pks]
    assert tokens
    return tokens


def run_command(*args: str) -> tuple[str, str]:
    """stdout, stderr (and the error a failing run ends with) of a management command."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as exc:
        err.write(f"CommandError: {exc}")
    except SystemExit as exc:
        err.write(f"SystemExit: {exc.code}")
    return out.getvalue(), err.getvalue()


def test_key_commands_never_print_a_secret(operator, httpserver, fernet_keys):
    run = Lifecycle(canaries=Canaries(), echo=EchoProvider(httpserver))
    run_api_flow(operator, httpserver, run)
    fernet_keys("test-fernet-key-old")
    old = store_token_provider(operator, httpserver, run.canaries, "under-old-key")
    fernet_keys("lost-key-canary")
    lost = store_token_provider(operator, httpserver, run.canaries, "under-lost-key")
    fernet_keys()
    secrets = [*run.secrets, *ciphertexts(old), *ciphertexts(lost)]

    outputs = {}
    for args in (
        ("rotate_keys", "--check"),
        ("rotate_keys", "--dry-run"),
        ("rotate_keys", "--batch-size", "3"),
        ("rotate_keys", "--check"),
        ("credentials_expiring", "--days", "365"),
        ("credentials_expiring", "--days", "365", "--fail"),
        ("credentials_expiring", "--days", "0"),
    ):
        outputs[" ".join(args)] = run_command(*args)

    first_check = outputs["rotate_keys --check"]
    assert "credential.secret" in first_check[0] and "CommandError" in first_check[1]
    assert "(provider “under-lost-key”)" in outputs["rotate_keys --batch-size 3"][0]
    expiring = outputs["credentials_expiring --days 365"][0]
    assert all(provider_id in expiring for provider_id, _, _ in API_PROVIDERS), expiring
    assert "SystemExit: 1" in outputs["credentials_expiring --days 365 --fail"][1]
    surfaces = [
        (f"{name} {stream}", text)
        for name, pair in outputs.items()
        for stream, text in zip(("stdout", "stderr"), pair, strict=True)
    ]
    assert_no_leak(surfaces, secrets)


def test_undecryptable_secret_errors_name_the_provider_only(operator, httpserver, fernet_keys, caplog):
    canaries = Canaries()
    EchoProvider(httpserver)
    fernet_keys("lost-key-canary")
    provider = store_token_provider(operator, httpserver, canaries, "lost-gh")
    fernet_keys()
    version = CredentialVersion.metadata.get(provider=provider)
    secrets = [*canaries.unique, *ciphertexts(provider), FERNET_PREFIX.decode()]
    client = client_for(operator)
    url = f"{PROVIDERS}/lost-gh"
    surfaces = []

    tested = client.post(f"{url}/test")
    rollback = client.post(f"{url}/credentials/rollback", {"version": version.pk})
    for label, response in (("POST test", tested), ("POST rollback", rollback)):
        assert response.status_code == 503, (label, response.content)
        assert "lost-gh" in response.json()["detail"], response.json()
        assert "cannot be decrypted" in response.json()["detail"]
        surfaces.append((label, response_text(response)))
    for label, path in (("GET list", PROVIDERS), ("GET detail", url), ("GET credentials", f"{url}/credentials")):
        response = client.get(path)
        assert response.status_code == 200, (label, response.content)
        surfaces.append((label, response_text(response)))
    admin = Client(raise_request_exception=False)
    admin.force_login(operator)
    change = admin.get(reverse("admin:providers_provider_change", args=[provider.pk]))
    assert change.status_code == 200
    surfaces.append(("admin change page", response_text(change)))
    # The admin's test action and restore button on it (today both end in a generic 500 page).
    action = {"action": "test_connection", "confirmed": "yes", "_selected_action": [provider.pk], "index": "0"}
    changelist = reverse("admin:providers_provider_changelist")
    surfaces.append(("admin test action", response_text(admin.post(changelist, action, follow=True))))
    restore = reverse("admin:providers_provider_rollback", args=[provider.pk, version.pk])
    surfaces.append(("admin restore", response_text(admin.post(restore, follow=True))))
    surfaces.append(("logs", caplog.text))
    surfaces += [(f"log record {record.name}", str(vars(record))) for record in caplog.records]

    assert_no_leak(surfaces, secrets)
    assert not httpserver.log, "nothing may be sent when the credentials cannot be read"
