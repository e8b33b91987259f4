"""A listing as plain data: the revision snapshot, its history, and the engine's JSON shape."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from coalition.models.catalog import Kind
from coalition.models.listings import Listing, ListingRevision, Urgency
from coalition.sessions import Session


def snapshot(listing: Listing) -> dict[str, Any]:
    """Every column of the listing, JSON-ready, for the revision history."""
    return {column.key: _jsonable(getattr(listing, column.key)) for column in Listing.__table__.c}


def _jsonable(value: Any) -> Any:
    """Dates as ISO strings, enums as their values."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)
    return value


def revisions(session: Session, listing: Listing) -> list[ListingRevision]:
    """A listing's history, newest first."""
    return list(
        session.scalars(
            sa.select(ListingRevision)
            .where(ListingRevision.listing_id == listing.id)
            .order_by(ListingRevision.version.desc())
        )
    )


def listing_to_problem_dict(listing: Listing) -> dict[str, Any]:
    """The listing in the JSON shape of MATCHING.md; `quantity` is what is still available."""
    item: dict[str, Any] = {
        "id": str(listing.id),
        "org": listing.organization.slug,
        "kind": listing.kind.value,
        "category": listing.category.slug,
        "quantity": listing.available,
        "lat": listing.lat,
        "lon": listing.lon,
        "max_distance_km": listing.max_distance_km,
    }
    if not listing.is_offer:
        item["urgency"] = (listing.urgency or Urgency.NORMAL).value
    if listing.kind == Kind.STAFFING:
        item.update(_staffing_problem_fields(listing))
    elif listing.is_offer:
        item["expires_on"] = listing.expires_on.isoformat() if listing.expires_on else None
    else:
        item["need_by"] = listing.need_by.isoformat() if listing.need_by else None
        item["accepts_expired"] = bool(listing.accepts_expired)
    return item


def _staffing_problem_fields(listing: Listing) -> dict[str, Any]:
    """Credentials, languages, remote flag and `[start, end]` window pairs."""
    return {
        "credentials": list(listing.credentials or []),
        "languages": list(listing.languages or []),
        "remote_ok": bool(listing.remote_ok),
        "windows": [[w["start"], w["end"]] for w in listing.windows or []],
    }
