"""Strict JSON fields and a serializer base that refuses unknown keys: a typo such as `baseURL`
or `"enabled": "yes"` is a 400 naming the field rather than a silently ignored value."""

from datetime import datetime

from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from providers.validation import MAX_JSON_DEPTH, json_depth


def iso_datetime(value: datetime | None) -> str | None:
    """A datetime as DRF's DateTimeField writes it (ISO 8601, UTC as `Z`), for hand-built reads."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Expected a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Expected true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not declare (and non-object bodies), naming each unknown key."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = [key for key in data if key not in writable]
            if unknown:
                raise serializers.ValidationError({str(key)[:64]: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


class SlugLookupField(serializers.SlugRelatedField):
    """A related object named by a string key (provider id, username). Non-strings, NUL bytes and
    over-long values are refused before any query, so they answer 400 on every database."""

    default_error_messages = {
        "does_not_exist": "No object with “{slug_name}” = “{value}”.",
        "invalid": "Expected a string.",
    }

    def __init__(self, *, max_length: int = 150, **kwargs):
        self.max_length = max_length
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        if len(data) > self.max_length:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data[:20] + "…")
        return super().to_internal_value(data)


class JSONObjectField(serializers.DictField):
    """A JSON object of string values (credential content); per-type rules live in the services."""

    child = serializers.JSONField()
    default_error_messages = {"not_a_dict": "Expected an object."}


def _check_encodable(value) -> None:
    """JSON may carry lone surrogates (`"\\ud800"`) that no UTF-8 response or database can hold."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, dict):
        for key, item in value.items():
            key.encode("utf-8")
            _check_encodable(item)
    elif isinstance(value, list):
        for item in value:
            _check_encodable(item)


TOO_DEEP = f"JSON parse error - the document is nested more than {MAX_JSON_DEPTH} levels deep."


class SafeJSONParser(JSONParser):
    """JSON that the standard decoder accepts but the rest of the stack cannot handle is a 400:
    documents nested more than MAX_JSON_DEPTH levels (or so deep the decoder overflows) and
    strings with lone surrogates."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        if json_depth(data) > MAX_JSON_DEPTH:
            raise ParseError(TOO_DEEP)
        try:
            _check_encodable(data)
        except UnicodeEncodeError:
            raise ParseError("JSON parse error - strings must be valid Unicode (no lone surrogates).") from None
        return data


class ChoiceField(serializers.ChoiceField):
    """A choice that lists the valid values without echoing what was sent."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        valid = ", ".join(str(key) for key in self.choices)
        self.error_messages["invalid_choice"] = f"Not a valid choice (expected one of: {valid})."
