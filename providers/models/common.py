"""Validators shared by the aggregates: the URL-safe ids and http(s) URLs."""

from django.core.validators import RegexValidator

from providers.validation import http_url_validator

SLUG_REGEX = r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"
# A run of the characters ids are made of: URL lookups, and the start of an id a user types.
ID_CHARACTERS = r"[A-Za-z0-9._-]+"
slug_validator = RegexValidator(
    SLUG_REGEX,
    "Use letters, digits, “-”, “_” and “.”, starting and ending with a letter or digit.",
)

__all__ = ["ID_CHARACTERS", "SLUG_REGEX", "http_url_validator", "slug_validator"]
