"""System checks for the Fernet keys, run by `manage.py check`, runserver and migrate (so by
`make serve` before gunicorn starts): production must not derive the key from SECRET_KEY, and a
sample of the stored secrets must decrypt with the configured keys."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.db import DatabaseError, connections, transaction

from providers import keys

SAMPLE_SIZE = 20


def check_fernet_keys_not_secret_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """providers.E001: outside DEBUG, FERNET_KEYS must be set and differ from SECRET_KEY."""
    if settings.DEBUG:
        return []
    configured = getattr(settings, "FERNET_KEYS", None)
    if configured and not any(key == settings.SECRET_KEY for key in configured):
        return []
    return [
        Error(
            "Production settings derive the encryption key from SECRET_KEY.",
            hint="Set FERNET_KEYS to one or more keys of its own (not SECRET_KEY), e.g. "
            '`python -c "import secrets; print(secrets.token_urlsafe(32))"`; see docs/operations.md.',
            id="providers.E001",
        )
    ]


def check_stored_secrets_decrypt(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """providers.E002: the newest SAMPLE_SIZE values of each encrypted field decrypt with the
    configured keys. Skipped (silently) while the tables do not exist or the database is down."""
    try:
        keyring = keys.Keyring.from_settings()
    except Exception:  # malformed keys (FERNET_USE_HKDF=False with a non-Fernet key): not this check's job
        return []
    errors: list[CheckMessage] = []
    for model, encrypted in keys.encrypted_fields():
        alias = keys.db_alias(model)
        try:
            if model._meta.db_table not in connections[alias].introspection.table_names():
                continue
            with transaction.atomic(using=alias):  # a savepoint when called inside a transaction
                sample = keys.raw_values(model, encrypted, limit=SAMPLE_SIZE, newest_first=True)
                failed = [pk for pk, token in sample if keyring.status(token) == "undecryptable"]
                names = keys.provider_ids(model, failed)
        except DatabaseError:
            continue
        if not failed:
            continue
        providers = sorted({names[pk] for pk in failed if pk in names})
        subject = (
            f"Stored {encrypted.verbose_name} of provider{'s' * (len(providers) != 1)} "
            + ", ".join(f"“{p}”" for p in providers)
            if providers
            else f"{len(failed)} stored value{'s' * (len(failed) != 1)} (pk {', '.join(map(str, failed))})"
        )
        errors.append(
            Error(
                f"{subject} ({model._meta.label}.{encrypted.name}) cannot be decrypted with the configured "
                "FERNET_KEYS (was a key removed?).",
                hint="Put the key that encrypted them back into FERNET_KEYS (after the first), restart, "
                "and run `manage.py rotate_keys`; `manage.py rotate_keys --check` lists every affected row. "
                "See docs/operations.md.",
                obj=model,
                id="providers.E002",
            )
        )
    return errors
