"""Fernet key rotation: which key each stored secret is under, and re-encryption under the first key.

`FERNET_KEYS` holds one or more keys: new writes use the first, reads try all (fernet_fields'
MultiFernet). The helpers here work on the raw column bytes, never through the ORM (which would
decrypt on load and cache the keys per field), so they see exactly what is stored and write back
exactly one re-encrypted token per value, with a compare-and-set so a concurrent write wins.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeVar

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import connections, models, router, transaction
from fernet_fields import EncryptedField
from fernet_fields.hkdf import derive_fernet_key

KeyStatus = Literal["primary", "old", "undecryptable"]
T = TypeVar("T")


class UndecryptableSecret(Exception):  # noqa: N818 - the name says what the caller gets
    """A stored secret that none of the configured FERNET_KEYS decrypts (a key was removed or lost)."""

    def __init__(self, provider_id: str | None, what: str = "credentials") -> None:
        self.provider_id = provider_id
        subject = f"Stored {what} of provider “{provider_id}”" if provider_id else f"Stored {what}"
        super().__init__(f"{subject} cannot be decrypted with the configured FERNET_KEYS (was a key removed?).")


# --- Keys -------------------------------------------------------------------------------------


def configured_keys() -> list[Any]:
    """The raw FERNET_KEYS entries, falling back to [SECRET_KEY] exactly like fernet_fields."""
    keys = getattr(settings, "FERNET_KEYS", None)
    if keys is None:
        keys = [settings.SECRET_KEY]
    return list(keys)


def _fernet_keys() -> list[Any]:
    keys = configured_keys()
    if getattr(settings, "FERNET_USE_HKDF", True):
        return [derive_fernet_key(key) for key in keys]
    return keys


def all_fernets() -> list[Fernet]:
    """Every configured key, first one first."""
    return [Fernet(key) for key in _fernet_keys()]


@dataclass(frozen=True)
class Keyring:
    """The configured keys, built once for a batch or a check (key derivation is not free)."""

    primary: Fernet
    others: list[Fernet] = field(default_factory=list)

    @classmethod
    def from_settings(cls) -> Keyring:
        fernets = all_fernets()
        return cls(primary=fernets[0], others=fernets[1:])

    @property
    def multi(self) -> MultiFernet:
        return MultiFernet([self.primary, *self.others])

    def open(self, token: bytes) -> tuple[KeyStatus, bytes | None]:
        """Which key the token is under, and its plaintext when a key decrypts it."""
        try:
            return "primary", self.primary.decrypt(token)
        except InvalidToken:
            pass
        for fernet in self.others:
            try:
                return "old", fernet.decrypt(token)
            except InvalidToken:
                continue
        return "undecryptable", None

    def status(self, token: bytes) -> KeyStatus:
        return self.open(token)[0]


def key_status(token: bytes, keyring: Keyring | None = None) -> KeyStatus:
    """Whether `token` is under the first key, under one of the older keys, or under none of them."""
    return (keyring or Keyring.from_settings()).status(bytes(token))


# --- Fields and raw rows ----------------------------------------------------------------------


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedField]]:
    """Every concrete encrypted field of every installed model (proxies and unmanaged models skipped)."""
    found: list[tuple[type[models.Model], EncryptedField]] = []
    for model in apps.get_models():
        opts = model._meta
        if opts.proxy or not opts.managed:
            continue
        found.extend((model, f) for f in opts.concrete_fields if isinstance(f, EncryptedField))
    return found


def field_label(model: type[models.Model], field: models.Field) -> str:
    """`credential.secret`: short, and what the progress bar and summaries show."""
    return f"{model._meta.model_name}.{field.name}"


def db_alias(model: type[models.Model]) -> str:
    return router.db_for_write(model) or "default"


def _sql_names(model: type[models.Model], field: models.Field, alias: str) -> tuple[str, str, str]:
    quote = connections[alias].ops.quote_name
    pk = model._meta.pk
    assert pk is not None and pk.column is not None and field.column is not None
    return quote(model._meta.db_table), quote(pk.column), quote(field.column)


def count_values(model: type[models.Model], field: models.Field) -> int:
    """How many rows hold a (non-null) value in the field."""
    alias = db_alias(model)
    table, _, column = _sql_names(model, field, alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} IS NOT NULL")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def raw_values(
    model: type[models.Model], field: models.Field, *, after_pk: Any = None, limit: int, newest_first: bool = False
) -> list[tuple[Any, bytes]]:
    """Up to `limit` (pk, stored token) pairs with a value, in pk order after `after_pk` (keyset
    pagination: no OFFSET, bounded memory), or the `limit` highest pks with `newest_first`."""
    alias = db_alias(model)
    table, pk, column = _sql_names(model, field, alias)
    where = [f"{column} IS NOT NULL"]
    params: list[Any] = []
    if after_pk is not None:
        where.append(f"{pk} > %s")
        params.append(after_pk)
    order = "DESC" if newest_first else "ASC"
    sql = f"SELECT {pk}, {column} FROM {table} WHERE {' AND '.join(where)} ORDER BY {pk} {order} LIMIT %s"
    with _bulk_cursor(alias) as execute:
        return [(row_pk, bytes(value)) for row_pk, value in execute(sql, [*params, limit])]


def _compare_and_set(model: type[models.Model], field: models.Field, changes: list[tuple[Any, bytes, bytes]]) -> set:
    """Write each (pk, old token, new token) whose row still holds the old token, in one
    statement joined to a VALUES list (PostgreSQL and SQLite alike); returns the pks written.
    A row changed meanwhile keeps what was written to it."""
    alias = db_alias(model)
    table, pk_column, column = _sql_names(model, field, alias)
    values = ", ".join(["(%s, %s, %s)"] * len(changes))
    sql = (
        f"UPDATE {table} SET {column} = v.column3 FROM (VALUES {values}) AS v "
        f"WHERE {table}.{pk_column} = v.column1 AND {table}.{column} = v.column2 RETURNING {table}.{pk_column}"
    )
    with _bulk_cursor(alias) as execute:
        return {row[0] for row in execute(sql, [value for change in changes for value in change])}


@contextmanager
def _bulk_cursor(alias: str) -> Iterator[Callable[[str, list[Any]], list[tuple]]]:
    """`execute(sql, params) -> rows` for the batches of tokens. On PostgreSQL it binds parameters
    on the server and moves bytea in binary: a batch of 500 tokens reads in 1 ms instead of 7 and
    writes in 13 ms instead of 17, which is what lets rotation keep up with the crypto itself."""
    connection = connections[alias]
    if connection.vendor == "postgresql":
        import psycopg

        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as server_cursor:

            def execute_binary(sql: str, params: list[Any]) -> list[tuple]:
                server_cursor.execute(sql, params, binary=True)
                return server_cursor.fetchall()

            yield execute_binary
        return
    binary = connection.Database.Binary  # type: ignore[attr-defined]
    with connection.cursor() as cursor:

        def execute(sql: str, params: list[Any]) -> list[tuple]:
            cursor.execute(sql, [binary(value) if isinstance(value, bytes) else value for value in params])
            return cursor.fetchall()

        yield execute


def _raw_value(model: type[models.Model], field: models.Field, pk: Any) -> bytes | None:
    alias = db_alias(model)
    table, pk_column, column = _sql_names(model, field, alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {pk_column} = %s", [pk])
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else None


# --- Re-encryption ----------------------------------------------------------------------------


class BatchResult(NamedTuple):
    last_pk: Any  # None when there was nothing after `after_pk`: the field is done
    rotated: int  # re-encrypted under the first key (with dry_run: would be)
    already_primary: int
    failures: list[Any]  # pks whose value no configured key decrypts
    still_old: int = 0  # under an older key and not rotated (dry run, or changed concurrently to another old token)
    scanned: int = 0


class _Prepared(NamedTuple):
    """A batch read and decrypted, its new tokens computed, nothing written yet."""

    last_pk: Any
    scanned: int
    already_primary: int
    failures: list[Any]
    changes: list[tuple[Any, bytes, bytes]]  # pk, token read, token under the first key


def _prepare(
    model: type[models.Model], field: models.Field, after_pk: Any, batch_size: int, keyring: Keyring, dry_run: bool
) -> _Prepared:
    rows = raw_values(model, field, after_pk=after_pk, limit=batch_size)
    already = 0
    failures: list[Any] = []
    old: list[tuple[Any, bytes, bytes]] = []  # pk, token, plaintext
    for pk, token in rows:
        status, plaintext = keyring.open(token)
        if status == "primary":
            already += 1
        elif status == "undecryptable":
            failures.append(pk)
        else:
            assert plaintext is not None
            old.append((pk, token, plaintext))
    changes = [(pk, token, b"" if dry_run else keyring.primary.encrypt(plaintext)) for pk, token, plaintext in old]
    return _Prepared(rows[-1][0] if rows else None, len(rows), already, failures, changes)


def _apply(
    model: type[models.Model], field: models.Field, batch: _Prepared, keyring: Keyring, dry_run: bool
) -> BatchResult:
    """Write the batch's new tokens (compare-and-set) and classify the rows changed meanwhile."""
    if dry_run:
        return BatchResult(
            batch.last_pk, len(batch.changes), batch.already_primary, batch.failures, len(batch.changes), batch.scanned
        )
    already, still_old, failures = batch.already_primary, 0, list(batch.failures)
    written = _compare_and_set(model, field, batch.changes) if batch.changes else set()
    for pk in (pk for pk, _, _ in batch.changes if pk not in written):
        # Changed (or deleted) since it was read: classify what is there now.
        current = _raw_value(model, field, pk)
        now = keyring.status(current) if current is not None else None
        if now == "primary":
            already += 1
        elif now == "old":
            still_old += 1
        elif now == "undecryptable":
            failures.append(pk)
    return BatchResult(batch.last_pk, len(written), already, failures, still_old, batch.scanned)


