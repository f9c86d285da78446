"""Fernet key rotation: `rotate_keys`, the key checks (providers.E001/E002) and clear decryption errors."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from providers import checks, keys
from providers.models import Credential, CredentialVersion, IdentityProvider, Provider
from tests.factories import IdentityProviderFactory, ProviderFactory

pytestmark = pytest.mark.django_db


def _clear_field_caches() -> None:
    """fernet_fields caches the keys per field instance (cached_property): forget them."""
    for _, field in keys.encrypted_fields():
        for name in ("fernet", "fernet_keys", "keys"):
            field.__dict__.pop(name, None)


@pytest.fixture
def use_keys(settings):
    """`use_keys("new", "old")` sets FERNET_KEYS and makes every encrypted field pick it up; the
    caches are cleared again afterwards so later tests see the suite's keys."""

    def use(*fernet_keys: str) -> None:
        settings.FERNET_KEYS = list(fernet_keys)
        _clear_field_caches()

    _clear_field_caches()
    yield use
    _clear_field_caches()


def _raw(model, field_name: str) -> dict:
    field = model._meta.get_field(field_name)
    return dict(keys.raw_values(model, field, limit=10_000))


def _snapshot() -> dict:
    return {
        "credential": _raw(Credential, "secret"),
        "version": _raw(CredentialVersion, "secret"),
        "identity": _raw(IdentityProvider, "client_secret"),
    }


@pytest.fixture
def old_data(use_keys):
    """Five credentials, one replaced version and two identity providers (one without a secret),
    all written under "old-key"."""
    use_keys("old-key")
    providers = [ProviderFactory(provider_id=f"gh-{n}") for n in range(5)]
    CredentialVersion.objects.create(
        provider=providers[0],
        type="token",
        secret=json.dumps({"accessToken": "previous"}),
        fingerprint="x",
        set_at=timezone.now(),
    )
    IdentityProviderFactory(alias="okta-1", client_secret="client-secret-1")
    IdentityProviderFactory(alias="okta-2", client_secret=None)
    expected = {
        "credential": {c.pk: c.secret for c in Credential.objects.all()},
        "version": {v.pk: v.secret for v in CredentialVersion.objects.all()},
        "identity": {i.pk: i.client_secret for i in IdentityProvider.objects.all()},
    }
    return expected


def _decrypted() -> dict:
    return {
        "credential": {c.pk: c.secret for c in Credential.objects.all()},
        "version": {v.pk: v.secret for v in CredentialVersion.objects.all()},
        "identity": {i.pk: i.client_secret for i in IdentityProvider.objects.all()},
    }


