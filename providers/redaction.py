"""Secrets sent in a query string (`?token=…`, `?access_token=…`) never reach a log: one rule for the
access log of gunicorn (`GunicornLogger`, set in config/gunicorn.py) and for Django's request logging
(the `django.server` lines of the development server, `django.request`, `django.security`), whose
handlers carry `RedactSecretsFilter` (config/settings/base.py)."""

import logging
import re
from urllib.parse import unquote_plus

from gunicorn.glogging import Logger

REDACTED = "[REDACTED]"
# `name=value` at the start, or after "?", "&", ";" or a space (a request line).
PARAMETER = re.compile(r"(?<![^?&;\s])(?P<name>[^=&;?#\s\"]+)=(?P<value>[^?&;#\s\"]*)")
# A name that says the value is a secret: token, access_token, id_token, client_secret, password,
# api_key, signature…, and OAuth's authorization code.
SECRET_NAME = re.compile(r"token|secret|passw|api[_-]?key|signature|^code$|^key$|^sig$", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` (a request line, a path with its query, a bare query string) with the value of every
    parameter whose name says it is a secret replaced by `[REDACTED]`."""
    if "=" not in text:
        return text

    def replace(match: re.Match) -> str:
        if match["value"] and SECRET_NAME.search(unquote_plus(match["name"])):
            return f"{match['name']}={REDACTED}"
        return match.group(0)

    return PARAMETER.sub(replace, text)


class RedactSecretsFilter(logging.Filter):
    """Redacts the message and its string arguments of every record a handler emits."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: redact(arg) if isinstance(arg, str) else arg for key, arg in record.args.items()}
        return True


class GunicornLogger(Logger):
    """gunicorn's logger with every access-log atom redacted: the request line (`%(r)s`), the query
    string (`%(q)s`), the referrer (`%(f)s`) and any header or environ value a format names."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