def reencrypt_batch(
    model: type[models.Model],
    field: models.Field,
    after_pk: Any,
    batch_size: int,
    *,
    dry_run: bool = False,
    keyring: Keyring | None = None,
) -> BatchResult:
    """Re-encrypt under the first key the values of the next `batch_size` rows after `after_pk`
    that are under an older key, in one transaction. The writes are a compare-and-set on the
    tokens read, so a value written meanwhile (already under the first key) is left alone."""
    keyring = keyring or Keyring.from_settings()
    with transaction.atomic(using=db_alias(model)):
        batch = _prepare(model, field, after_pk, batch_size, keyring, dry_run)
        return _apply(model, field, batch, keyring, dry_run)


def iter_batches(
    model: type[models.Model], field: models.Field, *, batch_size: int, dry_run: bool = False
) -> Iterator[BatchResult]:
    """Every batch of the field, first to last; the keys are read from settings once. On
    PostgreSQL, outside a transaction, batches are pipelined (see `_pipelined_batches`)."""
    keyring = Keyring.from_settings()
    connection = connections[db_alias(model)]
    if connection.vendor == "postgresql" and not connection.in_atomic_block and not dry_run:
        yield from _pipelined_batches(model, field, batch_size=batch_size, keyring=keyring)
        return
    after_pk = None
    while True:
        result = reencrypt_batch(model, field, after_pk, batch_size, dry_run=dry_run, keyring=keyring)
        if result.last_pk is None:
            return
        yield result
        after_pk = result.last_pk


