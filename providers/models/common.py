"""Validators shared by the aggregates: the URL-safe ids and http(s) URLs."""

from django.core.validators import RegexValidator, URLValidator

SLUG_REGEX = r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"
# A run of the characters ids are made of: URL lookups, and the start of an id a user types.
ID_CHARACTERS = r"[A-Za-z0-9._-]+"
slug_validator = RegexValidator(
    SLUG_REGEX,
    "Use letters, digits, “-”, “_” and “.”, starting and ending with a letter or digit.",
)
http_url_validator = URLValidator(schemes=["https", "http"])
