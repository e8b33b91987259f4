"""Input and output schemas of the impact pages, reports and API."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from coalition.services.impact import GROUP_BYS, TAG_MAX

FORMATS = ("csv", "pdf", "html")


class ImpactQuerySchema(Schema):
    """Which figures: a period, a grouping, and filters."""

    start = fields.Date(data_key="from", metadata={"description": "first day counted (YYYY-MM-DD)"})
    end = fields.Date(data_key="to", metadata={"description": "last day counted (YYYY-MM-DD)"})
    group_by = fields.String(
        load_default="category",
        validate=validate.OneOf(GROUP_BYS, error=f"must be one of: {', '.join(GROUP_BYS)}"),
    )
    tag = fields.String(
        validate=validate.Length(max=TAG_MAX),
        metadata={"description": "a program or funder tag (a member's: its own listings' tags)"},
    )
    category = fields.String(metadata={"description": "a category slug"})
    borough = fields.String(validate=validate.Length(max=80))
    organization = fields.String(
        metadata={"description": "an organization slug (coordinators; a member: its own)"}
    )
    neutral = fields.Boolean(
        metadata={"description": "neutral wording (default: the organization's choice)"}
    )

    @validates_schema
    def _period_in_order(self, data: dict[str, Any], **_: Any) -> None:
        """The period must not end before it starts, nor span more than ten years."""
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise ValidationError("must not be before from", "to")
        if start and end and (end - start).days > 3660:
            raise ValidationError("the period may span at most ten years", "to")
        if start and start < date(2000, 1, 1):
            raise ValidationError("must be in 2000 or later", "from")


class TotalsSchema(Schema):
    """The figures of one scope and period."""

    transfers = fields.Integer(metadata={"description": "fulfilled matches"})
    units = fields.Integer(metadata={"description": "supply units shared"})
    hours = fields.Integer(metadata={"description": "staff hours shared"})
    value_usd = fields.Float(metadata={"description": "units x each category's unit cost"})
    short_dated_units = fields.Integer(
        metadata={"description": "units moved within 60 days of their lot's expiry"}
    )
    organizations_gave = fields.Integer()
    organizations_received = fields.Integer()
    requests_filled = fields.Integer()
    requests_filled_by_need_by = fields.Integer()
    requests_with_need_by = fields.Integer()
    median_days_to_receipt = fields.Float(allow_none=True)


class GroupSchema(Schema):
    """One row of the grouping asked for."""

    key = fields.String()
    label = fields.String()
    kind = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    transfers = fields.Integer()
    quantity = fields.Integer(allow_none=True)
    units = fields.Integer(allow_none=True)
    hours = fields.Integer(allow_none=True)
    value_usd = fields.Float(allow_none=True)
    short_dated_units = fields.Integer(allow_none=True)
    gave_transfers = fields.Integer(allow_none=True)
    received_transfers = fields.Integer(allow_none=True)
    median_days_to_receipt = fields.Float(allow_none=True)


class ImpactSchema(Schema):
    """The figures of the caller's scope, grouped, and (for members) the coalition's totals."""

    period = fields.Dict(keys=fields.String(), values=fields.String())
    scope = fields.String(metadata={"description": "coalition, or the organization's slug"})
    neutral = fields.Boolean()
    tag = fields.String(allow_none=True)
    group_by = fields.String()
    totals = fields.Nested(TotalsSchema)
    groups = fields.List(fields.Nested(GroupSchema))
    coalition = fields.Nested(TotalsSchema, allow_none=True)
