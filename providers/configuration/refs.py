"""Secrets in a configuration file: never written out, only referenced (`secretRef: {env: NAME}`
or `secretRef: {file: path}`) and resolved where the plan or apply runs. Which references a caller
may use is a `RefPolicy`: the command line (run on the server by whoever may read its environment
and files) may use any; an API caller only the variables and the directory the settings open."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.crypto import salted_hmac

from providers.identity.catalogue import SECRET_MASK

from .document import Item

MAX_SECRET_BYTES = 64 * 1024


@dataclass(frozen=True)
class RefPolicy:
    """Where references may point. `base` resolves relative file paths; with `env_prefix` only the
    variables it starts, with `file_dir` only the files in it; `env_allowed` and `files_allowed`
    off: none at all."""

    base: Path
    env_prefix: str = ""
    file_dir: Path | None = None
    env_allowed: bool = True
    files_allowed: bool = True

    @classmethod
    def command_line(cls, config_file: Path | None) -> "RefPolicy":
        return cls(base=config_file.parent if config_file else Path.cwd())

    @classmethod
    def api(cls, workspace_name: str) -> "RefPolicy":
        """An API caller's: one workspace's variables and directory only (an operator of one
        workspace must not reach another's secrets, nor the server's own: `DATABASE_URL`)."""
        prefix = api_env_prefix(workspace_name)
        directory = settings.CONFIG_API_SECRET_DIR
        if not directory:
            return cls(base=Path("/nonexistent"), env_prefix=prefix, env_allowed=bool(prefix), files_allowed=False)
        root = (Path(directory) / workspace_name).resolve()
        return cls(base=root, env_prefix=prefix, env_allowed=bool(prefix), file_dir=root)


def api_env_prefix(workspace_name: str) -> str:
    """`REGISTRY_SECRET_ACME_`: what a variable the API may reference for workspace `acme` starts
    with; empty (none may be) when `CONFIG_API_SECRET_ENV_PREFIX` is."""
    prefix = settings.CONFIG_API_SECRET_ENV_PREFIX
    return f"{prefix}{workspace_name.upper().replace('-', '_')}_" if prefix else ""


class RefError(Exception):
    pass


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and "secretRef" in value


def fingerprint(value: str) -> str:
    """A short keyed hash that tells two secrets apart in a plan without revealing either."""
    return salted_hmac("providers.configuration.secret", value, algorithm="sha256").hexdigest()[:8]


def resolve(value: Any, policy: RefPolicy) -> str:
    """The secret a `{secretRef: …}` value names. RefError says why not, never quoting a secret."""
    if set(value) != {"secretRef"}:
        raise RefError("A secret reference is `secretRef: {env: NAME}` or `secretRef: {file: path}` alone.")
    ref = value["secretRef"]
    if not isinstance(ref, dict) or len(ref) != 1 or not set(ref) <= {"env", "file"}:
        raise RefError("Expected `secretRef: {env: NAME}` or `secretRef: {file: path}`.")
    ((kind, name),) = ref.items()
    if not isinstance(name, str) or not name or "\x00" in name:
        raise RefError(f"Expected the {'variable name' if kind == 'env' else 'file path'} as a string.")
    if kind == "env":
        if not policy.env_allowed:
            raise RefError(
                "Environment references are not accepted over the API (CONFIG_API_SECRET_ENV_PREFIX is empty)."
            )
        if policy.env_prefix and not name.startswith(policy.env_prefix):
            raise RefError(f"Over the API, this workspace's environment variables start with “{policy.env_prefix}”.")
        secret = os.environ.get(name)
        if secret is None:
            raise RefError(f"Environment variable {name[:100]} is not set.")
    else:
        secret = _read_file(name, policy)
    if not secret:
        raise RefError(f"The secret {'variable' if kind == 'env' else 'file'} {name[:100]} is empty.")
    return secret


def _read_file(name: str, policy: RefPolicy) -> str:
    if not policy.files_allowed:
        raise RefError("File references are not accepted over the API (CONFIG_API_SECRET_DIR is not set).")
    path = (policy.base / name).resolve()
    if policy.file_dir is not None and not path.is_relative_to(policy.file_dir):
        raise RefError("Over the API, secret files lie in this workspace's directory of CONFIG_API_SECRET_DIR.")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_SECRET_BYTES + 1)
    except OSError as exc:
        raise RefError(f"Cannot read secret file {name[:200]}: {exc.strerror or 'unreadable'}.") from None
    if len(raw) > MAX_SECRET_BYTES:
        raise RefError(f"Secret file {name[:200]} is larger than {MAX_SECRET_BYTES} bytes.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RefError(f"Secret file {name[:200]} is not UTF-8 text.") from None
    return text[:-1] if text.endswith("\n") else text


def take_secret(item: Item, path: str, value: Any, policy: RefPolicy, *, literal_allowed: bool = False) -> str | None:
    """The secret at `path` of the object: None when left out (or Keycloak's mask), the resolved
    reference otherwise. A secret written out is refused unless `literal_allowed` (the non-secret
    fields of a credential)."""
    if value is None or value == "" or value == SECRET_MASK:
        return None
    if is_ref(value):
        try:
            return resolve(value, policy)
        except RefError as exc:
            raise item.error(str(exc), path) from None
    if literal_allowed and isinstance(value, str):
        return value
    if isinstance(value, str):
        raise item.error("Secrets are not written in the file: use `secretRef: {env: NAME}` or `{file: path}`.", path)
    raise item.error("Expected a secret reference (`secretRef: {env: NAME}` or `{file: path}`).", path)
