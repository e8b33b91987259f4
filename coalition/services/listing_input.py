"""The input of a listing, shared by the API, the web forms and the CSV import.

Input schemas (`OfferCreateSchema`, `OfferUpdateSchema`, …) check each field and, on create,
the rules between fields. The rules between fields live in `rule_errors` so that an update
can check the listing as it will be once the change is applied. What the API returns is
described in `coalition.blueprints.listings.schemas`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from coalition.extensions import db
from coalition.models.catalog import Category, Kind
from coalition.models.listings import Direction, Urgency, Visibility
from coalition.schema_fields import enum_field
from coalition.services.catalog import category_by_slug
from coalition.services.errors import flatten_errors
from coalition.services.impact import TAG_MAX

POSITIVE_INTEGER = "must be a positive integer"
SUPPLY_FIELDS = ("expires_on", "need_by", "accepts_expired")
STAFFING_FIELDS = ("credentials", "languages", "remote_ok", "windows")
REQUEST_FIELDS = ("need_by", "urgency", "accepts_expired")
MAX_NOTES = 2000
MAX_WINDOWS = 50
MAX_TAGS = 20


SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,79}$"
SLUG = re.compile(SLUG_PATTERN)


class WholeNumber(fields.Integer):
    """An integer given as a JSON integer (120 or 120.0, as JSON Schema counts integers) or
    as digits in a string; never a fraction."""

    default_error_messages = {"invalid": POSITIVE_INTEGER}

    def _validated(self, value: Any) -> int:
        """Refuse booleans, fractions and strings that are not plain digits."""
        if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
            value = int(value)
        if isinstance(value, bool | float):
            raise self.make_error("invalid", input=value)
        if isinstance(value, str) and not re.fullmatch(r"\s*[+-]?\d{1,12}\s*", value):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class CategoryField(fields.String):
    """A category slug on the wire, the active `Category` once loaded."""

    default_error_messages = {
        "unknown": "unknown category",
        "inactive": "this category is no longer in use",
    }

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": SLUG_PATTERN, "minLength": 1, "maxLength": 80}
        super().__init__(**{**kwargs, "metadata": {**metadata, **kwargs.get("metadata", {})}})

    # A String on the wire and in the OpenAPI schema, deliberately a Category once loaded.
    def _deserialize(  # type: ignore[override]
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> Category:
        """Resolve the slug; unknown and inactive categories are errors."""
        slug = super()._deserialize(value, attr, data, **kwargs).strip()
        if not SLUG.fullmatch(slug):  # "" and the like: as documented, never looked up
            raise self.make_error("unknown")
        category = category_by_slug(db.session, slug)
        if category is None:
            raise self.make_error("unknown")
        if not category.active:
            raise self.make_error("inactive")
        return category


CODE = validate.Regexp(
    r"^[a-z0-9][a-z0-9-]{0,59}$", error="use lowercase letters, digits and dashes"
)
LANGUAGE = validate.Regexp(
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", error="must be a language code such as en or es"
)


def _category_field(required: bool) -> CategoryField:
    """The category slug field."""
    return CategoryField(
        required=required,
        metadata={"description": "category slug, e.g. naloxone-nasal-4mg"},
    )


def _quantity_field(required: bool) -> WholeNumber:
    """The quantity field: a positive whole number."""
    return WholeNumber(
        required=required,
        validate=validate.Range(min=1, max=10_000_000, error=POSITIVE_INTEGER),
        metadata={"description": "units for supplies, hours for staffing"},
    )


def _site_fields(allow_none: bool) -> dict[str, fields.Float]:
    """`lat`, `lon` and `max_distance_km`: null (the organization's own) only on creation."""
    null: dict[str, Any] = {"null": "may not be null"}
    return {
        "lat": fields.Float(
            allow_none=allow_none,
            error_messages=null,
            validate=validate.Range(-90, 90, error="must be between -90 and 90"),
        ),
        "lon": fields.Float(
            allow_none=allow_none,
            error_messages=null,
            validate=validate.Range(-180, 180, error="must be between -180 and 180"),
        ),
        "max_distance_km": fields.Float(
            allow_none=allow_none,
            error_messages=null,
            validate=validate.Range(
                min=0, max=20_000, min_inclusive=False, error="must be a positive number of km"
            ),
            metadata={"exclusiveMinimum": 0},  # apispec leaves min_inclusive=False out
        ),
    }


class WindowSchema(Schema):
    """An availability window; both ends carry a UTC offset."""

    start = fields.AwareDateTime(required=True, metadata={"example": "2026-12-01T09:00:00-05:00"})
    end = fields.AwareDateTime(required=True, metadata={"example": "2026-12-01T17:00:00-05:00"})


class ListingInputSchema(Schema):
    """Every input field of a listing, each checked on its own."""

    direction: Direction = Direction.OFFER

    kind = enum_field(Kind, metadata={"description": "supply or staffing"})
    category = _category_field(required=False)
    quantity = _quantity_field(required=False)
    lat = _site_fields(allow_none=True)["lat"]
    lon = _site_fields(allow_none=True)["lon"]
    max_distance_km = _site_fields(allow_none=True)["max_distance_km"]
    notes = fields.String(validate=validate.Length(max=MAX_NOTES))
    visibility = enum_field(Visibility)
    expires_on = fields.Date(
        allow_none=True, metadata={"description": "lot expiry (supply offers)"}
    )
    need_by = fields.Date(allow_none=True, metadata={"description": "supply requests"})
    urgency = enum_field(Urgency, metadata={"description": "requests"})
    accepts_expired = fields.Boolean(metadata={"description": "supply requests"})
    credentials = fields.List(fields.String(validate=CODE), validate=validate.Length(max=20))
    languages = fields.List(fields.String(validate=LANGUAGE), validate=validate.Length(max=20))
    remote_ok = fields.Boolean()
    windows = fields.List(fields.Nested(WindowSchema), validate=validate.Length(max=MAX_WINDOWS))
    tags = fields.List(
        fields.String(
            validate=validate.Length(
                max=TAG_MAX, error=f"each tag may have at most {TAG_MAX} characters"
            )
        ),
        validate=validate.Length(max=MAX_TAGS),
        metadata={
            "description": "your organization's program and funding-source tags; the impact "
            "figures filter by them (a change replaces them all)"
        },
    )


class _CreateMixin:
    """Create schemas require a category and a quantity and check the rules between fields."""

    @validates_schema(skip_on_field_errors=False)
    def _rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Apply `rule_errors` to what was given."""
        errors = rule_errors(self.direction, data, set(data), creating=True)  # type: ignore[attr-defined]
        if errors:
            raise ValidationError(errors)


class OfferCreateSchema(_CreateMixin, ListingInputSchema):
    """A new offer; `org` (a slug) is for coordinators acting for an organization."""

    direction = Direction.OFFER
    org = fields.String(metadata={"description": "organization slug (coordinators only)"})
    category = _category_field(required=True)
    quantity = _quantity_field(required=True)


class RequestCreateSchema(_CreateMixin, ListingInputSchema):
    """A new request; `org` (a slug) is for coordinators acting for an organization."""

    direction = Direction.REQUEST
    org = fields.String(metadata={"description": "organization slug (coordinators only)"})
    category = _category_field(required=True)
    quantity = _quantity_field(required=True)


class SuggestionSchema(ListingInputSchema):
    """A listing being written, for live suggestions: a category, the rest as far as given."""

    category = _category_field(required=True)


class _NoNullSite(Schema):
    """A change cannot clear a listing's site or distance (the columns are NOT NULL), and
    the document says so: on a change they are numbers, never null."""

    lat = _site_fields(allow_none=False)["lat"]
    lon = _site_fields(allow_none=False)["lon"]
    max_distance_km = _site_fields(allow_none=False)["max_distance_km"]


class OfferUpdateSchema(_NoNullSite, ListingInputSchema):
    """A change to an offer: any subset of the fields."""

    direction = Direction.OFFER


class RequestUpdateSchema(_NoNullSite, ListingInputSchema):
    """A change to a request: any subset of the fields."""

    direction = Direction.REQUEST


CREATE_SCHEMAS: dict[Direction, type[Schema]] = {
    Direction.OFFER: OfferCreateSchema,
    Direction.REQUEST: RequestCreateSchema,
}
UPDATE_SCHEMAS: dict[Direction, type[Schema]] = {
    Direction.OFFER: OfferUpdateSchema,
    Direction.REQUEST: RequestUpdateSchema,
}


# ---------------------------------------------------------------- rules between fields


def rule_errors(
    direction: str,
    values: dict[str, Any],
    given: set[str],
    creating: bool = False,
    today: date | None = None,
) -> dict[str, list[str]]:
    """Errors of the listing `values` (what it will be), blaming only the fields `given`."""
    errors: dict[str, list[str]] = {}
    kind = values.get("kind") or _category_kind(values)
    _check_category(values, kind, errors)
    _check_direction_fields(direction, kind, given, values, errors)
    if kind == Kind.STAFFING.value:
        _check_windows(values.get("windows"), creating or "windows" in given, errors)
    need_by = values.get("need_by") if "need_by" in given else None
    if today is not None and need_by is not None and need_by < today:
        errors.setdefault("need_by", []).append("must not be in the past")
    return errors


def _category_kind(values: dict[str, Any]) -> str | None:
    """The kind implied by the category, when no kind was given."""
    category = values.get("category")
    return category.kind.value if isinstance(category, Category) else None


def _check_category(values: dict[str, Any], kind: str | None, errors: dict[str, list[str]]) -> None:
    """The category must be of the listing's kind."""
    category = values.get("category")
    if isinstance(category, Category) and kind and category.kind.value != kind:
        errors.setdefault("category", []).append(
            f"{category.slug} is a {category.kind.value} category, not {kind}"
        )


def _present(values: dict[str, Any], name: str) -> bool:
    """Whether a field was given a value (null and empty lists count as absent)."""
    value = values.get(name)
    return value is not None and value != []


def _check_direction_fields(
    direction: str,
    kind: str | None,
    given: set[str],
    values: dict[str, Any],
    errors: dict[str, list[str]],
) -> None:
    """Lot expiry on supply offers only; request fields on requests; staffing fields on staffing."""
    for name in sorted(given):
        if not _present(values, name):
            continue
        message = _misplaced(direction, kind, name)
        if message:
            errors.setdefault(name, []).append(message)


def _misplaced(direction: str, kind: str | None, name: str) -> str | None:
    """Why a field does not belong on this listing, if it does not."""
    if name == "expires_on" and direction == Direction.REQUEST.value:
        return "a lot expiry only applies to offers"
    if name in REQUEST_FIELDS and direction == Direction.OFFER.value:
        return "only applies to requests"
    if name in SUPPLY_FIELDS and kind == Kind.STAFFING.value:
        return "only applies to supply listings"
    if name in STAFFING_FIELDS and kind == Kind.SUPPLY.value:
        return "only applies to staffing listings"
    return None


def _check_windows(windows: Any, required: bool, errors: dict[str, list[str]]) -> None:
    """Staffing listings need at least one window, each ending after it starts."""
    if not windows:
        if required:
            errors.setdefault("windows", []).append("give at least one availability window")
        return
    for number, window in enumerate(windows, start=1):
        start, end = window.get("start"), window.get("end")
        if start is not None and end is not None and end <= start:
            errors.setdefault("windows", []).append(
                f"window {number}: the end must be after the start"
            )


def load_errors(error: ValidationError) -> dict[str, list[str]]:
    """A marshmallow error as `{field: [messages]}`, nested fields flattened."""
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    return flatten_errors(messages)