PIPELINE_DEPTH = 2  # batches decrypted and re-encrypted ahead of the one being written


def _pipelined_batches(
    model: type[models.Model], field: models.Field, *, batch_size: int, keyring: Keyring
) -> Iterator[BatchResult]:
    """The same batches, with the database's work overlapped with the crypto: this process reads
    and re-encrypts batch N+1 while a forked writer process (its own connection, its own
    interpreter lock) writes batch N. Writing a batch costs PostgreSQL about as long as the crypto
    costs Python (docs/benchmarks.md), so the two together take about as long as the longer of
    them. Each write is still one compare-and-set statement, so a value changed meanwhile keeps
    what was written to it; at most PIPELINE_DEPTH batches wait in memory."""
    context = multiprocessing.get_context("fork")
    pending = context.Queue(maxsize=PIPELINE_DEPTH)
    done = context.Queue()

    def writer() -> None:
        try:
            while (batch := pending.get()) is not None:
                done.put(_apply(model, field, batch, keyring, False))
        except BaseException as exc:  # reported to the reading process, which raises it
            done.put(f"{type(exc).__name__}: {exc}")
            while pending.get() is not None:  # let the reader finish putting
                pass
        finally:
            connections.close_all()

    connections.close_all()  # a forked child must not share the parent's database connections
    process = context.Process(target=writer, name="rotate-keys-writer", daemon=True)
    process.start()
    after_pk, submitted, received = None, 0, 0
    try:
        while True:
            batch = _prepare(model, field, after_pk, batch_size, keyring, False)
            if batch.last_pk is None:
                break
            pending.put(batch)
            submitted += 1
            after_pk = batch.last_pk
            while not done.empty():
                received += 1
                yield _result(done.get())
        while received < submitted:
            received += 1
            yield _result(done.get())
    finally:
        with suppress(queue.Full):  # the writer is gone (killed): nothing reads the queue any more
            pending.put(None, timeout=5)
        process.join(timeout=30)
        if process.is_alive():
            process.terminate()


