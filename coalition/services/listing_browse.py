"""Browsing listings: the filters of a browse page, an export or an API list, and distances."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import Select

from coalition.actors import Actor
from coalition.matching.geo import haversine_km
from coalition.models.catalog import Category, Kind
from coalition.models.listings import Direction, Listing, ListingStatus, Urgency
from coalition.models.organizations import Organization
from coalition.services.listing_access import visible_listings_query


@dataclass
class ListingFilters:
    """What a browse page, an export or an API list narrows listings by."""

    direction: str | None = None
    kind: str | None = None
    category: str | None = None
    urgency: str | None = None
    org: str | None = None
    statuses: list[str] = field(default_factory=list)
    q: str | None = None
    within_km: float | None = None
    origin: tuple[float, float] | None = None


def filtered_query(actor: Actor | None, filters: ListingFilters) -> Select[Listing]:
    """Visible listings narrowed by the filters (distance is applied by `within_distance`)."""
    query = visible_listings_query(actor).join(Listing.category).join(Listing.organization)
    for condition in _conditions(filters):
        query = query.where(condition)
    if filters.org and not _names_all(actor):
        # others' listings carry no name unless shown: filtering by one would put it back
        query = query.where(_named_to(actor))
    if filters.q:
        needle = filters.q.strip().lower()
        searched = [sa.func.lower(c).contains(needle, autoescape=True) for c in _SEARCHED]
        if not _names_all(actor):
            searched[-1] = sa.and_(_named_to(actor), searched[-1])
        query = query.where(sa.or_(*searched))
    if filters.within_km and filters.origin:
        query = query.where(*_bounding_box(filters.origin, filters.within_km))
    return query.order_by(Listing.created_at.desc(), Listing.id.desc())


_SEARCHED = (Listing.notes, Category.plain_label, Category.neutral_label, Organization.name)


def _named_to(actor: Actor | None) -> Any:
    """Listings whose organization the actor sees named: its own and those showing their name."""
    own = Listing.organization_id == getattr(actor, "organization_id", None)
    return sa.or_(own, Organization.show_name.is_(True))


def _names_all(actor: Actor | None) -> bool:
    """Coordinators find listings by organization; others only their own (discretion)."""
    return bool(getattr(actor, "is_coordinator", False))


def _conditions(filters: ListingFilters) -> list[Any]:
    """SQL conditions for the simple equality filters."""
    conditions: list[Any] = []
    if filters.direction:
        conditions.append(Listing.direction == Direction(filters.direction))
    if filters.kind:
        conditions.append(Listing.kind == Kind(filters.kind))
    if filters.category:
        conditions.append(Category.slug == filters.category)
    if filters.urgency:
        conditions.append(Listing.urgency == Urgency(filters.urgency))
    if filters.org:
        conditions.append(Organization.slug == filters.org)
    if filters.statuses:
        conditions.append(Listing.status.in_([ListingStatus(s) for s in filters.statuses]))
    return conditions


def _bounding_box(origin: tuple[float, float], km: float) -> list[Any]:
    """A cheap SQL pre-filter: latitude and longitude within `km` of the origin."""
    lat, lon = origin
    dlat = km / 111.0
    dlon = km / max(111.0 * math.cos(math.radians(lat)), 1e-6)
    return [
        Listing.lat.between(lat - dlat, lat + dlat),
        Listing.lon.between(lon - dlon, lon + dlon),
    ]


def with_distances(
    listings: list[Listing], filters: ListingFilters
) -> list[tuple[Listing, float | None]]:
    """Each listing with its distance from the origin, keeping those within range."""
    if filters.origin is None:
        return [(listing, None) for listing in listings]
    rows: list[tuple[Listing, float | None]] = [
        (listing, haversine_km(*filters.origin, listing.lat, listing.lon)) for listing in listings
    ]
    if filters.within_km:
        rows = [(listing, d) for listing, d in rows if d is not None and d <= filters.within_km]
    return rows
