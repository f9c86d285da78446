"""Strict JSON fields and a serializer base that refuses unknown keys: a typo such as `baseURL`
or `"enabled": "yes"` is a 400 naming the field rather than a silently ignored value."""

from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


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
                raise serializers.ValidationError({str(key)[:100]: ["Unknown field."] for key in unknown})
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


class SafeJSONParser(JSONParser):
    """Deeply nested JSON makes the standard decoder raise RecursionError: answer 400, not 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
