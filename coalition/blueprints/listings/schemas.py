"""What the listings API reads from the query string and what it returns."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_dump

from coalition.auth import actor
from coalition.extensions import db
from coalition.fast_dump import FastDumpSchema
from coalition.models.catalog import Kind
from coalition.models.listings import Direction, ListingStatus, Urgency, Visibility
from coalition.schema_fields import enum_field
from coalition.services.discretion import Viewer, discreet_listing, sees_site
from coalition.services.impact import listing_tags
from coalition.services.listing_input import STAFFING_FIELDS, SUPPLY_FIELDS


class ListingQuerySchema(Schema):
    """Filters for listing offers."""

    kind = enum_field(Kind)
    category = fields.String(metadata={"description": "category slug"})
    status = enum_field(ListingStatus)
    org = fields.String(metadata={"description": "organization slug"})


class RequestQuerySchema(ListingQuerySchema):
    """Filters for listing requests."""

    urgency = enum_field(Urgency)


QUERY_SCHEMAS = {Direction.OFFER: ListingQuerySchema, Direction.REQUEST: RequestQuerySchema}


class WindowOutSchema(Schema):
    """An availability window as stored: ISO-8601 with a UTC offset."""

    start = fields.String(required=True, metadata={"format": "date-time"})
    end = fields.String(required=True, metadata={"format": "date-time"})


KIND_ONLY = {
    Kind.SUPPLY.value: set(SUPPLY_FIELDS),
    Kind.STAFFING.value: set(STAFFING_FIELDS),
}


class ListingSchema(FastDumpSchema):
    """A listing as the API returns it; fields of the other kind are left out."""

    id = fields.Integer(required=True)
    org = fields.String(
        required=True,
        allow_none=True,
        attribute="organization.slug",
        metadata={
            "description": "null unless the listing is the caller's, its organization shows "
            "its name on listings, or the caller is a coordinator"
        },
    )
    kind = fields.Enum(Kind, by_value=True, required=True)
    category = fields.String(required=True, attribute="category.slug")
    unit = fields.String(required=True)
    # quantity, reserved and fulfilled are null on other organizations' listings
    quantity = fields.Integer(required=True, allow_none=True)
    reserved = fields.Integer(required=True, allow_none=True)
    fulfilled = fields.Integer(required=True, allow_none=True)
    available = fields.Integer(required=True)
    status = fields.Enum(ListingStatus, by_value=True, required=True)
    lat = fields.Float(
        required=True, metadata={"description": "a 3 km grid cell's centre for other organizations"}
    )
    lon = fields.Float(required=True)
    max_distance_km = fields.Float(required=True)
    notes = fields.String(required=True)
    visibility = fields.Enum(Visibility, by_value=True, required=True)
    credentials = fields.List(fields.String())
    languages = fields.List(fields.String())
    remote_ok = fields.Boolean()
    windows = fields.List(fields.Nested(WindowOutSchema))
    version = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    withdrawn_at = fields.AwareDateTime(required=True, allow_none=True)

    @post_dump
    def _drop_other_kind(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Supply listings carry no staffing fields and the other way round."""
        other = KIND_ONLY[Kind.STAFFING.value if data["kind"] == "supply" else "supply"]
        return {k: v for k, v in data.items() if k not in other}

    @post_dump(pass_collection=True, pass_original=True)
    def _discreet(self, data: Any, original: Any, many: bool, **kwargs: Any) -> Any:
        """Other organizations get no name (unless it is shown), a coarse site and only what is
        available."""
        viewer = Viewer.of(actor())  # once per dump, not once per row
        if not many:
            return discreet_listing(data, original.organization, viewer)
        return [
            discreet_listing(row, listing.organization, viewer)
            for row, listing in zip(data, original, strict=True)
        ]


class OfferSchema(ListingSchema):
    """An offer: what an organization can give."""

    expires_on = fields.Date(allow_none=True)


class RequestSchema(ListingSchema):
    """A request: what an organization needs, and how urgently."""

    need_by = fields.Date(allow_none=True)
    urgency = fields.Enum(Urgency, by_value=True, required=True)
    accepts_expired = fields.Boolean()


class _Tagged(Schema):
    """A single listing also carries its program and funder tags (lists leave them out, so
    their rows stay one query and one plan)."""

    tags = fields.Method(
        "_tags",
        metadata={
            "type": "array",
            "items": {"type": "string"},
            "nullable": True,
            "description": "program and funding-source tags; null unless the listing is the "
            "caller's (or a coordinator's)",
        },
    )

    def _tags(self, listing: Any) -> list[str] | None:
        """An organization's own tags, for it and for coordinators only."""
        if not sees_site(listing.organization_id, Viewer.of(actor())):
            return None
        return listing_tags(db.session, listing.id)


class OfferItemSchema(_Tagged, OfferSchema):
    """One offer, with its tags."""


class RequestItemSchema(_Tagged, RequestSchema):
    """One request, with its tags."""


ITEM_SCHEMAS: dict[Direction, type[ListingSchema]] = {
    Direction.OFFER: OfferItemSchema,
    Direction.REQUEST: RequestItemSchema,
}

OUTPUT_SCHEMAS: dict[Direction, type[ListingSchema]] = {
    Direction.OFFER: OfferSchema,
    Direction.REQUEST: RequestSchema,
}
