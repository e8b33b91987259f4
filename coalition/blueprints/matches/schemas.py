"""Input and output schemas of the matches API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from coalition.models.matches import MatchState
from coalition.schema_fields import enum_field
from coalition.services.match_lifecycle import MAX_REASON


class MatchQuerySchema(Schema):
    """Filters for listing matches."""

    state = enum_field(MatchState)


class ReasonSchema(Schema):
    """A coordinator's reason for rejecting a proposal (required)."""

    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_REASON),
        metadata={"description": "why the proposal will not go ahead"},
    )


class OptionalReasonSchema(Schema):
    """An optional reason for declining or cancelling."""

    reason = fields.String(load_default="", validate=validate.Length(max=MAX_REASON))


class MatchOrganizationSchema(Schema):
    """An organization, shown only once names are shared (or to coordinators)."""

    slug = fields.String()
    name = fields.String()
    borough = fields.String()
    address = fields.String()
    contact_email = fields.String()
    contact_phone = fields.String()


class MatchSideSchema(Schema):
    """One side of a match as the caller may see it."""

    listing_id = fields.Integer(allow_none=True)
    organization = fields.Nested(MatchOrganizationSchema, allow_none=True)
    description = fields.String(
        metadata={"description": "the organization's name, or 'a member organization in …'"}
    )


class MatchSchema(Schema):
    """A match as the caller may see it."""

    id = fields.Integer()
    state = fields.String()
    kind = fields.String()
    category = fields.String(allow_none=True)
    category_label = fields.String()
    unit = fields.String()
    quantity = fields.Integer()
    distance_km = fields.Float()
    urgency = fields.String(allow_none=True)
    names_shared = fields.Boolean()
    our_side = fields.String(allow_none=True)
    offer = fields.Nested(MatchSideSchema)
    request = fields.Nested(MatchSideSchema)
    offer_accepted = fields.Boolean()
    request_accepted = fields.Boolean()
    reason = fields.String()
    explanation = fields.Dict(
        metadata={"description": "urgency, distance_km, days_to_expiry, factors, alternatives"}
    )
    actions = fields.List(fields.String(), metadata={"description": "what the caller may do"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    hold_expires_at = fields.DateTime(allow_none=True)