def _rotate(**options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_keys", stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def _line(output: str, label: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(f"{label}:"))


def test_rotation_lets_the_old_key_be_removed(use_keys, old_data):
    before = _snapshot()
    use_keys("new-key", "old-key")

    out, err = _rotate(batch_size=2)

    assert _line(out, "credential.secret") == (
        "credential.secret: 5 rotated, 0 already under the first key, 0 still under older keys, 0 undecryptable"
    )
    assert _line(out, "credentialversion.secret").startswith("credentialversion.secret: 1 rotated,")
    assert _line(out, "identityprovider.client_secret").startswith("identityprovider.client_secret: 1 rotated,")
    assert "[####################] 5/5 credential.secret" in err
    assert "[########............] 2/5 credential.secret" in err  # one line per batch when not a TTY

    use_keys("new-key")
    assert _decrypted() == old_data
    after = _snapshot()
    assert after["identity"].keys() == before["identity"].keys()  # the null secret stays null
    for kind, values in before.items():
        assert all(after[kind][pk] != token for pk, token in values.items())
        assert all(keys.key_status(token) == "primary" for token in after[kind].values())


def test_check_fails_until_everything_is_under_the_first_key(use_keys, old_data):
    use_keys("new-key", "old-key")
    with pytest.raises(CommandError, match="7 values still under older keys") as exc:
        _rotate(check=True)
    assert exc.value.returncode == 1

    out, _ = _rotate(dry_run=True)
    assert "credential.secret: 5 under older keys (would be rotated), 0 under the first key" in out
    assert all(keys.key_status(t) == "old" for t in _snapshot()["credential"].values())  # nothing written

    _rotate()
    out, _ = _rotate(check=True)
    assert "Every value is under the first key" in out


def test_a_rerun_only_touches_what_is_left(use_keys, old_data):
    use_keys("new-key", "old-key")
    first = keys.reencrypt_batch(Credential, Credential._meta.get_field("secret"), None, 2)
    assert (first.rotated, first.already_primary, first.failures) == (2, 0, [])
    rotated_tokens = dict(list(_raw(Credential, "secret").items())[:2])

    out, _ = _rotate(batch_size=2)

    assert _line(out, "credential.secret").startswith("credential.secret: 3 rotated, 2 already under the first key,")
    current = _raw(Credential, "secret")
    assert all(current[pk] == token for pk, token in rotated_tokens.items())  # not re-encrypted again
    use_keys("new-key")
    assert _decrypted() == old_data


def test_an_interrupted_run_leaves_everything_readable(use_keys, old_data, monkeypatch):
    use_keys("new-key", "old-key")
    real_batch = keys.reencrypt_batch
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(keys, "reencrypt_batch", interrupted)
    with pytest.raises(CommandError, match="Interrupted") as exc:
        _rotate(batch_size=2)
    assert exc.value.returncode == 130
    monkeypatch.undo()

    assert _decrypted() == old_data
    statuses = [keys.key_status(t) for t in _raw(Credential, "secret").values()]
    assert statuses.count("primary") == 2
    assert statuses.count("old") == 3

    out, _ = _rotate(batch_size=2)
    assert _line(out, "credential.secret").startswith("credential.secret: 3 rotated, 2 already under the first key,")
    use_keys("new-key")
    assert _decrypted() == old_data


def test_a_concurrent_write_is_not_overwritten(use_keys, old_data, monkeypatch):
    use_keys("new-key", "old-key")
    field = Credential._meta.get_field("secret")
    stale = keys.raw_values(Credential, field, limit=2)
    credential = Credential.objects.get(pk=stale[0][0])
    credential.secret = json.dumps({"accessToken": "written-meanwhile"})
    credential.save()
    written = _raw(Credential, "secret")[credential.pk]
    monkeypatch.setattr(keys, "raw_values", lambda *args, **kwargs: stale)

    result = keys.reencrypt_batch(Credential, field, None, 2)

    assert (result.rotated, result.already_primary) == (1, 1)
    monkeypatch.undo()
    assert _raw(Credential, "secret")[credential.pk] == written
    assert Credential.objects.get(pk=credential.pk).secret == json.dumps({"accessToken": "written-meanwhile"})


def test_undecryptable_values_are_reported_with_their_provider(use_keys, old_data):
    use_keys("lost-key")
    ProviderFactory(provider_id="gh-lost")
    IdentityProviderFactory(alias="okta-lost", client_secret="lost-client-secret")
    use_keys("new-key", "old-key")

    out, _ = _rotate(batch_size=2)

    assert _line(out, "credential.secret").endswith(
        "5 rotated, 0 already under the first key, 0 still under older keys, 1 undecryptable"
    )
    assert "credential.secret: Credential " in out
    assert "(provider “gh-lost”)" in out
    assert "(provider “okta-lost”)" in out
    with pytest.raises(CommandError, match="2 values no configured key decrypts"):
        _rotate(check=True)

    lost = Provider.objects.get(provider_id="gh-lost")
    with pytest.raises(keys.UndecryptableSecret, match="provider “gh-lost” cannot be decrypted") as exc:
        keys.decrypt_or_raise(lambda: Credential.objects.get(provider=lost), provider=lost)
    assert exc.value.provider_id == "gh-lost"
    with (
        pytest.raises(keys.UndecryptableSecret, match="client secret of provider “okta-lost”"),
        keys.undecryptable_as("okta-lost", "client secret"),
    ):
        IdentityProvider.objects.get(provider__provider_id="okta-lost")


def test_progress_is_updated_in_place_on_a_terminal(use_keys, old_data):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    use_keys("new-key", "old-key")
    err = Terminal()
    call_command("rotate_keys", batch_size=2, stdout=io.StringIO(), stderr=err)
    output = err.getvalue()
    assert "\r[########............] 2/5 credential.secret\r[################....] 4/5" in output
    assert "\x1b[" not in output  # not styled as an error


def test_e001_production_keys_must_not_be_the_secret_key(settings):
    settings.DEBUG = False
    settings.FERNET_KEYS = [settings.SECRET_KEY]
    [error] = checks.check_fernet_keys_not_secret_key()
    assert error.id == "providers.E001"
    assert "derive the encryption key from SECRET_KEY" in error.msg

    settings.FERNET_KEYS = ["a-key-of-its-own", settings.SECRET_KEY]
    assert [e.id for e in checks.check_fernet_keys_not_secret_key()] == ["providers.E001"]
    settings.FERNET_KEYS = []
    assert [e.id for e in checks.check_fernet_keys_not_secret_key()] == ["providers.E001"]
    del settings.FERNET_KEYS
    assert [e.id for e in checks.check_fernet_keys_not_secret_key()] == ["providers.E001"]

    settings.FERNET_KEYS = ["a-key-of-its-own"]
    assert checks.check_fernet_keys_not_secret_key() == []
    settings.DEBUG = True
    settings.FERNET_KEYS = [settings.SECRET_KEY]
    assert checks.check_fernet_keys_not_secret_key() == []


def test_e002_names_the_provider_of_an_undecryptable_sample(use_keys, old_data):
    use_keys("old-key")
    assert checks.check_stored_secrets_decrypt() == []

    use_keys("lost-key")
    ProviderFactory(provider_id="gh-lost")
    IdentityProviderFactory(alias="okta-lost", client_secret="lost-client-secret")
    use_keys("new-key", "old-key")

    errors = checks.check_stored_secrets_decrypt()

    assert [(e.id, e.obj) for e in errors] == [("providers.E002", Credential), ("providers.E002", IdentityProvider)]
    assert "provider “gh-lost” (providers.Credential.secret) cannot be decrypted" in errors[0].msg
    assert "“gh-0”" not in errors[0].msg
    assert "client secret of provider “okta-lost”" in errors[1].msg

    use_keys("new-key")  # the old key removed before rotating: every sampled value fails
    errors = checks.check_stored_secrets_decrypt()
    assert "“gh-0”" in errors[0].msg


def test_e002_is_silent_without_tables(monkeypatch):
    from django.db import connection

    monkeypatch.setattr(connection.introspection, "table_names", lambda *args, **kwargs: [])
    assert checks.check_stored_secrets_decrypt() == []
