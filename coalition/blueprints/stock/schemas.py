"""What the stock API returns."""

from __future__ import annotations

from marshmallow import Schema, fields


class StockQuerySchema(Schema):
    """Whose stock: a member's own by default; coordinators name an organization."""

    org = fields.String(metadata={"description": "organization slug (coordinators)"})
    category = fields.String(metadata={"description": "category slug"})


class StockEntryOutSchema(Schema):
    """One recorded entry: nothing is overwritten, so this is the history."""

    id = fields.Integer()
    org = fields.Function(lambda e: e.organization.slug)
    category = fields.Function(lambda e: e.category.slug)
    entry_type = fields.Function(
        lambda e: e.entry_type.value,
        metadata={"description": "count, delivery, distributed, transfer_in or transfer_out"},
    )
    quantity = fields.Integer()
    lot = fields.String()
    expires_on = fields.Date(allow_none=True)
    observed_at = fields.DateTime()
    period_start = fields.Date(allow_none=True)
    on_hand_after = fields.Integer(metadata={"description": "the category's level after it"})
    flag = fields.Function(
        lambda e: e.flag.value or None,
        metadata={"description": "null, `jump` (far above the level) or `negative`"},
    )
    source = fields.String()
    match_id = fields.Integer(allow_none=True)
    note = fields.String()


class LotSchema(Schema):
    """Units of one lot on hand."""

    lot = fields.String()
    expires_on = fields.Date(allow_none=True)
    quantity = fields.Integer()


class StockLevelSchema(Schema):
    """One category's stock on hand."""

    org = fields.String()
    category = fields.String()
    on_hand = fields.Integer()
    last_counted_at = fields.DateTime(allow_none=True)
    flagged = fields.Integer(metadata={"description": "entries flagged for a second look"})
    lots = fields.List(fields.Nested(LotSchema))
    forecast = fields.Nested(
        "ForecastSchema", allow_none=True, metadata={"description": "null until forecast"}
    )


class ForecastSchema(Schema):
    """The worker's latest forecast: units a day and days left, each with an 80% band."""

    computed_at = fields.DateTime()
    method = fields.String(
        metadata={"description": "ets (exponential smoothing), average, one_count or none"}
    )
    rate_per_day = fields.Float(attribute="rate", allow_none=True)
    rate_low = fields.Float(allow_none=True)
    rate_high = fields.Float(allow_none=True)
    days_left = fields.Float(allow_none=True)
    days_low = fields.Float(allow_none=True)
    days_high = fields.Float(allow_none=True, metadata={"description": "null: no end in sight"})
    runs_out_on = fields.Date(allow_none=True)
    expiring_units = fields.Integer(
        metadata={"description": "units projected to be unused when their lot expires"}
    )
    history_days = fields.Integer()
