"""Marshmallow dumps without the per-field machinery, for the API's hot list schemas.

`FastDumpSchema` keeps the schema as the contract (its fields make the OpenAPI document and its
hooks still run) but replaces `Schema._serialize`, the loop that calls `Field.serialize` for
every field of every row, with a plan compiled once per schema: one getter and one converter
per field, the converters doing what the field's own `_serialize` does. A field the plan does
not know (a Method, a default, `as_string`, …) makes the whole schema use marshmallow's loop.
tests/test_fast_dump.py compares both ways on every listing shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from marshmallow import Schema, fields, missing

Getter = Callable[[Any], Any]
Converter = Callable[[Any], Any]
Plan = Callable[[Any], dict[str, Any]]


def _none_or(convert: Callable[[Any], Any]) -> Converter:
    """None stays None, as in every marshmallow field."""
    return lambda value: None if value is None else convert(value)


def _enum_converter(field: fields.Enum) -> Converter | None:
    """By value (raw, or through a field) or by name."""
    if field.by_value is True:
        return _none_or(lambda value: value.value)
    if field.by_value is False:
        return _none_or(lambda value: value.name)
    inner = field.field
    return _none_or(lambda value: inner._serialize(value.value, None, None))


def _field_converter(field: fields.Field) -> Converter | None:
    """The converter doing what `field._serialize` does, or None when the plan cannot."""
    kind = type(field)
    if kind in (fields.Integer, fields.Float) and not cast(fields.Number, field).as_string:
        return _none_or(int if kind is fields.Integer else float)
    if kind is fields.String:
        return _none_or(str)
    if kind is fields.Boolean:
        return lambda value: field._serialize(value, None, None)
    if kind is fields.Enum:
        return _enum_converter(cast(fields.Enum, field))
    if kind in (fields.Raw,):
        return lambda value: value
    if kind in (fields.Date, fields.DateTime, fields.AwareDateTime, fields.NaiveDateTime):
        return _none_or(lambda value: field._serialize(value, None, None))
    if kind in (fields.List, fields.Nested):
        return lambda value: field._serialize(value, None, None)
    return None


def _getter(path: str) -> Getter:
    """`a` or `a.b` read off objects (mappings go through marshmallow's own accessor)."""
    keys = path.split(".")

    def get(obj: Any) -> Any:
        for key in keys:
            if hasattr(obj, "__getitem__"):
                from marshmallow.utils import get_value

                obj = get_value(obj, key)
            else:
                obj = getattr(obj, key, missing)
            if obj is missing:
                return missing
        return obj

    return get


def compile_plan(schema: Schema) -> Plan | None:
    """The row function for this schema's dump fields, or None if a field is not supported."""
    steps: list[tuple[str, Getter, Converter]] = []
    for name, field in schema.dump_fields.items():
        converter = _field_converter(field)
        if converter is None or field.dump_default is not missing or not field._CHECK_ATTRIBUTE:
            return None
        key = field.data_key if field.data_key is not None else name
        steps.append((key, _getter(field.attribute or name), converter))

    def dump_row(obj: Any) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for key, get, convert in steps:
            value = get(obj)
            if value is not missing:
                row[key] = convert(value)
        return row

    return dump_row


class FastDumpSchema(Schema):
    """A schema whose dump runs a compiled plan (same output as marshmallow's field loop)."""

    _plans: dict[tuple[type, tuple[str, ...]], Plan | None] = {}

    def _plan(self) -> Plan | None:
        key = (type(self), tuple(self.dump_fields))
        if key not in self._plans:
            self._plans[key] = compile_plan(self)
        return self._plans[key]

    def _serialize(self, obj: Any, *, many: bool = False) -> Any:
        plan = self._plan()
        if plan is None:
            return super()._serialize(obj, many=many)
        if many and obj is not None:
            return [plan(item) for item in obj]
        return plan(obj)
