"""What the categories API reads from the query string and what it returns."""

from __future__ import annotations

from marshmallow import Schema, fields

from coalition.models.catalog import Kind
from coalition.schema_fields import enum_field


class CategoryQuerySchema(Schema):
    """Filters for the catalog."""

    kind = enum_field(Kind)


class CategorySchema(Schema):
    """A category of the catalog."""

    slug = fields.String(required=True)
    kind = fields.Enum(Kind, by_value=True, required=True)
    unit = fields.String(required=True)
    plain_label = fields.String(required=True)
    neutral_label = fields.String(required=True)
    credentials = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)