def _result(item: BatchResult | str) -> BatchResult:
    if isinstance(item, str):
        raise RuntimeError(f"Writing re-encrypted values failed: {item}")
    return item


# --- Naming providers -------------------------------------------------------------------------


def _provider_path(model: type[models.Model]) -> str | None:
    provider_model = apps.get_model("providers", "Provider")
    if model is provider_model:
        return "provider_id"
    for f in model._meta.concrete_fields:
        if f.is_relation and f.related_model is provider_model:
            return f"{f.name}__provider_id"
    return None


def provider_ids(model: type[models.Model], pks: list[Any]) -> dict[Any, str]:
    """pk → provider_id of the rows' provider (reads no encrypted column)."""
    path = _provider_path(model)
    if path is None or not pks:
        return {}
    rows = model._base_manager.using(db_alias(model)).filter(pk__in=pks).values_list("pk", path)
    return dict(rows)


def describe_rows(model: type[models.Model], pks: list[Any]) -> list[str]:
    """`Credential 12 (provider “gh”)` for each pk, in order."""
    names = provider_ids(model, pks)
    label = model._meta.object_name
    return [f"{label} {pk} (provider “{names[pk]}”)" if pk in names else f"{label} {pk}" for pk in pks]


# --- Clear errors for readers -----------------------------------------------------------------


def _provider_id_of(provider: Any) -> str | None:
    if provider is None:
        return None
    return str(getattr(provider, "provider_id", provider))


def decrypt_or_raise(load: Callable[[], T], *, provider: Any, what: str = "credentials") -> T:
    """Run `load` (a query that loads an encrypted field, which fernet_fields decrypts as rows are
    read) and turn a failed decryption into UndecryptableSecret naming the provider; `provider` is
    a Provider or its provider_id.

        credential = decrypt_or_raise(lambda: Credential.objects.get(provider=provider), provider=provider)
    """
    try:
        return load()
    except InvalidToken as exc:
        raise UndecryptableSecret(_provider_id_of(provider), what) from exc


@contextmanager
def undecryptable_as(provider: Any, what: str = "credentials") -> Iterator[None]:
    """The same as decrypt_or_raise, as a `with` block."""
    try:
        yield
    except InvalidToken as exc:
        raise UndecryptableSecret(_provider_id_of(provider), what) from exc
