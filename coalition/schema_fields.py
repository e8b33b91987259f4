"""Marshmallow fields shared by the services' input schemas and the API's schemas."""

from __future__ import annotations

import enum
from typing import Any

from marshmallow import fields


def enum_field(enum_cls: type[enum.Enum], **kwargs: Any) -> fields.Enum:
    """One of an enum's values on the wire (documented as a string enum), the member once loaded."""
    messages = {"unknown": "must be one of: {choices}", **kwargs.pop("error_messages", {})}
    return fields.Enum(enum_cls, by_value=fields.String, error_messages=messages, **kwargs)
