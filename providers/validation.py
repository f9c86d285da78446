"""Validators below the models: http(s) URLs, and limits on free-form JSON that the rest of the
stack (JSON columns, the admin's JSON widget, audit payloads) walks recursively: past a few hundred
levels of nesting those walks overflow."""

from collections.abc import Iterable
from typing import Any

from django.core.validators import URLValidator

http_url_validator = URLValidator(schemes=["https", "http"])

MAX_JSON_DEPTH = 32


def json_depth(value: Any) -> int:
    """How deeply `value` nests lists and objects (a scalar is 0, `{}` is 1), without recursing."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest
